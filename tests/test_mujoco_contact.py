"""Foot contact and coordinate limits on both engines (osim.engine.mujoco.contact), real OpenSim and MuJoCo."""
from __future__ import annotations

import json
import math

import mujoco
import numpy as np
import pytest

from osim.engine.mujoco.contact import (
    LIMIT_OFFSETS_DEG,
    SphereProbe,
    contact_spheres,
    limit_sweeps,
    main,
    model_description,
    stand,
    stand_description,
)
from osim.engine.mujoco.report import contact_tables

PLANAR = "gait14dof22musc_planar_20170320"


@pytest.fixture(scope="module")
def planar():
    return model_description(PLANAR)


@pytest.fixture(scope="module")
def planar_stand(planar):
    return stand(planar)


def test_both_engines_stand_carrying_body_weight(planar, planar_stand):
    """Measured (benchmarks/results/mujoco_contact_*.json): the settled stand carries its weight to
    0.01 % on both engines; OpenSim's spheres sink 19-21 mm, MuJoCo's 0.6-1 mm."""
    assert planar_stand["weight_N"] == pytest.approx(737.1, abs=0.5)
    spheres = contact_spheres(stand_description(planar))
    for engine in ("opensim", "mujoco"):
        entry = planar_stand[engine]
        assert entry["total_over_weight"] == pytest.approx(1.0, abs=0.03), engine
        assert abs(entry["pelvis_speed_m_s"]) < 0.01, engine  # settled
        for sphere, depth in entry["depth_mm"].items():
            assert 0.0 < depth < 1000 * spheres[sphere]["radius"], (engine, sphere, depth)
            assert entry["vertical_force_N"][sphere] > 0.0, (engine, sphere)
    # Hunt-Crossley at 5e5 N/m^1.5 needs centimetres of penetration for the body's weight, MuJoCo's
    # default soft contact about a millimetre
    assert min(planar_stand["opensim"]["depth_mm"].values()) > 5 * max(planar_stand["mujoco"]["depth_mm"].values())
    assert all(np.isfinite(v) for v in planar_stand["mujoco"]["coupling_violation_mm"].values())


def test_sphere_laws_follow_their_models(planar):
    """OpenSim's Hunt-Crossley force grows as depth^1.5, so the depth carrying a weight grows as
    weight^(2/3); MuJoCo's soft contact scales with the mass behind it, so the resting depth is the
    same for every load (found by inverse dynamics, checked against a forward simulation)."""
    light, heavy = SphereProbe(planar, "r_heel", 1.25), SphereProbe(planar, "r_heel", 12.5)
    depths = np.linspace(0.001, 0.02, 8)
    for probe in (light, heavy):
        for force in (probe.opensim_force, probe.mujoco_force):
            values = [force(d, 0.0) for d in depths]
            assert np.all(np.isfinite(values)) and np.all(np.diff(values) > 0)
        assert probe.opensim_force(0.005, 0.5) > probe.opensim_force(0.005, 0.0) > probe.opensim_force(0.005, -0.1)
    ratio = heavy.resting_depth("opensim") / light.resting_depth("opensim")
    assert ratio == pytest.approx(10.0 ** (2 / 3), rel=0.01)
    assert heavy.resting_depth("mujoco") == pytest.approx(light.resting_depth("mujoco"), rel=1e-6)
    # forward: dropped from 1 cm above, settled after 2 s at the depth the inverse dynamics gave
    model, data = heavy.model, heavy.data
    mujoco.mj_resetData(model, data)
    data.qpos[heavy.joint.qposadr[0]] = heavy.radius + 0.01
    mujoco.mj_step(model, data, nstep=1000)
    settled = heavy.radius - data.qpos[heavy.joint.qposadr[0]]
    assert settled == pytest.approx(heavy.resting_depth("mujoco"), rel=0.02)


def test_limit_forces_vanish_inside_and_push_back_past_the_limits(planar):
    """Both engines: no force inside the range, a restoring force past each limit. OpenSim's
    CoordinateLimitForce reaches its full stiffness past its transition (20 N m/deg x 20 deg =
    400 N m); MuJoCo's limit is linear from the limit on."""
    sweeps = limit_sweeps(planar)
    assert {"HipLimit_r", "KneeLimit_r", "AnkleLimit_l"} <= set(sweeps)
    inside = [i for i, offset in enumerate(LIMIT_OFFSETS_DEG) if offset < 0]
    past = [i for i, offset in enumerate(LIMIT_OFFSETS_DEG) if offset > 0]
    for name, entry in sweeps.items():
        for side, sign in (("lower", 1.0), ("upper", -1.0)):
            for engine in ("opensim_N_m", "mujoco_N_m"):
                values = np.array(entry[side][engine])
                assert np.all(np.isfinite(values)), (name, side, engine)
                assert np.all(values[inside] == 0.0), (name, side, engine)
                assert np.all(sign * values[past] > 0.0), (name, side, engine)
            theirs, ours = entry[side]["opensim_N_m"], entry[side]["mujoco_N_m"]
            at = {offset: i for i, offset in enumerate(LIMIT_OFFSETS_DEG)}
            assert abs(theirs[at[20.0]]) == pytest.approx(entry["stiffness_N_m_per_deg"][side] * 20.0, rel=0.01)
            assert ours[at[10.0]] == pytest.approx(2.0 * ours[at[5.0]], rel=0.01)


def test_contact_command_writes_its_measurement(tmp_path, capsys):
    out = tmp_path / "contact.json"
    assert main(["--model", "gait9dof18musc", "--out", str(out), "--stand-seconds", "0.5"]) == 0
    report = json.loads(out.read_text())
    assert report["stand"]["seconds"] == 0.5
    assert report["model"] == "gait9dof18musc" and set(report["sphere"]) == {"r_heel"}
    assert report["mujoco_constraint_parameters"]["contact_solref"] == [0.02, 1.0]
    table = contact_tables([report])
    assert "| gait9dof18musc | KneeLimit_r lower / upper (-140 / 10) |" in table
    assert "KneeLimit_r" in capsys.readouterr().out
    assert math.isfinite(report["stand"]["mujoco"]["total_vertical_force_N"])

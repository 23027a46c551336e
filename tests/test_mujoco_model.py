"""The MuJoCo models built from the model descriptions, against the real OpenSim models."""
from __future__ import annotations

import sys

import mujoco
import numpy as np
import pytest

from osim.engine.mujoco import (
    MujocoMissingError,
    build_mjcf,
    load_model,
    model_description,
    require_mujoco,
)
from osim.engine.mujoco.fit import fit_model, fitted_points
from osim.engine.mujoco.fit import main as fit_main
from osim.engine.mujoco.mjcf import fitted_parameters, muscle_fingerprint
from osim.engine.mujoco.parity import (
    MujocoProbe,
    OpenSimProbe,
    force_table,
    moment_arm_table,
    mujoco_force_grid,
    muscles,
    opensim_force_grid,
    posture_grid,
)
from osim.engine.mujoco.simulate import rollout, set_controls, set_posture
from osim.models import UnknownModelError
from osim.models.builder import build

FAMILIES = ["gait9dof18musc", "gait14dof22musc_20170320", "gait14dof22musc_pros_20180507",
            "arm2dof6musc", "hop8dof9musc"]


def coupled_joints(model: mujoco.MjModel) -> int:
    """Joints driven by another joint through an equality (the knee translations)."""
    return sum(1 for i in range(model.neq)
               if model.eq_type[i] == mujoco.mjtEq.mjEQ_JOINT and model.eq_obj2id[i] >= 0)


@pytest.fixture(scope="module")
def gait2d():
    description = model_description("gait9dof18musc")
    return description, OpenSimProbe(description), MujocoProbe(description)


@pytest.mark.parametrize("name", FAMILIES)
def test_model_loads_and_matches_opensim_sizes(name):
    description = model_description(name)
    model = load_model(description)
    opensim_model = build(description)
    state = opensim_model.initSystem()
    assert model.nbody - 1 == opensim_model.getBodySet().getSize()
    assert sum(model.body_mass) == pytest.approx(opensim_model.getTotalMass(state), rel=1e-12)
    assert model.nq == model.nv == opensim_model.getNumCoordinates() + coupled_joints(model)
    muscle_names = [opensim_model.getMuscles().get(i).getName() for i in range(opensim_model.getMuscles().getSize())]
    assert [model.actuator(i).name for i in range(model.nu)] == muscle_names


@pytest.mark.parametrize("name", ["gait9dof18musc", "gait14dof22musc_20170320"])
def test_body_poses_match_opensim(name):
    description = model_description(name)
    opensim_probe, probe = OpenSimProbe(description), MujocoProbe(description)
    rng = np.random.default_rng(3)
    free = [c["name"] for j in description["joints"] for c in j.get("coordinates", []) if not c.get("locked")]
    for _ in range(3):
        posture = {name: float(rng.uniform(-0.8, 0.8)) for name in free}
        opensim_probe.pose(posture)
        probe.pose(posture)
        bodies = opensim_probe.model.getBodySet()
        for index in range(bodies.getSize()):
            body = bodies.get(index)
            expected = body.getPositionInGround(opensim_probe.state).to_numpy()
            actual = probe.data.xpos[probe.model.body(body.getName()).id]
            # the quartic knee couplings deviate from the splines by <= 0.3 mm per axis; the
            # rotated femur carries that to up to 0.5 mm
            np.testing.assert_allclose(actual, expected, atol=1e-3, err_msg=body.getName())


def test_every_2d_muscle_has_a_stored_fit():
    description = model_description("gait9dof18musc")
    assert all(fitted_parameters(description, m) is not None for m in muscles(description))
    assert build_mjcf(description) != build_mjcf(description, fitted=False)


@pytest.mark.parametrize("muscle", ["bifemsh_r", "iliopsoas_r", "soleus_r", "gastroc_l"])
def test_moment_arms_within_5mm(gait2d, muscle):
    description, opensim_probe, probe = gait2d
    table = moment_arm_table(description, opensim_probe, probe)
    for coordinate, error in table[muscle].items():
        assert error["rms_mm"] <= 5.0, (muscle, coordinate, error)


def test_forces_within_measured_bound(gait2d):
    """Measured (benchmarks/results/mujoco_parity_gait9dof18musc.json, 120 postures): mean errors
    0.005-0.035 Fmax per muscle. Checked here on another posture grid."""
    description, opensim_probe, probe = gait2d
    postures = posture_grid(description, 15, seed=7)
    table = force_table(description, opensim_force_grid(description, opensim_probe, postures),
                        mujoco_force_grid(probe, postures))
    for name in ("bifemsh_r", "iliopsoas_r", "soleus_r", "vasti_l"):
        assert table[name]["mean"] <= 0.05, (name, table[name])


def test_direct_mapping_is_worse_than_the_fit(gait2d):
    description, opensim_probe, _ = gait2d
    direct = moment_arm_table(description, opensim_probe, MujocoProbe(description, fitted=False))
    assert direct["iliopsoas_r"]["hip_flexion_r"]["rms_mm"] > 10.0  # frozen conditional point


@pytest.fixture(scope="module")
def gait3d():
    description = model_description("gait14dof22musc_20170320")
    return description, OpenSimProbe(description), MujocoProbe(description)


def test_every_3d_muscle_has_a_stored_fit():
    description = model_description("gait14dof22musc_20170320")
    assert all(fitted_parameters(description, m) is not None for m in muscles(description))


def test_3d_moment_arms_within_5mm(gait3d):
    """Measured (benchmarks/results/mujoco_parity_gait14dof22musc_20170320.json): all 40 pairs
    within 5 mm RMS, iliopsoas at hip adduction 2.6 mm (6.8 while only its conditional point's
    site was fitted) and at hip flexion 3.7 mm."""
    description, opensim_probe, probe = gait3d
    table = moment_arm_table(description, opensim_probe, probe)
    assert len([pair for per_muscle in table.values() for pair in per_muscle]) == 40
    for muscle, coordinates in table.items():
        for coordinate, error in coordinates.items():
            assert error["rms_mm"] <= 5.0, (muscle, coordinate, error)
    for side in "rl":
        assert table[f"iliopsoas_{side}"][f"hip_adduction_{side}"]["rms_mm"] <= 5.0
        assert table[f"iliopsoas_{side}"][f"hip_flexion_{side}"]["rms_mm"] <= 5.0


def test_3d_iliopsoas_forces_within_goal(gait3d):
    """Measured: iliopsoas 0.0076 Fmax mean with its refitted sites (the goal is 0.05)."""
    description, opensim_probe, probe = gait3d
    postures = posture_grid(description, 15, seed=7)
    table = force_table(description, opensim_force_grid(description, opensim_probe, postures),
                        mujoco_force_grid(probe, postures))
    for name in ("iliopsoas_r", "iliopsoas_l"):
        assert table[name]["mean"] <= 0.05, (name, table[name])


PROSTHESIS_THIGH = ("hamstrings_r", "bifemsh_r", "rect_fem_r", "vasti_r")


@pytest.mark.parametrize("preset", ["gait14dof22musc_pros_20180507", "gait14dof22musc_planar_pros_20180507"])
def test_prosthesis_thigh_muscles_within_goal(preset):
    """Measured (benchmarks/results/mujoco_parity_<preset>.json): the right-thigh muscles, whose
    path ends on the prosthetic tibia, at the knee 2.2-2.8 mm RMS fitted (rect_fem 33.6, vasti
    36.1 mm on the direct mapping), force error 0.005-0.035 Fmax mean; the planar prosthesis model
    takes the 3D prosthesis model's fit. Checked here: every pair of those muscles within 5 mm RMS
    on the parity sweeps, the force within 0.05 Fmax on another grid of 120 postures (a mean over
    15 postures scatters too much: 0.03-0.06 for hamstrings_r, as for the intact 3D rect_fem)."""
    description = model_description(preset)
    thigh = [m for m in muscles(description) if m["name"] in PROSTHESIS_THIGH]
    assert all(fitted_parameters(description, m) is not None for m in thigh)
    assert all(m["path"]["points"][-1]["frame"] == "/bodyset/pros_tibia_r" for m in thigh)
    opensim_probe, probe = OpenSimProbe(description), MujocoProbe(description)
    table = moment_arm_table(description, opensim_probe, probe)
    for name in PROSTHESIS_THIGH:
        assert "knee_angle_r" in table[name]
        for coordinate, error in table[name].items():
            assert error["rms_mm"] <= 5.0, (name, coordinate, error)
    postures = posture_grid(description, 120, seed=7)
    forces = force_table(description, opensim_force_grid(description, opensim_probe, postures),
                         mujoco_force_grid(probe, postures))
    for name in PROSTHESIS_THIGH:
        assert forces[name]["mean"] <= 0.05, (name, forces[name])


def test_prosthesis_fit_is_needed():
    """Without the fit (the direct mapping) the prosthetic knee's extensors are 30+ mm off."""
    description = model_description("gait14dof22musc_pros_20180507")
    direct = moment_arm_table(description, OpenSimProbe(description), MujocoProbe(description, fitted=False))
    assert direct["vasti_r"]["knee_angle_r"]["rms_mm"] > 20.0
    assert direct["rect_fem_r"]["knee_angle_r"]["rms_mm"] > 20.0


def test_only_the_3d_hip_fits_the_point_across_the_joint():
    """A conditional point whose joint has a second free coordinate (the 3D hip) has the femur
    point after it fitted too; the planar and 2D hips (flexion only) do not."""
    def names(preset):
        description = model_description(preset)
        muscle = next(m for m in muscles(description) if m["name"] == "iliopsoas_r")
        return [point["name"] for point in fitted_points(description, muscle)]

    assert names("gait14dof22musc_20170320") == ["psoas_r-P3", "psoas_r-P4"]
    assert names("gait14dof22musc_planar_20170320") == ["psoas_r-P3"]
    assert names("gait9dof18musc") == ["psoas_r-P3"]


def test_planar_model_keeps_its_frozen_fit():
    """The planar model (a PPO policy and reflex parameters were tuned on it) builds from its own
    frozen fit, not from the refitted 3D one; a model with its locks (the planar prosthesis) takes
    the frozen fit, one with the 3D locks the 3D fit."""
    def fit(preset, muscle="iliopsoas_r"):
        description = model_description(preset)
        return fitted_parameters(description, next(m for m in muscles(description) if m["name"] == muscle))

    planar, full = fit("gait14dof22musc_planar_20170320"), fit("gait14dof22musc_20170320")
    assert planar["fingerprint"] != full["fingerprint"]
    assert set(planar["sites"]) == {"psoas_r-P3"} and set(full["sites"]) == {"psoas_r-P3", "psoas_r-P4"}
    assert fit("gait14dof22musc_planar_pros_20180507")["sites"] == planar["sites"]
    assert fit("gait14dof22musc_pros_20180507")["sites"] == full["sites"]
    description = model_description("gait14dof22musc_planar_20170320")
    assert all(fitted_parameters(description, m)["fingerprint"] == muscle_fingerprint(description, m)
               for m in muscles(description))


def test_frozen_fit_is_not_refitted_by_default():
    with pytest.raises(SystemExit, match="frozen fit"):
        fit_main(["--model", "gait14dof22musc_planar_20170320"])


def test_refit_of_a_model_without_a_fit_file_holds_only_those_muscles():
    """The prosthesis fit was made this way: the other muscles keep the fit they borrow."""
    result = fit_model("gait9dof18musc_pros_20180507", refit=["bifemsh_r"])
    assert set(result["muscles"]) == {"bifemsh_r", "bifemsh_l"}  # with its mirrored partner
    assert result["regenerate"].endswith("--refit bifemsh_r")
    right, left = result["muscles"]["bifemsh_r"], result["muscles"]["bifemsh_l"]
    assert right["muscle"] == left["muscle"] and right["fingerprint"] != left["fingerprint"]


def test_refit_of_an_unknown_muscle_is_a_clear_error():
    with pytest.raises(ValueError, match=r"no muscle \['psoas'\]; expected some of"):
        fit_model("gait9dof18musc", refit=["psoas"])


def test_rollouts_are_deterministic():
    model = load_model("gait9dof18musc")
    controls = np.random.default_rng(0).uniform(0, 1, (20, model.nu))
    first, second = rollout(model, controls, substeps=5), rollout(model, controls, substeps=5)
    assert np.array_equal(first, second)
    assert not np.allclose(first[0], first[-1])  # it moved


def test_default_keyframe_is_the_opensim_default_posture():
    model = load_model("gait9dof18musc")
    data = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, data, 0)
    assert data.qpos[model.joint("pelvis_ty").qposadr[0]] == pytest.approx(0.91)
    assert data.qpos[model.joint("pelvis_tilt").qposadr[0]] == pytest.approx(-0.05)


def test_unknown_model_is_a_clear_error():
    with pytest.raises(UnknownModelError, match="unknown model 'walker'; expected one of"):
        build_mjcf("walker")
    with pytest.raises(ValueError, match="expected a model description"):
        build_mjcf({"bodies": []})


def test_wrong_controls_are_a_clear_error():
    model = load_model("gait9dof18musc")
    data = mujoco.MjData(model)
    with pytest.raises(ValueError, match="expected 18 controls"):
        set_controls(model, data, np.zeros(17))
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        set_controls(model, data, np.full(18, 2.0))
    with pytest.raises(KeyError, match="no coordinate 'elbow'"):
        set_posture(model, data, {"elbow": 0.1})


def test_missing_mujoco_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mujoco", None)  # what Python does for an absent package
    with pytest.raises(MujocoMissingError, match=r"pip install 'osim-rl\[mujoco\]'"):
        require_mujoco()


def test_joint_equalities_give_numpys_polynomial_values():
    """apply_joint_equalities (every reset) evaluates each coupling's polynomial in Python floats in
    numpy.polynomial's Horner order: the same bits as polyval, at random postures of both gait models."""
    from osim.engine.mujoco.engine import MujocoSimulation
    from osim.engine.mujoco.simulate import apply_joint_equalities
    from osim.models import model_path

    rng = np.random.default_rng(3)
    for name in ("gait14dof22musc_20170320", "gait9dof18musc"):
        model = MujocoSimulation(model_path(name)).mj_model
        data = mujoco.MjData(model)
        coupled = 0
        for _ in range(200):
            data.qpos[:] = model.qpos0 + rng.uniform(-2, 2, model.nq)
            apply_joint_equalities(model, data)
            for index in range(model.neq):
                driver = model.eq_obj2id[index]
                if model.eq_type[index] != mujoco.mjtEq.mjEQ_JOINT or driver < 0:
                    continue
                x = data.qpos[model.jnt_qposadr[driver]] - model.qpos0[model.jnt_qposadr[driver]]
                address = model.jnt_qposadr[model.eq_obj1id[index]]
                expected = model.qpos0[address] + np.polynomial.polynomial.polyval(x, model.eq_data[index, :5])
                assert data.qpos[address].tobytes() == np.float64(expected).tobytes()
                coupled += 1
        assert coupled > 0

"""The model library's public interface: presets, options, cache, display geometry, CLI."""
from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
from pathlib import Path

import numpy as np
import opensim
import pytest

from osim import models
from osim.cli import main as osim_main
from osim.models import patch
from osim.models.compare import differences, model_tree

opensim.Logger.setLevelString("error")

PRESETS = ["arm2dof6musc", "arm2dof6musc_2018", "gait14dof22musc_20170320",
           "gait14dof22musc_planar_20170320", "gait14dof22musc_planar_pros_20180507",
           "gait14dof22musc_pros_20180507", "gait9dof18musc", "gait9dof18musc_20170320",
           "gait9dof18musc_pros_20180507", "hop8dof9musc"]


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("OSIM_RL_MODEL_CACHE", str(cache))
    return cache


def body_mass(model: opensim.Model) -> float:
    bodies = model.getBodySet()
    return sum(bodies.get(i).getMass() for i in range(bodies.getSize()))


def test_list_models_names_every_preset_with_the_published_masses() -> None:
    entries = {entry["name"]: entry for entry in models.list_models()}
    assert sorted(entries) == PRESETS
    # Masses as published in the behavioural spec (section 1) of the original models.
    assert entries["gait9dof18musc"]["mass"] == pytest.approx(79.66, abs=0.01)
    assert entries["hop8dof9musc"]["mass"] == pytest.approx(79.66, abs=0.01)
    assert entries["gait14dof22musc_20170320"]["mass"] == pytest.approx(75.1646, abs=1e-4)
    assert entries["gait14dof22musc_pros_20180507"]["mass"] == pytest.approx(72.17, abs=0.01)


def test_model_path_builds_once_and_accepts_file_names(private_cache: Path, capfd) -> None:
    first = models.model_path("gait9dof18musc.osim")
    assert isinstance(first, str)  # what opensim.Model takes (it rejects a pathlib.Path)
    assert "building the model gait9dof18musc (first use" in capfd.readouterr().err  # says what it does
    assert Path(first).parent == private_cache and Path(first).suffix == ".osim"
    stamp = Path(first).stat().st_mtime_ns
    assert models.model_path("gait9dof18musc") == first
    assert capfd.readouterr().err == ""  # from the cache: silent
    assert Path(first).stat().st_mtime_ns == stamp  # taken from the cache, not rebuilt
    assert models.model_path("gait9dof18musc", geometry=False) != first
    model = opensim.Model(first)
    state = model.initSystem()
    model.equilibrateMuscles(state)
    assert model.getMuscles().getSize() == 18
    assert list(private_cache.glob(".*")) == []  # no temporary files left behind


def _build_in_subprocess(cache: str) -> str:
    import os

    os.environ["OSIM_RL_MODEL_CACHE"] = cache
    import osim.models

    return str(osim.models.model_path("arm2dof6musc"))


def test_parallel_builds_of_the_same_model_agree(private_cache: Path) -> None:
    context = multiprocessing.get_context("spawn")
    with context.Pool(3) as pool:
        paths = pool.map(_build_in_subprocess, [str(private_cache)] * 3)
    assert len(set(paths)) == 1
    model = opensim.Model(paths[0])
    model.initSystem()
    assert model.getMuscles().getSize() == 6
    assert [p.name for p in private_cache.iterdir()] == [Path(paths[0]).name]


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: models.model_path("gait2392"), models.UnknownModelError, "gait9dof18musc"),
        (lambda: models.model_path("gait9dof18musc", colour="red"), TypeError, "muscle_model"),
        (lambda: models.model_path("gait9dof18musc", planar=False), ValueError, "planar"),
        (lambda: models.model_path("arm2dof6musc", prosthesis=True), ValueError, "prosthesis"),
        (lambda: models.model_path("gait9dof18musc", muscle_model="Hill"), ValueError, "Thelen2003"),
        (lambda: models.model_path("gait9dof18musc", height=-1.7), ValueError, "positive"),
        (lambda: models.model_path("arm2dof6musc", height=1.7), ValueError, "gait"),
        (lambda: models.model_path("gait9dof18musc", prosthesis="yes"), TypeError, "True"),
    ],
)
def test_bad_input_gets_a_clear_error(call, error, message) -> None:
    with pytest.raises(error, match=message):
        call()


def same_model_except_name(ours: opensim.Model, theirs: opensim.Model) -> list[str]:
    a, b = model_tree(ours), model_tree(theirs)
    a.attrib, b.attrib = {}, {}
    return differences(a, b, ignore=frozenset({"credits"}))


@pytest.mark.parametrize(
    ("preset", "options", "equivalent"),
    [
        ("gait14dof22musc_20170320", {"prosthesis": True}, "gait14dof22musc_pros_20180507"),
        ("gait14dof22musc_20170320", {"planar": True}, "gait14dof22musc_planar_20170320"),
        ("gait14dof22musc_pros_20180507", {"planar": True}, "gait14dof22musc_planar_pros_20180507"),
        ("gait14dof22musc_planar_pros_20180507", {"prosthesis": False, "planar": False},
         "gait14dof22musc_20170320"),
        ("gait9dof18musc_20170320", {"prosthesis": True}, "gait9dof18musc_pros_20180507"),
    ],
)
def test_variant_options_give_the_corresponding_preset(preset, options, equivalent) -> None:
    ours = models.build_model(preset, **options)
    theirs = models.build_model(equivalent)
    ours.initSystem()
    theirs.initSystem()
    found = same_model_except_name(ours, theirs)
    assert found == [], found[:5]


def test_prosthesis_replaces_the_right_shank() -> None:
    model = models.build_model("gait14dof22musc_20170320", prosthesis=True)
    model.initSystem()
    bodies = {model.getBodySet().get(i).getName() for i in range(model.getBodySet().getSize())}
    assert {"pros_tibia_r", "pros_foot_r"} <= bodies and not {"tibia_r", "calcn_r"} & bodies
    muscles = [model.getMuscles().get(i).getName() for i in range(model.getMuscles().getSize())]
    assert len(muscles) == 19 and not {"gastroc_r", "soleus_r", "tib_ant_r"} & set(muscles)
    assert model.getForceSet().contains("ankleSpring")


def short_run(model: opensim.Model, steps: int, level: float = 0.2) -> np.ndarray:
    sys.path.insert(0, str(Path(__file__).parent))
    from test_models_equivalence import trajectory

    model.initSystem()
    excitations = np.full((steps, model.getMuscles().getSize()), level)
    return trajectory(model, excitations)


@pytest.mark.parametrize(("muscle_model", "class_name"),
                         [("Millard2012Equilibrium", "Millard2012EquilibriumMuscle"),
                          ("DeGrooteFregly2016", "DeGrooteFregly2016Muscle")])
def test_other_muscle_models_build_and_simulate(muscle_model: str, class_name: str) -> None:
    thelen = models.build_model("gait14dof22musc_20170320")
    model = models.build_model("gait14dof22musc_20170320", muscle_model=muscle_model)
    model.initSystem()
    thelen.initSystem()
    for i in range(model.getMuscles().getSize()):
        muscle, original = model.getMuscles().get(i), thelen.getMuscles().get(i)
        assert muscle.getConcreteClassName() == class_name
        assert muscle.getName() == original.getName()
        assert muscle.getMaxIsometricForce() == original.getMaxIsometricForce()
        assert muscle.getTendonSlackLength() == original.getTendonSlackLength()
    states = short_run(model, 10)
    assert np.all(np.isfinite(states))
    from test_models_equivalence import state_index

    pelvis_height = states[-1, state_index(model, "/pelvis_ty/value")]
    assert 0.7 < pelvis_height < 1.1


def test_display_geometry_covers_every_massive_body_and_leaves_dynamics_alone() -> None:
    description = models.model_description("gait14dof22musc_pros_20180507")
    massive = {b["name"] for b in description["bodies"] if b["mass"] > 0}
    assert massive <= set(description["display"])
    for shapes in description["display"].values():
        for shape in shapes:
            assert all(0.015 <= r <= 0.3 for r in shape["radii"]), shape
    with_shapes = models.build_model("arm2dof6musc")
    without = models.build_model("arm2dof6musc", geometry=False)
    shown = with_shapes.getBodySet().get("r_humerus")
    assert shown.getComponent("r_humerus_display_1").getPropertyByName("attached_geometry").size() == 1
    np.testing.assert_array_equal(short_run(with_shapes, 20), short_run(without, 20))


def test_cli_lists_and_exports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert osim_main(["models", "list"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in PRESETS)
    out = tmp_path / "subject.osim"
    code = osim_main(["models", "export", "gait14dof22musc_20170320", str(out), "--prosthesis",
                      "--height", "1.7", "--mass", "70", "--muscle-model", "DeGrooteFregly2016"])
    assert code == 0 and out.is_file()
    model = opensim.Model(str(out))
    state = model.initSystem()
    model.equilibrateMuscles(state)
    assert body_mass(model) == pytest.approx(70.0, rel=1e-12)
    assert model.getMuscles().get(0).getConcreteClassName() == "DeGrooteFregly2016Muscle"
    assert osim_main(["models", "export", "gait2392", str(tmp_path / "x.osim")]) == 2
    assert "unknown model" in capsys.readouterr().err
    assert osim_main(["models", "export", "arm2dof6musc", str(tmp_path / "x.txt")]) == 2


def test_cli_entry_point_runs_as_a_program(tmp_path: Path) -> None:
    out = tmp_path / "arm.osim"
    result = subprocess.run([sys.executable, "-m", "osim.cli", "models", "export", "arm2dof6musc_2018",
                             str(out)], check=False, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert opensim.Model(str(out)).getName() == "arm26_optimize"


def test_patch_round_trip_and_errors() -> None:
    old = {"bodies": [{"name": "a", "mass": 1.0}, {"name": "b", "mass": 2.0}],
           "model": {"name": "m", "gravity": [0.0, -9.8, 0.0]}}
    new = {"bodies": [{"name": "a", "mass": 1.5}, {"name": "c", "mass": 3.0}],
           "model": {"name": "n", "gravity": [0.0, -9.8, 0.0], "credits": "x"}}
    change = patch.diff(old, new)
    assert patch.apply(old, change) == new
    assert change["remove"] == ["bodies/b"] and change["set"]["bodies/a/mass"] == 1.5
    assert json.loads(json.dumps(change)) == change
    with pytest.raises(patch.PatchError, match="no item named 'z'"):
        patch.apply(old, {"set": {"bodies/z/mass": 1.0}})
    with pytest.raises(patch.PatchError, match="unknown patch operations"):
        patch.apply(old, {"rename": {}})

"""The built presets against the original osim-rl model files (both releases).

Every preset is compared with its original: component names and order, every property value
(with all defaults written out), muscle-tendon lengths and moment arms on a grid of poses, and
for representative presets the trajectory under the same seeded excitations.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import opensim
import pytest

from osim import models
from osim.models.compare import differences, model_tree

opensim.Logger.setLevelString("error")

#: Preset -> original file (release folder, file name). Every original of both releases is here:
#: the 3.0.11 gait files are byte-identical to 2.1.5's except gait14dof22musc(_planar)_20170320,
#: which OpenSim 4.6 reads to the same model (it renames the duplicate joint "back" to "back_0").
ORIGINALS: dict[str, list[tuple[str, str]]] = {
    "gait9dof18musc": [("osim-rl-2.1.5", "gait9dof18musc.osim"), ("osim-rl-3.0.11", "gait9dof18musc.osim")],
    "hop8dof9musc": [("osim-rl-2.1.5", "hop8dof9musc.osim"), ("osim-rl-3.0.11", "hop8dof9musc.osim")],
    "gait9dof18musc_20170320": [("osim-rl-2.1.5", "gait9dof18musc_20170320.osim"),
                                ("osim-rl-3.0.11", "gait9dof18musc_20170320.osim")],
    "gait9dof18musc_pros_20180507": [("osim-rl-2.1.5", "gait9dof18musc_pros_20180507.osim"),
                                     ("osim-rl-3.0.11", "gait9dof18musc_pros_20180507.osim")],
    "gait14dof22musc_20170320": [("osim-rl-2.1.5", "gait14dof22musc_20170320.osim"),
                                 ("osim-rl-3.0.11", "gait14dof22musc_20170320.osim")],
    "gait14dof22musc_planar_20170320": [("osim-rl-2.1.5", "gait14dof22musc_planar_20170320.osim"),
                                        ("osim-rl-3.0.11", "gait14dof22musc_planar_20170320.osim")],
    "gait14dof22musc_pros_20180507": [("osim-rl-2.1.5", "gait14dof22musc_pros_20180507.osim"),
                                      ("osim-rl-3.0.11", "gait14dof22musc_pros_20180507.osim")],
    "gait14dof22musc_planar_pros_20180507": [
        ("osim-rl-2.1.5", "gait14dof22musc_planar_pros_20180507.osim"),
        ("osim-rl-3.0.11", "gait14dof22musc_planar_pros_20180507.osim")],
    "arm2dof6musc": [("osim-rl-3.0.11", "arm2dof6musc.osim")],
    "arm2dof6musc_2018": [("osim-rl-2.1.5", "arm2dof6musc.osim")],
}
CASES = [(preset, release, file) for preset, files in ORIGINALS.items() for release, file in files]
CASE_IDS = [f"{preset}-{release}" for preset, release, _ in CASES]

#: Presets simulated for 100 steps (the rest share their code paths; see docs/models.md).
TRAJECTORY_PRESETS = ["gait9dof18musc", "gait14dof22musc_20170320", "gait14dof22musc_pros_20180507",
                      "arm2dof6musc", "arm2dof6musc_2018"]


def state_index(model: opensim.Model, suffix: str) -> int:
    """Column of the state variable whose path ends with ``suffix`` in :func:`trajectory` rows."""
    names = model.getStateVariableNames()
    matches = [i for i in range(names.getSize()) if names.get(i).endswith(suffix)]
    if len(matches) != 1:
        raise KeyError(f"no unique state variable ending in {suffix!r}")
    return matches[0]


def load(path: Path) -> opensim.Model:
    model = opensim.Model(str(path))
    model.initSystem()
    return model


@pytest.fixture(scope="module")
def built_paths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every preset built once into a private cache (so the test exercises the builder)."""
    cache = tmp_path_factory.mktemp("model-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OSIM_RL_MODEL_CACHE", str(cache))
        return {preset: models.model_path(preset) for preset in ORIGINALS}


def test_every_original_file_has_a_preset(reference_models: Path) -> None:
    originals = {(p.parent.name, p.name) for p in reference_models.glob("*/*.osim")}
    covered = {(release, file) for _, release, file in CASES}
    assert originals and originals == covered
    assert sorted(ORIGINALS) == sorted(entry["name"] for entry in models.list_models())


def names(component_set: opensim.Object) -> list[str]:
    return [component_set.get(i).getName() for i in range(component_set.getSize())]


@pytest.mark.parametrize(("preset", "release", "file"), CASES, ids=CASE_IDS)
def test_same_components_and_properties(preset: str, release: str, file: str,
                                        reference_models: Path, built_paths: dict[str, Path]) -> None:
    ours, theirs = load(built_paths[preset]), load(reference_models / release / file)
    for getter in ("getBodySet", "getJointSet", "getCoordinateSet", "getForceSet", "getMuscles",
                   "getContactGeometrySet", "getMarkerSet", "getConstraintSet"):
        assert names(getattr(ours, getter)()) == names(getattr(theirs, getter)()), getter
    ours_states, theirs_states = (model.getStateVariableNames() for model in (ours, theirs))
    assert [ours_states.get(i) for i in range(ours_states.getSize())] == [
        theirs_states.get(i) for i in range(theirs_states.getSize())]
    # Every property of every component (defaults written out), numbers within 1e-12 relative.
    found = differences(model_tree(ours), model_tree(theirs), rel=1e-12)
    assert found == [], "\n".join(found[:20])


def test_comparison_detects_a_changed_parameter(reference_models: Path) -> None:
    """The property comparison is not vacuous: one changed number is reported."""
    theirs = load(reference_models / "osim-rl-3.0.11" / "gait9dof18musc.osim")
    changed = models.build_model("gait9dof18musc")
    muscle = changed.getMuscles().get("soleus_l")
    muscle.setTendonSlackLength(muscle.getTendonSlackLength() * (1 + 1e-9))
    changed.initSystem()
    found = differences(model_tree(changed), model_tree(theirs), rel=1e-12)
    assert len(found) == 1 and "soleus_l" in found[0] and "tendon_slack_length" in found[0]


def pose_grid(model: opensim.Model, count: int, seed: int) -> list[np.ndarray]:
    """Default pose, then poses uniformly inside the coordinate ranges."""
    coordinates = model.getCoordinateSet()
    low = np.array([coordinates.get(i).getRangeMin() for i in range(coordinates.getSize())])
    high = np.array([coordinates.get(i).getRangeMax() for i in range(coordinates.getSize())])
    default = np.array([coordinates.get(i).getDefaultValue() for i in range(coordinates.getSize())])
    rng = np.random.default_rng(seed)
    return [default] + [rng.uniform(low, high) for _ in range(count - 1)]


def path_geometry(model: opensim.Model, poses: list[np.ndarray]) -> np.ndarray:
    """Muscle-tendon lengths and moment arms about every coordinate, for every pose."""
    state = model.initSystem()
    coordinates = model.getCoordinateSet()
    muscles = model.getMuscles()
    rows = []
    for pose in poses:
        for i in range(coordinates.getSize()):
            coordinates.get(i).setValue(state, float(pose[i]), False)
        model.realizePosition(state)
        for m in range(muscles.getSize()):
            muscle = muscles.get(m)
            rows.append(muscle.getLength(state))
            for i in range(coordinates.getSize()):
                rows.append(muscle.computeMomentArm(state, coordinates.get(i)))
    return np.array(rows)


@pytest.mark.parametrize("preset", sorted(ORIGINALS))
def test_same_lengths_and_moment_arms(preset: str, reference_models: Path,
                                      built_paths: dict[str, Path]) -> None:
    release, file = ORIGINALS[preset][-1]
    ours, theirs = load(built_paths[preset]), load(reference_models / release / file)
    poses = pose_grid(theirs, 8, seed=3)
    expected, actual = path_geometry(theirs, poses), path_geometry(ours, poses)
    assert expected.shape == actual.shape and np.abs(expected).max() > 0.01
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-9)


#: Start poses where the original's defaults are unusable: the 2017-03-20 9-dof files have
#: pelvis_ty = 0 by default (pelvis in the ground), so they start at the 14-dof model's height.
INITIAL_POSE = {"gait9dof18musc_20170320": {"pelvis_ty": 0.94},
                "gait9dof18musc_pros_20180507": {"pelvis_ty": 0.94}}


def trajectory(model: opensim.Model, excitations: np.ndarray, step: float = 0.01,
               initial: dict[str, float] | None = None) -> np.ndarray:
    """States after each step of a zero-order-hold excitation, as the environments integrate.

    Rows are ``model.getStateVariableValues`` (ordered as ``getStateVariableNames``).
    """
    controller = opensim.PrescribedController()
    muscles = model.getMuscles()
    for m in range(muscles.getSize()):
        controller.addActuator(muscles.get(m))
        controller.prescribeControlForActuator(muscles.get(m).getAbsolutePathString(), opensim.Constant(1.0))
    model.addController(controller)
    state = model.initSystem()
    for name, value in (initial or {}).items():
        model.getCoordinateSet().get(name).setValue(state, value)
    model.equilibrateMuscles(state)
    functions = controller.get_ControlFunctions()
    constants = [opensim.Constant.safeDownCast(functions.get(j)) for j in range(functions.getSize())]
    manager = opensim.Manager(model)
    manager.setIntegratorMethod(opensim.Manager.IntegratorMethod_RungeKuttaMerson)
    manager.setIntegratorAccuracy(5e-5)
    manager.initialize(state)
    rows = []
    for k, action in enumerate(excitations, start=1):
        for constant, value in zip(constants, action):
            constant.setValue(float(value))
        state = manager.integrate(step * k)
        rows.append(model.getStateVariableValues(state).to_numpy().copy())
    return np.array(rows)


@pytest.mark.slow
@pytest.mark.parametrize("preset", TRAJECTORY_PRESETS)
def test_same_trajectory_under_seeded_excitations(preset: str, reference_models: Path,
                                                  built_paths: dict[str, Path]) -> None:
    release, file = ORIGINALS[preset][-1]
    ours, theirs = load(built_paths[preset]), load(reference_models / release / file)
    excitations = np.random.default_rng(2024).uniform(0.0, 1.0, (100, ours.getMuscles().getSize()))
    initial = INITIAL_POSE.get(preset)
    expected, actual = trajectory(theirs, excitations, initial=initial), trajectory(ours, excitations, initial=initial)
    assert np.all(np.isfinite(expected)) and np.ptp(expected, axis=0).max() > 0.01  # it did move
    assert np.abs(actual - expected).max() <= 1e-6


def test_extraction_script_reproduces_the_committed_data(reference_dir: Path, tmp_path: Path) -> None:
    """The JSON data is exactly what tools/extract_model_parameters.py reads from the originals."""
    import subprocess
    import sys

    repo = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, str(repo / "tools" / "extract_model_parameters.py"),
         "--reference", str(reference_dir), "--out", str(tmp_path)],
        check=False, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    committed = sorted((repo / "osim" / "models" / "data").glob("*.json"))
    assert [p.name for p in committed] == sorted(p.name for p in tmp_path.glob("*.json"))
    for path in committed:
        assert (tmp_path / path.name).read_text() == path.read_text(), path.name

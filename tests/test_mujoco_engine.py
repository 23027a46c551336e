"""The MuJoCo engine against the real OpenSim engine: interface, layout, kinematics, errors, drop."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from osim import models
from osim.engine import Engine, Simulation, SimulationError, UnknownComponentError
from osim.engine.mujoco.drop import compare, drop_trajectory
from osim.engine.mujoco.engine import MujocoSimulation
from osim.engine.registry import create_engine
from osim.models import model_path, model_source

#: Every model an environment runs, with the env that runs it.
MODELS = [
    "gait9dof18musc",                       # L2RunEnv, RunEnv
    "gait14dof22musc_20170320",             # L2M2019Env 3D, ProstheticsEnv without prosthesis
    "gait14dof22musc_planar_20170320",      # L2M2019Env 2D
    "gait14dof22musc_pros_20180507",        # ProstheticsEnv
    "gait14dof22musc_planar_pros_20180507",
    "arm2dof6musc",                         # Arm2DEnv
    "arm2dof6musc_2018",                    # Arm2DEnv(release="2.1.5")
]
STRUCTURE_LISTS = ("coordinates", "joints", "muscles", "bodies", "contact_geometry", "markers")


@pytest.fixture(scope="module")
def opensim_engines():
    """One OpenSim engine per model, built on first use."""
    cache: dict[str, Simulation] = {}

    def get(name: str) -> Simulation:
        if name not in cache:
            cache[name] = Simulation(model_path(name))
        cache[name].reset()
        return cache[name]

    return get


def layout(value):
    """The shape of a state description: keys and nesting, with list lengths."""
    if isinstance(value, dict):
        return {key: layout(item) for key, item in value.items()}
    if isinstance(value, list):
        return len(value)
    return type(value).__name__


def test_engine_protocol_and_registry():
    engine = create_engine("mujoco", model_path("gait9dof18musc"), step_size=0.01, visualize=False, integrator=None)
    assert isinstance(engine, MujocoSimulation)
    assert isinstance(engine, Engine)
    assert engine.n_muscles == 18 and engine.step_size == 0.01 and engine.istep == 0 and engine.time == 0.0
    assert model_source(model_path("gait9dof18musc")) == ("gait9dof18musc", {})


def test_model_source_of_a_cached_file_from_another_process():
    path = model_path("gait14dof22musc_20170320", planar=True, geometry=False)
    models._SOURCES.pop(path)  # as in a process that did not build it
    preset, options = model_source(path)
    assert model_path(preset, **options) == path
    assert MujocoSimulation(path).structure.coordinate("pelvis_tz").locked
    with pytest.raises(ValueError, match=r"not made by osim\.models\.model_path"):
        model_source(path.replace(".osim", "0.osim"))


@pytest.mark.parametrize("name", MODELS)
def test_structure_and_description_layout_equal_opensims(name, opensim_engines):
    opensim_engine = opensim_engines(name)
    engine = MujocoSimulation(model_path(name))
    ours, theirs = engine.structure, opensim_engine.structure
    assert ours.name == theirs.name
    for field in STRUCTURE_LISTS:
        assert [item.name for item in getattr(ours, field)] == [item.name for item in getattr(theirs, field)], field
    assert ours.forces == theirs.forces
    assert ours.state_variables == theirs.state_variables
    assert engine.muscle_names == opensim_engine.muscle_names
    for mine, other in zip(ours.coordinates, theirs.coordinates):
        assert (mine.joint, mine.motion_type, mine.locked, mine.value_column) == (
            other.joint, other.motion_type, other.locked, other.value_column)
        assert mine.range == pytest.approx(other.range) and mine.default_value == pytest.approx(other.default_value)
    assert ours.joints == theirs.joints
    assert [(c.body, c.kind, c.radius) for c in ours.contact_geometry] == [
        (c.body, c.kind, c.radius) for c in theirs.contact_geometry]
    assert [(m.body, m.location) for m in ours.markers] == [(m.body, m.location) for m in theirs.markers]
    description = engine.state_description()
    assert layout(description) == layout(opensim_engine.state_description())
    assert engine.state_variable_values().shape == opensim_engine.state_variable_values().shape
    # the initial activations and excitations are OpenSim's
    assert [m["activation"] for m in description["muscles"].values()] == pytest.approx(
        [m["activation"] for m in opensim_engine.state_description()["muscles"].values()])
    assert engine.last_excitations.tolist() == opensim_engine.last_excitations.tolist()
    assert engine.state_description() is description  # computed once per state
    engine.step(np.zeros(engine.n_muscles))
    assert engine.state_description() is not description
    assert layout(engine.state_description()) == layout(description)


@pytest.mark.parametrize("name", ["gait9dof18musc", "gait14dof22musc_20170320", "arm2dof6musc"])
def test_same_pose_same_body_and_marker_positions(name, opensim_engines):
    opensim_engine = opensim_engines(name)
    engine = MujocoSimulation(model_path(name))
    rng = np.random.default_rng(3)
    free = [c for c in engine.structure.coordinates if not c.locked]
    for _ in range(3):
        pose = {c.name: float(rng.uniform(*np.clip(c.range, -1.0, 1.0))) for c in free}
        pose.update({c.name: c.default_value + 0.2 for c in free if c.motion_type == "translational"})
        speeds = {c.name: float(rng.uniform(-1, 1)) for c in free}
        engine.set_pose(q=pose, u=speeds)
        opensim_engine.set_pose(q=pose, u=speeds)
        ours, theirs = engine.state_description(), opensim_engine.state_description()
        for body, position in theirs["body_pos"].items():
            assert ours["body_pos"][body] == pytest.approx(position, abs=2e-3), body
            assert ours["body_pos_rot"][body] == pytest.approx(theirs["body_pos_rot"][body], abs=1e-3), body
            assert ours["body_vel_rot"][body] == pytest.approx(theirs["body_vel_rot"][body], abs=1e-6), body
            assert ours["body_vel"][body] == pytest.approx(theirs["body_vel"][body], abs=2e-2), body
        for marker, values in theirs["markers"].items():
            assert ours["markers"][marker]["pos"] == pytest.approx(values["pos"], abs=2e-3), marker
        assert ours["misc"]["mass_center_pos"] == pytest.approx(theirs["misc"]["mass_center_pos"], abs=2e-3)
        assert ours["joint_pos"] == theirs["joint_pos"] or all(
            ours["joint_pos"][j] == pytest.approx(theirs["joint_pos"][j], abs=1e-9) for j in theirs["joint_pos"])


def test_free_fall_accelerations_are_gravity():
    engine = MujocoSimulation("gait9dof18musc")
    engine.set_pose(q={"pelvis_ty": 3.0}, u={"pelvis_tx": 1.0, "pelvis_tilt": 2.0})
    description = engine.state_description()
    assert description["misc"]["mass_center_acc"] == pytest.approx([0.0, -9.80665, 0.0], abs=1e-9)
    assert description["body_acc"]["pelvis"][1] < -9.0  # pelvis origin: gravity plus the spin's centripetal part
    assert all(value == 0.0 for value in description["forces"]["foot_r"])  # no contact in the air


def test_contact_forces_in_opensims_layout_and_sign():
    engine = MujocoSimulation("gait9dof18musc")
    for _ in range(30):
        engine.step(np.full(18, 0.2))
    record = np.array(engine.state_description()["forces"]["foot_r"]).reshape(3, 6)  # platform, heel, toe
    assert record[1:, 1].sum() > 100.0  # the ground pushes the foot up
    assert record[0, :3] == pytest.approx(-record[1:, :3].sum(axis=0))  # the half-space gets the reaction


def trajectory(engine: MujocoSimulation, actions: np.ndarray) -> list[np.ndarray]:
    engine.reset()
    states = []
    for action in actions:
        engine.step(action)
        states.append(engine.state_vector())
        engine.state_description()
    return states


def test_determinism_across_resets_and_instances():
    actions = np.random.default_rng(0).uniform(0, 1, (60, 22))
    first = MujocoSimulation(model_path("gait14dof22musc_20170320"))
    second = MujocoSimulation(model_path("gait14dof22musc_20170320"))
    reference = trajectory(first, actions)
    for states in (trajectory(first, actions), trajectory(second, actions)):
        assert all(np.array_equal(a, b) for a, b in zip(reference, states))
    assert first.state_description() == second.state_description()


def test_bad_input_gives_opensims_errors(opensim_engines):
    opensim_engine = opensim_engines("gait9dof18musc")
    engine = MujocoSimulation(model_path("gait9dof18musc"))
    engine.step(np.zeros(18))
    before = engine.state_vector()
    for action in (np.full(18, np.nan), np.zeros(17), "walk"):
        with pytest.raises(ValueError) as ours:
            engine.step(action)
        with pytest.raises(ValueError) as theirs:
            opensim_engine.step(action)
        assert str(ours.value) == str(theirs.value)
    for pose in ({"q": {"knee_angle": 0.1}}, {"u": {"hip_flexion_r": 0.1, "nope": 1.0}}):
        with pytest.raises(UnknownComponentError) as ours_unknown:
            engine.set_pose(**pose)
        with pytest.raises(UnknownComponentError) as theirs_unknown:
            opensim_engine.set_pose(**pose)
        assert str(ours_unknown.value) == str(theirs_unknown.value)
    with pytest.raises(ValueError, match="finite"):
        engine.set_pose(q={"knee_angle_r": float("inf")})
    assert np.array_equal(engine.state_vector(), before) and engine.istep == 1
    with pytest.raises(UnknownComponentError):
        engine.coordinate_locked("nope")


def test_strength_scales_each_muscles_force_as_on_opensim(opensim_engines):
    engine = MujocoSimulation(model_path("gait9dof18musc"))
    engine.reset()
    built = {name: m["fiber_force"] for name, m in engine.state_description()["muscles"].items()}
    strength = np.ones(engine.n_muscles)
    strength[2] = 0.5
    engine.set_strength(strength)
    engine.reset()
    scaled = {name: m["fiber_force"] for name, m in engine.state_description()["muscles"].items()}
    weakened = engine.muscle_names[2]
    assert built[weakened] > 0 and scaled[weakened] == pytest.approx(0.5 * built[weakened], rel=1e-9)
    assert all(scaled[name] == built[name] for name in built if name != weakened)
    assert np.array_equal(engine.strength, strength)
    opensim_engine = opensim_engines("gait9dof18musc")
    for bad in (np.ones(17), np.full(18, -1.0), np.full(18, np.nan)):
        with pytest.raises(ValueError) as ours:
            engine.set_strength(bad)
        with pytest.raises(ValueError) as theirs:
            opensim_engine.set_strength(bad)
        assert str(ours.value) == str(theirs.value)
    assert np.array_equal(engine.strength, strength)


def test_models_it_cannot_build_are_refused(tmp_path):
    foreign = tmp_path / "mine.osim"
    shutil.copy(model_path("gait9dof18musc"), foreign)
    with pytest.raises(ValueError, match="builds from the project's model descriptions"):
        MujocoSimulation(str(foreign))
    with pytest.raises(ValueError, match="neither a file nor a preset"):
        MujocoSimulation("no_such_model")
    with pytest.raises(ValueError, match="Thelen2003 muscles only"):
        MujocoSimulation(model_path("gait9dof18musc", muscle_model="DeGrooteFregly2016"))
    with pytest.raises(ValueError, match="whole number"):
        MujocoSimulation("gait9dof18musc", step_size=0.01, timestep=0.003)
    assert MujocoSimulation("gait9dof18musc").model_name == "gait9dof18musc"  # a preset name works


def test_divergence_is_a_simulation_error_and_reset_recovers():
    engine = MujocoSimulation("gait9dof18musc", timestep=0.01)  # 10 ms steps: the 2D model diverges
    with pytest.raises(SimulationError, match="diverged"):
        for _ in range(200):
            before, step_before = engine.state_vector(), engine.istep
            description_before = engine.state_description()
            engine.step(np.ones(18))
    # the state is the last valid one: the one the diverged step started from
    np.testing.assert_array_equal(engine.state_vector(), before)
    assert engine.istep == step_before and np.isfinite(before).all()
    assert engine.state_description()["body_pos"] == description_before["body_pos"]
    with pytest.raises(SimulationError, match="call reset"):
        engine.step(np.ones(18))
    engine.reset()
    engine.step(np.zeros(18))
    assert engine.istep == 1 and np.isfinite(engine.state_vector()).all()
    engine.set_pose(u={"knee_angle_r": 1e12})  # diverging in the very first substep is caught too
    with pytest.raises(SimulationError):
        engine.step(np.zeros(18))


#: Passive drop (zero excitation, 0.5 s) measured against OpenSim for gait9dof18musc (docs/engines.md):
#: pelvis height 49 mm max apart, joint-angle RMS 0.14-0.20 rad. The bounds leave a margin.
DROP_STEPS = 50
DROP_PELVIS_MAX_MM = 75.0
DROP_JOINT_RMS = 0.3


def test_passive_drop_close_to_opensim(opensim_engines):
    theirs = drop_trajectory(opensim_engines("gait9dof18musc"), DROP_STEPS)
    ours = drop_trajectory(MujocoSimulation(model_path("gait9dof18musc")), DROP_STEPS)
    measured = compare(ours, theirs)
    assert measured["pelvis_height_max_mm"] < DROP_PELVIS_MAX_MM
    assert max(measured["joint_angle_rms_rad"].values()) < DROP_JOINT_RMS
    assert ours[-1, 0] > 0.8 and theirs[-1, 0] > 0.8  # both still standing after 0.5 s


def test_compiled_kernels_give_the_numpy_bits():
    """The numba kernels of the tracked points (body origins, centres of mass), the muscle arrays and
    the feet's ground forces (the mujoco extra, installed by the test command) give the NumPy path's
    bits in the states of a random walk of excitations."""
    path = model_path("gait14dof22musc_20170320.osim")
    compiled, reference = (MujocoSimulation(path, compiled=flag) for flag in (True, False))
    rng = np.random.default_rng(11)
    for engine in (compiled, reference):
        engine.reset()
    touching = 0
    for _ in range(60):
        excitations = rng.random(compiled.n_muscles)
        for engine in (compiled, reference):
            engine.step(excitations)
        got, expected = compiled.state_arrays(), reference.state_arrays()
        assert got.body_pos.tobytes() == expected.body_pos.tobytes()
        assert got.body_vel.tobytes() == expected.body_vel.tobytes()
        assert got.mass_center_pos.tobytes() == expected.mass_center_pos.tobytes()
        assert got.mass_center_vel.tobytes() == expected.mass_center_vel.tobytes()
        for name in ("activation", "fiber_length", "fiber_velocity", "fiber_force"):
            assert getattr(got, name).tobytes() == getattr(expected, name).tobytes(), name
        assert all(got.force(muscle).tobytes() == expected.force(muscle).tobytes() for muscle in compiled.muscle_names)
        for foot in ("foot_r", "foot_l"):
            assert got.ground_force(foot).tobytes() == expected.ground_force(foot).tobytes(), foot
            assert got.force(foot)[:3].tobytes() == expected.force(foot)[:3].tobytes(), foot
        touching += expected.ground_force("foot_r")[1] != 0.0
    assert touching > 10  # the feet were on the ground in most of these states

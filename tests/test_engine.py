"""The engine layer on the real OpenSim engine and the original model files."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from osim.engine import IntegratorSettings, Simulation, SimulationError, validate_excitations

GAIT14 = "osim-rl-3.0.11/gait14dof22musc_20170320.osim"
GAIT9 = "osim-rl-2.1.5/gait9dof18musc.osim"
ARM = "osim-rl-3.0.11/arm2dof6musc.osim"


@pytest.fixture(scope="module")
def gait14(reference_models):
    return Simulation(reference_models / GAIT14)


def state_vector(sim: Simulation) -> np.ndarray:
    return sim.state.getY().to_numpy().copy()


def run(sim: Simulation, actions: np.ndarray) -> np.ndarray:
    sim.reset()
    for action in actions:
        sim.actuate(action)
        sim.integrate()
    return state_vector(sim)


def test_excitations_reach_the_muscles(reference_models):
    sim = Simulation(reference_models / ARM)
    sim.reset()
    excitations = np.zeros(sim.n_muscles)
    excitations[3] = 1.0  # BIClong fully excited, the others off
    for _ in range(20):
        sim.actuate(excitations)
        sim.integrate()
    activations = sim.get_activations()
    assert activations[3] > 0.9
    assert max(activations[:3] + activations[4:]) < 0.1
    muscles = sim.state_description()["muscles"]
    assert muscles[sim.muscle_names[3]]["activation"] == pytest.approx(activations[3])


def test_state_description_layout_gait14(gait14):
    gait14.reset()
    description = gait14.state_description()
    assert list(description) == [
        "joint_pos", "joint_vel", "joint_acc", "body_pos", "body_vel", "body_acc",
        "body_pos_rot", "body_vel_rot", "body_acc_rot", "forces", "muscles", "markers", "misc",
    ]
    assert len(description["joint_pos"]["ground_pelvis"]) == 6
    assert len(description["joint_pos"]["hip_r"]) == 3
    assert description["joint_pos"]["back_0"] == []  # the head weld
    assert len(description["forces"]["foot_r"]) == 24  # 6 values x (platform, heel, toe1, toe2)
    assert len(description["muscles"]) == 22
    assert set(description["muscles"]["soleus_r"]) == {
        "activation", "fiber_length", "fiber_velocity", "fiber_force"}
    for key in ("mass_center_pos", "mass_center_vel", "mass_center_acc"):
        assert len(description["misc"][key]) == 3
    for group in ("body_pos", "body_vel", "body_acc", "body_pos_rot", "body_vel_rot", "body_acc_rot"):
        assert all(len(v) == 3 for v in description[group].values())
    # Standing on the ground: the vertical force on the ground body is negative (spec §2.4).
    assert description["forces"]["foot_r"][1] < 0
    assert description["body_pos"]["pelvis"][1] == pytest.approx(0.94, abs=0.05)


def test_state_description_layout_gait9(reference_models):
    sim = Simulation(reference_models / GAIT9)
    sim.reset()
    description = sim.state_description()
    assert len(description["joint_pos"]["ground_pelvis"]) == 3  # planar: tilt, tx, ty
    assert len(description["forces"]["foot_r"]) == 18
    assert len(description["muscles"]) == 18
    assert description["markers"] == {}


def test_state_description_computed_once_per_step(gait14):
    gait14.reset()
    first = gait14.state_description()
    assert gait14.state_description() is first
    gait14.actuate(np.full(gait14.n_muscles, 0.2))
    gait14.integrate()
    assert gait14.state_description() is not first


def test_reset_restores_the_initial_state(gait14):
    gait14.reset()
    initial = state_vector(gait14)
    initial_description = json.dumps(gait14.state_description())
    run(gait14, np.full((5, gait14.n_muscles), 0.7))
    assert not np.array_equal(state_vector(gait14), initial)
    gait14.reset()
    assert np.array_equal(state_vector(gait14), initial)
    assert gait14.time == 0 and gait14.istep == 0
    assert json.dumps(gait14.state_description()) == initial_description


def test_same_actions_identical_trajectories_after_reset(gait14):
    actions = np.random.default_rng(7).uniform(0, 0.5, (15, gait14.n_muscles))
    first = run(gait14, actions)
    run(gait14, actions[::-1])  # a different episode in between must not leak into the next one
    second = run(gait14, actions)
    assert np.array_equal(first, second)


DETERMINISM_SCRIPT = textwrap.dedent(
    """
    import sys, numpy as np
    from osim.engine import Simulation
    sim = Simulation(sys.argv[1])
    actions = np.random.default_rng(7).uniform(0, 0.5, (15, sim.n_muscles))
    sim.reset()
    for a in actions:
        sim.actuate(a); sim.integrate()
    print(sim.state.getY().to_numpy().tobytes().hex())
    """
)


def test_same_actions_identical_trajectories_across_processes(gait14, reference_models):
    actions = np.random.default_rng(7).uniform(0, 0.5, (15, gait14.n_muscles))
    here = run(gait14, actions)
    output = subprocess.run(
        [sys.executable, "-c", DETERMINISM_SCRIPT, str(reference_models / GAIT14)],
        capture_output=True, text=True, check=True,
    ).stdout.strip().splitlines()[-1]
    there = np.frombuffer(bytes.fromhex(output), dtype=np.float64)
    assert np.array_equal(here, there)


def test_out_of_range_excitations_are_clipped(gait14):
    high = run(gait14, np.full((3, gait14.n_muscles), 1.7))
    one = run(gait14, np.full((3, gait14.n_muscles), 1.0))
    assert np.array_equal(high, one)
    low = run(gait14, np.full((3, gait14.n_muscles), -3.0))
    zero = run(gait14, np.zeros((3, gait14.n_muscles)))
    assert np.array_equal(low, zero)


@pytest.mark.parametrize("bad, index", [(np.nan, 4), (np.inf, 0), (-np.inf, 21)])
def test_non_finite_excitations_are_rejected_by_index(bad, index):
    action = np.full(22, 0.5)
    action[index] = bad
    with pytest.raises(ValueError, match=rf"\[{index}\]="):
        validate_excitations(action, 22)


def test_huge_finite_excitations_are_clipped_not_rejected():
    """Their squares overflow the cheap finiteness screen: the entries are then checked one by one."""
    action = np.full(22, 0.5)
    action[[3, 7]] = 1e200, -1e300
    values = validate_excitations(action, 22)
    assert values[3] == 1.0 and values[7] == 0.0 and np.all(values[[0, 21]] == 0.5)


@pytest.mark.parametrize("action", [np.zeros(21), np.zeros((2, 22)), [[0.1, 0.2]], "abc", None])
def test_wrong_shapes_are_rejected_with_the_expected_shape(action):
    with pytest.raises(ValueError, match=r"\(22,\)|22 numbers"):
        validate_excitations(action, 22)


def test_nan_in_the_state_ends_in_a_simulation_error_and_reset_recovers(gait14):
    gait14.reset()
    state = gait14.get_state()
    q = state.getQ()
    q.set(4, float("nan"))
    state.setQ(q)
    gait14.set_state(state)
    gait14.actuate(np.full(gait14.n_muscles, 0.3))
    with pytest.raises(SimulationError, match="non-finite"):
        gait14.integrate()
    gait14.reset()
    gait14.actuate(np.full(gait14.n_muscles, 0.3))
    gait14.integrate()
    assert np.isfinite(state_vector(gait14)).all()


def _trajectory(sim: Simulation, actions: np.ndarray) -> list[tuple[np.ndarray, ...]]:
    """Step through ``actions``; after each step the state's Q, U, Z (muscle states) and time."""
    states = []
    for action in actions:
        sim.actuate(action)
        sim.integrate()
        state = sim.state
        states.append((state.getQ().to_numpy().copy(), state.getU().to_numpy().copy(),
                       state.getZ().to_numpy().copy(), np.array([state.getTime()])))
    return states


def test_set_state_continues_from_a_copy(gait14):
    """Continuing from a saved copy repeats, bit for bit, the continuation from the state itself."""
    actions = np.random.default_rng(3).uniform(0, 0.5, (9, gait14.n_muscles))
    gait14.reset()
    _trajectory(gait14, actions[:3])
    saved = gait14.get_state()
    assert gait14.istep == 3
    gait14.reset_manager()  # what set_state does, from the state in place instead of the copy
    from_original = _trajectory(gait14, actions[3:])
    description_original = gait14.state_description()
    # A restarted integrator first sees the excitations held at the restart (docs/architecture.md,
    # Simulation.reset): hold the same ones as at the first restart.
    gait14.actuate(actions[2])
    gait14.set_state(saved)
    assert gait14.istep == 3 and gait14.time == pytest.approx(0.03)
    from_copy = _trajectory(gait14, actions[3:])
    assert gait14.istep == 9
    for step, (expected, actual) in enumerate(zip(from_original, from_copy)):
        for name, a, b in zip(("Q", "U", "Z", "time"), expected, actual):
            assert np.array_equal(a, b), f"{name} differs {step + 1} steps after the copy"
    assert gait14.state_description() == description_original
    # The copy is independent: stepping did not move the saved state.
    assert saved.getTime() == pytest.approx(0.03)


def test_set_activations_are_read_back(gait14):
    """``get_activations`` right after ``set_activations`` returns the values set (spec §2.3)."""
    gait14.reset()
    values = np.linspace(0.1, 0.9, gait14.n_muscles)
    gait14.set_activations(values)
    assert np.array_equal(gait14.get_activations(), values)
    gait14.actuate(np.zeros(gait14.n_muscles))
    gait14.integrate()
    after = np.asarray(gait14.get_activations())
    assert np.all(after < values)  # zero excitation: every activation decays from its set value


def test_strength_scales_max_isometric_force(gait14):
    strength = np.ones(gait14.n_muscles)
    strength[2] = 0.5
    gait14.set_strength(strength)
    muscle = gait14.get_muscle(gait14.muscle_names[2])
    assert muscle.getMaxIsometricForce() == pytest.approx(0.5 * gait14.max_isometric_forces[2])
    gait14.set_strength(np.ones(gait14.n_muscles))
    assert muscle.getMaxIsometricForce() == gait14.max_isometric_forces[2]


def test_integrator_settings_are_validated():
    with pytest.raises(ValueError, match="one of"):
        IntegratorSettings(method="Leapfrog")
    with pytest.raises(ValueError, match="positive"):
        IntegratorSettings(accuracy=0)


def test_other_integrators_run(reference_models):
    sim = Simulation(reference_models / ARM,
                     integrator=IntegratorSettings(method="SemiExplicitEuler2", accuracy=1e-3))
    sim.reset()
    sim.actuate(np.full(sim.n_muscles, 0.5))
    sim.integrate()
    assert sim.time == pytest.approx(0.01)


def test_missing_model_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="model file not found"):
        Simulation(tmp_path / "nope.osim")

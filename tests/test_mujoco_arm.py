"""Arm2DEnv and Arm2DVecEnv on the MuJoCo engine (its target ball included) and the arm's parity.

The task code is the same on both engines (``Arm2DTask``); what these tests compare with the
OpenSim engine is the layout, the target's semantics, the refusals and the fitted muscles.
"""
from __future__ import annotations

import json
import math
import random
from importlib import resources

import gymnasium
import numpy as np
import pytest

import osim  # noqa: F401 - registers the Gymnasium ids
from osim.engine.mujoco.engine import MujocoSimulation
from osim.engine.mujoco.mjcf import model_description
from osim.engine.mujoco.parity import (
    MujocoProbe,
    OpenSimProbe,
    force_table,
    moment_arm_table,
    mujoco_force_grid,
    opensim_force_grid,
    posture_grid,
)
from osim.engine.scene import TARGET_COORDINATES, TARGET_JOINT, arm_target_parts
from osim.env.arm import Arm2DEnv, Arm2DTask, Arm2DVecEnv, ArmEnv, angular_dist

RELEASES = ["3.0.11", "2.1.5"]


def make(engine: str, cls=Arm2DEnv, **settings):
    return cls(visualize=False, engine=engine, **settings)


def layout(value):
    """Keys, nesting and list lengths of an observation."""
    if isinstance(value, dict):
        return {key: layout(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return ("list", len(value))
    return type(value).__name__


def episode(env, seed: int, steps: int) -> tuple[list[list[float]], list[float], list[bool]]:
    """Vector observations, rewards and dones of ``steps`` seeded random-excitation steps after a reset."""
    actions = np.random.default_rng(seed).uniform(0, 1, (steps, 6))
    env.seed(seed)
    observations, rewards, dones = [env.reset(obs_as_dict=False)], [], []
    for action in actions:
        observation, reward, done, _ = env.step(action, obs_as_dict=False)
        observations.append(observation)
        rewards.append(reward)
        dones.append(done)
    return observations, rewards, dones


def assert_same_refusals(ours, theirs, actions) -> None:
    """Each of ``actions`` is refused by both environments' ``step`` with the same ``ValueError`` message."""
    for bad in actions:
        with pytest.raises(ValueError) as mine:
            ours.step(bad)
        with pytest.raises(ValueError) as original:
            theirs.step(bad)
        assert str(mine.value) == str(original.value)


@pytest.mark.parametrize("release", RELEASES)
def test_arm_on_mujoco_has_opensims_layout_and_structure(release):
    ours, theirs = make("mujoco", release=release, seed=2), make("opensim", release=release, seed=2)
    assert isinstance(ours.engine._engine, MujocoSimulation)
    assert isinstance(ours.task, Arm2DTask) and type(ours.task) is type(theirs.task)
    assert ours.observation_space == theirs.observation_space and ours.action_space == theirs.action_space
    assert ours.task.observation_layout() == theirs.task.observation_layout()
    mine, original = ours.engine.structure, theirs.engine.structure
    for group in ("coordinates", "joints", "bodies", "markers", "forces", "state_variables"):
        names = [getattr(item, "name", item) for item in getattr(mine, group)]
        assert names == [getattr(item, "name", item) for item in getattr(original, group)], group
    # the target ball is OpenSim's body: mass, inertia, coordinate ranges and kinds
    assert mine.body("target") == original.body("target")
    for name in TARGET_COORDINATES:
        a, b = mine.coordinate(name), original.coordinate(name)
        assert (a.joint, a.motion_type, a.range, a.default_value) == (b.joint, b.motion_type, b.range, b.default_value)
    assert layout(ours.reset(obs_as_dict=True)) == layout(theirs.reset(obs_as_dict=True))  # the state dict
    assert len(ours.reset(obs_as_dict=False)) == len(theirs.reset(obs_as_dict=False)) == 16


@pytest.mark.parametrize("release", RELEASES)
def test_arm_on_mujoco_targets_reward_and_termination_are_the_tasks(release):
    """The same draws as on OpenSim, the reward 1 - squared wrist distance from the engine's own state,
    the original's reset observation, the ball at the target, done only at 200 steps."""
    ours, theirs = make("mujoco", release=release, seed=5), make("opensim", release=release, seed=5)
    previous = [0.0, 0.0]
    for _ in range(2):
        first, original = ours.reset(obs_as_dict=False), theirs.reset(obs_as_dict=False)
        assert first[:2] == original[:2] == previous  # computed before the draw, as the original's
        target = [ours.target_x, ours.target_y]
        assert target == [theirs.target_x, theirs.target_y] != previous
        description = ours.get_state_desc()
        assert description["joint_pos"][TARGET_JOINT][1:] == target
        assert description["body_pos"]["target"] == pytest.approx([*target, 0.25], abs=1e-12)
        assert ours.engine.coordinate_locked(TARGET_COORDINATES[2])
        assert not ours.engine.coordinate_locked(TARGET_COORDINATES[1])
        previous = target
    rng = np.random.default_rng(3)
    for step in range(1, 201):
        observation, reward, done, info = ours.step(rng.uniform(0, 1, 6), obs_as_dict=False)
        description = ours.get_state_desc()
        wrist = description["markers"]["r_radius_styloid"]["pos"]
        distance = (wrist[0] - target[0]) ** 2 + (wrist[1] - target[1]) ** 2
        assert reward == 1 - distance and info["reward_terms"] == {"reach": 1.0, "distance": -distance}
        assert observation[:2] == target and observation[-2:] == wrist[:2]
        assert done is (step == 200)
    # the locked height holds the ball (a soft lock: well under a micrometre in 2 s)
    assert description["body_pos"]["target"] == pytest.approx([*target, 0.25], abs=1e-6)


@pytest.mark.parametrize(("release", "preset"), [("3.0.11", "arm2dof6musc"), ("2.1.5", "arm2dof6musc_2018")])
def test_arm_on_mujoco_uses_the_stored_fit_with_the_target_added(release, preset):
    """The target joint changes the muscles' exact fingerprint; the fit is found by the joints they span."""
    env = make("mujoco", release=release)
    model, names = env.engine._engine.mj_model, env.engine.muscle_names
    stored = json.loads(resources.files("osim.engine.mujoco").joinpath("data", f"{preset}.json").read_text())
    assert [model.actuator_gainprm[k, 2] for k in range(len(names))] == [
        stored["muscles"][name]["muscle"]["force"] for name in names]


def test_arm_on_mujoco_is_deterministic():
    # observe_new_target: the reset observation depends on the seed only (not on the previous episode)
    first, second = make("mujoco", seed=7, observe_new_target=True), make("mujoco", seed=7, observe_new_target=True)
    reference = episode(first, 7, 40)
    assert episode(first, 7, 40) == reference  # again in the same environment
    assert episode(second, 7, 40) == reference  # and in another one
    assert episode(second, 8, 40) != reference


def test_an_unlocked_target_falls_as_on_opensim():
    """``reset(random_target=False)``: the reset unlocks the height (OpenSim's default state) and the
    0.1 g ball falls freely on both engines."""
    heights = []
    for engine in ("mujoco", "opensim"):
        env = make(engine, seed=1)
        env.reset()
        env.reset(random_target=False)
        assert not env.engine.coordinate_locked(TARGET_COORDINATES[2])
        for _ in range(30):
            env.step(np.zeros(6))
        heights.append(env.get_state_desc()["joint_pos"][TARGET_JOINT][2])
    free_fall = -0.5 * 9.8066 * 0.3 ** 2
    assert heights[1] == pytest.approx(free_fall, rel=1e-6)
    assert heights[0] == pytest.approx(free_fall, rel=0.02)  # 2 ms explicit-in-position steps


def test_arm_on_mujoco_refuses_bad_input_as_opensim_does():
    ours, theirs = make("mujoco", seed=1), make("opensim", seed=1)
    for env in (ours, theirs):
        env.reset()
    assert_same_refusals(ours, theirs, [[0.5, math.nan, 0, 0, 0, 0], [0.5] * 5, "abc", None])
    with pytest.raises(ValueError, match="release must be one of"):
        make("mujoco", release="2.0")
    # out-of-range excitations are clipped on both
    assert ours.step([2.0, -1, 0.5, 0.5, 0.5, 0.5])[2] is False
    # Arm2DVecEnv: NaN actions become 0 on MuJoCo too
    a, b = make("mujoco", Arm2DVecEnv, seed=1), make("mujoco", Arm2DVecEnv, seed=1)
    a.reset(), b.reset()
    action = np.array([0.5, np.nan, 0.2, np.nan, 0.9, 0.1])
    assert a.step(action)[:2] == b.step(np.nan_to_num(action))[:2]


def test_the_engine_refuses_bad_scene_calls():
    engine = MujocoSimulation("arm2dof6musc")
    with pytest.raises(ValueError, match="expected"):
        engine.add_bodies({"bodies": []})
    engine.add_bodies(arm_target_parts())
    with pytest.raises(ValueError, match="already has"):
        engine.add_bodies(arm_target_parts())
    with pytest.raises(KeyError, match="no_such"):
        engine.set_coordinates({"no_such": 0.1})
    with pytest.raises(ValueError, match="finite"):
        engine.set_coordinates({TARGET_COORDINATES[1]: math.inf})
    with pytest.raises(ValueError, match="cannot be locked"):
        engine.set_coordinates({}, lock={"r_elbow_flex": True})
    before = engine.state_vector().copy()
    with pytest.raises(ValueError):
        engine.set_coordinates({TARGET_COORDINATES[1]: 0.2, TARGET_COORDINATES[2]: math.nan})
    np.testing.assert_array_equal(engine.state_vector(), before)  # nothing changed


def test_the_2016_arm_id_takes_the_mujoco_engine():
    env = gymnasium.make("osim/Arm-v0", engine="mujoco")
    assert isinstance(env.unwrapped.osim_env.engine._engine, MujocoSimulation)
    observation, _ = env.reset(seed=3)
    assert np.array_equal(observation, env.reset(seed=3)[0]) and observation.shape == env.observation_space.shape
    for _ in range(3):
        observation, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        assert np.isfinite(observation).all() and np.isfinite(reward) and not terminated and not truncated
    env.close()


def test_gymnasium_id_takes_the_mujoco_engine():
    env = gymnasium.make("osim/Arm2D-v0", engine="mujoco")
    assert isinstance(env.unwrapped.osim_env.engine._engine, MujocoSimulation)
    observation, _ = env.reset(seed=4)
    again, _ = env.reset(seed=4)
    assert observation.shape == env.observation_space.shape and np.array_equal(observation, again)
    draws = random.Random(4)
    theta, radius = draws.uniform(0, 2 * math.pi / 3), draws.uniform(0.3, 0.65)
    assert observation[:2].tolist() == [math.cos(theta) * radius, -math.sin(theta) * radius + 0.8]
    for _ in range(5):
        observation, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        assert np.isfinite(observation).all() and np.isfinite(reward) and not terminated and not truncated
    env.close()


def test_arm_env_2016_on_mujoco_writes_activations_and_runs_its_task():
    """ArmEnv (2016-17): actions written into the activation states, excitations held at 0, the same
    ArmTask; deterministic; the same refusals as on OpenSim."""
    ours, theirs = make("mujoco", ArmEnv, seed=3), make("opensim", ArmEnv, seed=3)
    assert isinstance(ours.engine._engine, MujocoSimulation) and type(ours.task) is type(theirs.task)
    assert ours.observation_space == theirs.observation_space and ours.action_space == theirs.action_space
    first = ours.reset()
    assert len(first) == len(theirs.reset()) == 14
    assert first[:2] == [ours.shoulder_tgt, ours.elbow_tgt] == [theirs.shoulder_tgt, theirs.elbow_tgt]
    engine = ours.engine._engine
    assert engine.last_excitations.tolist() == [1.0] * 6 and engine._held.tolist() == [0.0] * 6
    action = np.array([0.9, 0.1, 0.5, 0.3, 0.7, 0.2])
    engine.set_activations(action)
    assert ours.osim_model.get_activations() == action.tolist()
    ours.reset()
    theirs.reset()
    observation, reward, done, info = ours.step(action)
    theirs.step(action)
    # the activations decay from the action under zero excitation, as Thelen's do on OpenSim (measured:
    # 0.9 -> 0.5875 on MuJoCo, 0.603 on OpenSim)
    activations = np.array(ours.osim_model.get_activations())
    assert np.all(activations < action)
    np.testing.assert_allclose(activations, theirs.osim_model.get_activations(), rtol=0.03)
    assert engine.last_excitations.tolist() == [0.0] * 6
    description = ours.get_state_desc()
    shoulder, elbow = description["joint_pos"]["r_shoulder"][0], description["joint_pos"]["r_elbow"][0]
    error = angular_dist(shoulder, ours.shoulder_tgt) + angular_dist(elbow, ours.elbow_tgt)
    assert reward == -error and info["reward_terms"] == {"angle_error": -error} and done is False
    assert observation[2:4] == [shoulder, elbow]

    def run(env):
        env.seed(11)
        rng = np.random.default_rng(11)
        return [env.reset()] + [env.step(rng.uniform(0, 1, 6))[:3] for _ in range(30)]

    assert run(ours) == run(make("mujoco", ArmEnv, seed=3))
    assert_same_refusals(ours, theirs, [[0.5, math.nan, 0, 0, 0, 0], [0.5] * 7])
    with pytest.raises(ValueError, match="shape"):
        engine.set_activations([0.5] * 5)


@pytest.mark.parametrize("name", ["GaitEnv", "StandEnv", "HopEnv", "CrouchEnv"])
def test_the_other_activation_envs_run_on_mujoco(name):
    from osim import env as envs

    ours, theirs = getattr(envs, name)(visualize=False, engine="mujoco"), getattr(envs, name)(visualize=False)
    assert ours.observation_space == theirs.observation_space and ours.action_space == theirs.action_space
    assert len(ours.reset()) == len(theirs.reset())
    rng = np.random.default_rng(0)
    for _ in range(20):
        observation, reward, done, _ = ours.step(rng.uniform(0, 1, ours.action_space.shape[0]))
        assert np.isfinite(observation).all() and np.isfinite(reward)


# -- parity of the arm muscles ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def arm_parity():
    description = model_description("arm2dof6musc")
    opensim_probe = OpenSimProbe(description)
    postures = posture_grid(description, 40, seed=5)
    reference = opensim_force_grid(description, opensim_probe, postures)
    tables = {}
    for fitted in (False, True):
        probe = MujocoProbe(description, fitted=fitted)
        tables[fitted] = (moment_arm_table(description, opensim_probe, probe),
                          force_table(description, reference, mujoco_force_grid(probe, postures)))
    return tables


@pytest.mark.parametrize(("muscle", "coordinate", "bound_mm"), [
    ("TRIlat", "r_elbow_flex", 0.1), ("BRA", "r_elbow_flex", 0.1), ("BICshort", "r_shoulder_elev", 0.1),
    ("TRIlong", "r_elbow_flex", 0.1), ("TRIlong", "r_shoulder_elev", 3.0),
])
def test_fitted_arm_moment_arms(arm_parity, muscle, coordinate, bound_mm):
    moment_arms, _ = arm_parity[True]
    assert moment_arms[muscle][coordinate]["rms_mm"] <= bound_mm


@pytest.mark.parametrize(("muscle", "bound"), [("TRIlat", 0.01), ("BRA", 0.01), ("BIClong", 0.02), ("BICshort", 0.04)])
def test_fitted_arm_forces(arm_parity, muscle, bound):
    _, direct = arm_parity[False]
    _, fitted = arm_parity[True]
    assert fitted[muscle]["mean"] <= bound < direct[muscle]["mean"]  # the direct mapping misses it


def test_arm_on_mujoco_renders_the_target_where_opensim_does():
    """``render_mode="rgb_array"``: the markers and the green target ball drawn from MuJoCo's state."""
    centres = []
    for engine in ("mujoco", "opensim"):
        env = make(engine, seed=2, render_mode="rgb_array")
        env.reset()
        env.step(np.zeros(6))
        frame = env.render().astype(int)
        green = (frame[..., 1] > 150) & (frame[..., 0] < 100) & (frame[..., 2] < 100)
        assert green.sum() > 20
        centres.append(np.argwhere(green).mean(axis=0))
        env.close()
    np.testing.assert_allclose(centres[0], centres[1], atol=1.0)  # pixels

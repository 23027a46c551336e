"""The environments on the MuJoCo engine: the OpenSim observation layout, episodes, determinism, Gymnasium."""
from __future__ import annotations

import gymnasium
import numpy as np
import pytest

import osim  # noqa: F401 - registers the Gymnasium ids
from osim import env as envs
from osim.engine.mujoco.engine import MujocoSimulation

#: Every environment on a model the MuJoCo engine builds, with the settings it is made with.
ENVIRONMENTS = [
    ("L2M2019Env", {"difficulty": 2, "seed": 3}),
    ("L2RunEnv", {}),
    ("ProstheticsEnv", {}),
    ("Arm2DEnv", {"seed": 1}),  # its target ball too (tests/test_mujoco_arm.py)
    ("RunEnv", {"max_obstacles": 3}),  # its obstacles too (tests/test_mujoco_run.py)
]
EPISODE_STEPS = 60


def on_mujoco(env) -> bool:
    """Whether ``env`` steps a :class:`MujocoSimulation` (the original-API envs wrap it in ``osim_model``)."""
    engine = env.engine
    return env.engine_name == "mujoco" and isinstance(getattr(engine, "_engine", engine), MujocoSimulation)


def make(name: str, engine: str, **settings):
    return getattr(envs, name)(visualize=False, engine=engine, **settings)


def layout(value):
    """Keys, nesting, list lengths and array shapes of an observation."""
    if isinstance(value, dict):
        return {key: layout(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return ("list", len(value))
    if isinstance(value, np.ndarray):
        return ("array", value.shape)
    return "number" if isinstance(value, (int, float, np.floating, np.integer)) else type(value).__name__


def flat_numbers(value) -> np.ndarray:
    """Every number of an observation, in order."""
    if isinstance(value, dict):
        return np.concatenate([flat_numbers(item) for item in value.values()] or [np.zeros(0)])
    if isinstance(value, (list, tuple)):
        return np.concatenate([flat_numbers(item) for item in value] or [np.zeros(0)])
    return np.ravel(np.asarray(value, dtype=float))


def episode(env, seed: int, steps: int) -> list[np.ndarray]:
    """Observations of ``steps`` random-excitation steps (seeded) after a reset; stops when done."""
    actions = np.random.default_rng(seed).uniform(0, 1, (steps, env.action_space.shape[0]))
    env.seed(seed)  # the task's own draws (targets) too
    observations = [flat_numbers(env.reset())]
    for action in actions:
        observation, reward, done, info = env.step(action)
        observations.append(flat_numbers(observation))
        assert np.isfinite(reward)
        if done:
            break
    return observations


@pytest.mark.parametrize(("name", "settings"), ENVIRONMENTS, ids=[name for name, _ in ENVIRONMENTS])
def test_environment_on_mujoco_has_opensims_layout_and_runs(name, settings):
    ours, theirs = make(name, "mujoco", **settings), make(name, "opensim", **settings)
    assert on_mujoco(ours)
    assert ours.observation_space.shape == theirs.observation_space.shape
    assert ours.action_space.shape == theirs.action_space.shape
    assert layout(ours.reset()) == layout(theirs.reset())
    observations = episode(ours, 0, EPISODE_STEPS)
    assert len(observations) > 10 and all(np.isfinite(o).all() for o in observations)


@pytest.mark.parametrize(("name", "settings"), ENVIRONMENTS[:2], ids=[name for name, _ in ENVIRONMENTS[:2]])
def test_environment_on_mujoco_is_deterministic(name, settings):
    first, second = make(name, "mujoco", **settings), make(name, "mujoco", **settings)
    reference = episode(first, 1, EPISODE_STEPS)
    for observations in (episode(first, 1, EPISODE_STEPS), episode(second, 1, EPISODE_STEPS)):
        assert len(observations) == len(reference)
        assert all(np.array_equal(a, b) for a, b in zip(reference, observations))


@pytest.mark.parametrize("actions", ["zero", "random"])
def test_3d_environment_on_mujoco_steps_hundreds_of_steps(actions):
    """L2M2019Env 3D at the env's step (implicitfast, 2 ms x 5): 300 steps, reset at each fall,
    every observation finite (a diverging state raises SimulationError)."""
    env = make("L2M2019Env", "mujoco", difficulty=2, seed=0)
    rng = np.random.default_rng(4)
    env.reset()
    falls = 0
    for _ in range(300):
        action = np.zeros(22) if actions == "zero" else rng.uniform(0, 1, 22)
        observation, reward, done, _ = env.step(action)
        assert np.isfinite(flat_numbers(observation)).all() and np.isfinite(reward)
        if done:
            falls += 1
            env.reset()
    assert falls >= 1  # it falls (both engines do) and is reset, so several episodes are run


@pytest.mark.parametrize("model", ["3D", "2D"])
@pytest.mark.parametrize("actions", ["zero", "random"])
def test_prosthetics_environment_on_mujoco_steps_hundreds_of_steps(model, actions):
    """ProstheticsEnv (3D and planar prosthesis models, the right-thigh muscles fitted): 300 steps,
    reset at each fall, every observation finite (a diverging state raises SimulationError)."""
    env = make("ProstheticsEnv", "mujoco")
    if model == "2D":
        env.change_model(model="2D", prosthetic=True, difficulty=0, seed=0)
    assert env.get_model_key() == f"{model}_pros"
    rng = np.random.default_rng(5)
    size = env.action_space.shape[0]
    env.reset()
    falls = 0
    for _ in range(300):
        action = np.zeros(size) if actions == "zero" else rng.uniform(0, 1, size)
        observation, reward, done, _ = env.step(action)
        assert np.isfinite(flat_numbers(observation)).all() and np.isfinite(reward)
        if done:
            falls += 1
            env.reset()
    assert falls >= 1


class OpenSimComponentEnv(envs.L2RunEnv):
    """A script's environment that adds an OpenSim component the original way (``osim_model.model``)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        import opensim

        self.osim_model.model.addBody(opensim.Body("prop", 0.1, opensim.Vec3(0), opensim.Inertia(1e-3)))


def test_an_environment_that_adds_opensim_components_refuses_mujoco_clearly():
    # The package's scenes (the arm's target, RunEnv's obstacles) are engine-neutral; a script's
    # OpenSim calls are OpenSim's.
    with pytest.raises(NotImplementedError, match="engine='opensim'"):
        OpenSimComponentEnv(visualize=False, engine="mujoco")
    assert OpenSimComponentEnv(visualize=False).osim_model.model.getBodySet().contains("prop")  # on OpenSim it works


def test_gymnasium_id_takes_the_engine():
    env = gymnasium.make("osim/L2M2019-v0", engine="mujoco")
    observation, _ = env.reset(seed=0)
    assert on_mujoco(env.unwrapped.osim_env)
    assert env.observation_space.contains(observation) or observation.shape == env.observation_space.shape
    for _ in range(20):
        observation, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        assert observation.shape == env.observation_space.shape and np.isfinite(reward)
        if terminated or truncated:
            break
    env.close()

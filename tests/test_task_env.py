"""The Task abstraction and the one generic Environment, on the real OpenSim engine."""
from __future__ import annotations

import gymnasium
import numpy as np
import pytest

import osim  # noqa: F401  (registers the ids)
from osim.env import L2RunEnv, RunEnv
from osim.env.docs import observation_table
from osim.env.environment import Environment
from osim.env.l2run import L2RunTask
from osim.env.run import RunTask


def test_the_generic_environment_runs_a_task_like_its_original_api_adapter():
    generic = Environment(L2RunTask())
    original = L2RunEnv(visualize=False)
    generic.reset_episode()
    first = original.reset()
    assert generic.observation() == first
    action = np.full(18, 0.2)
    for _ in range(3):
        result = generic.advance(action)
        observation, reward, done, info = original.step(action)
        assert generic.observation() == observation  # bit for bit: the same code and engine
        assert result.reward == reward and result.terms == info["reward_terms"] == {"forward": reward}
        assert not result.done and done is False
    assert generic.observation_space.shape == (43,) == original.observation_space.shape


def test_termination_comes_with_its_reason():
    env = L2RunEnv(visualize=False)
    env.reset()
    env.task.termination = lambda engine, description: "pelvis_too_low"  # type: ignore[method-assign]
    _, _, done, info = env.step(np.zeros(18))
    assert done and info["termination"] == "pelvis_too_low" and env.termination_reason == "pelvis_too_low"


def test_layouts_give_sizes_names_and_bounds():
    for task, size in ((L2RunTask(), 43), (RunTask(), 41)):
        layout = task.observation_layout()
        low, high = layout.bounds()
        assert layout.size == size == len(layout.names()) == len(set(layout.names())) == low.size == high.size
        assert f"A vector of {size} floats:" in observation_table(task)[0]
    assert RunEnv.ninput == 41


def test_reward_weights_are_the_ones_the_reward_uses():
    assert RunTask.reward_weights["ligaments"] == -1e-7 and L2RunTask.reward_weights == {"forward": 1.0}


def test_an_unknown_engine_is_a_clear_error():
    with pytest.raises(ValueError, match=r"engine must be one of \['mujoco', 'opensim'\], got 'bullet'"):
        L2RunEnv(visualize=False, engine="bullet")
    with pytest.raises(ValueError, match="engine must be one of"):
        gymnasium.make("osim/L2Run-v0", engine="bullet")
    with pytest.raises(ValueError, match="engine must be an engine name"):
        Environment(L2RunTask(), engine=3)  # type: ignore[arg-type]


def test_gymnasium_ids_take_the_engine_keyword():
    env = gymnasium.make("osim/L2Run-v0", engine="opensim")
    assert env.unwrapped.osim_env.engine_name == "opensim"
    observation, _ = env.reset(seed=1)
    assert observation.shape == (43,)
    env.close()


def test_opensim_only_features_name_the_engine_that_lacks_them():
    from osim.engine.registry import create_engine
    from osim.env.base import ForeignEngineModel

    # The adapter's osim_model on a non-OpenSim engine: here around a real engine, as it would wrap MuJoCo's.
    engine = create_engine("opensim", L2RunTask().model, step_size=0.01, visualize=False)
    model = ForeignEngineModel(engine, "mujoco")
    assert model.n_muscles == 18 and model.get_action_space_size() == 18
    for feature in ("brain", "set_state", "get_state", "list_elements"):
        with pytest.raises(NotImplementedError, match=f"osim_model.{feature} is an OpenSim feature.*'mujoco'"):
            getattr(model, feature)


def test_a_subclass_written_the_original_way_keeps_its_hooks():
    from osim.env import OsimEnv
    from osim.models import model_path

    class Forward(OsimEnv):
        time_limit = 2

        def __init__(self):
            self.model_path = model_path("gait9dof18musc")
            super().__init__(visualize=False)

        def get_observation(self):
            return [self.get_state_desc()["joint_pos"]["ground_pelvis"][1]]

        def get_observation_space_size(self):
            return 1

        def get_reward(self):
            return 2.5

        def is_done(self):
            return False

    env = Forward()
    assert env.reset() == [0.0] and env.observation_space.shape == (1,)
    assert env.step(np.zeros(18))[1:] == [2.5, False, {}]
    assert env.step(np.zeros(18))[2] is True  # the time limit

"""The original-API base (OsimEnv) and the Gymnasium adapter, on L2RunEnv and the real engine."""
from __future__ import annotations

import subprocess
import sys
import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import osim  # noqa: F401  (registers the ids)
from osim.engine import EpisodeEndedError
from osim.env import L2RunEnv


@pytest.fixture(scope="module")
def env():
    return L2RunEnv(visualize=False)


def test_step_returns_the_original_four_list(env):
    observation = env.reset()
    assert isinstance(observation, list) and len(observation) == 43
    result = env.step(np.full(18, 0.1))
    assert isinstance(result, list) and len(result) == 4
    observation, reward, done, info = result
    assert len(observation) == 43 and isinstance(reward, float) and done is False
    assert info["reward_terms"]["forward"] == reward
    assert env.istep == 1 and env.spec.timestep_limit == 1000


def test_raw_dict_and_previous_state(env):
    env.reset()
    description = env.reset(project=False)
    assert "joint_pos" in description and env.get_prev_state_desc() is None
    env.step(np.full(18, 0.1))
    assert env.get_prev_state_desc()["joint_pos"] == description["joint_pos"]


def test_simulation_failure_ends_the_episode_and_reset_recovers(env):
    env.reset()
    state = env.osim_model.get_state()
    q = state.getQ()
    q.set(1, float("nan"))
    state.setQ(q)
    env.osim_model.set_state(state)
    before = env.get_observation()
    observation, reward, done, info = env.step(np.full(18, 0.1))
    assert done is True and "non-finite" in info["simulation_failure"]
    # The failed step reports the last state OpenSim could describe, not garbage.
    assert np.array_equal(observation, before, equal_nan=True)
    with pytest.raises(EpisodeEndedError, match="reset"):
        env.step(np.full(18, 0.1))
    env.reset()
    observation, reward, done, info = env.step(np.full(18, 0.1))
    assert not done and np.isfinite(reward)


def test_instances_do_not_share_state(env):
    other = L2RunEnv(visualize=False)
    other.osim_model.set_strength(np.full(18, 0.5))
    assert env.osim_model.curforces == [1.0] * 18
    assert other.osim_model.maxforces == env.osim_model.maxforces


def test_visualize_without_display_warns_once_and_runs(monkeypatch):
    script = (
        "import warnings, numpy as np\n"
        "from osim.env import L2RunEnv\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    a = L2RunEnv(visualize=True); b = L2RunEnv(visualize=True)\n"
        "a.reset(); a.step(np.full(18, 0.1))\n"
        "print(sum('visualize=True ignored' in str(w.message) for w in caught))\n"
    )
    environment = {k: v for k, v in __import__("os").environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    output = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=environment, timeout=120, check=True).stdout.split()
    assert output[-1] == "1"


def test_gymnasium_adapter_passes_the_env_checker():
    env = gymnasium.make("osim/L2Run-v0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unbounded Box warnings
        check_env(env.unwrapped, skip_render_check=True)
    observation, info = env.reset(seed=3)
    assert env.observation_space.contains(observation)
    observation, reward, terminated, truncated, info = env.step(env.action_space.sample())
    assert env.observation_space.contains(observation)
    assert (terminated, truncated) == (False, False)
    env.close()


def test_gymnasium_time_limit_truncates():
    env = gymnasium.make("osim/L2Run-v0")
    env.reset(seed=0)
    env.unwrapped.osim_env.spec.timestep_limit = 3
    flags = [env.step(np.full(18, 0.05))[2:4] for _ in range(3)]
    assert flags == [(False, False), (False, False), (False, True)]

"""osim.vector: the vector env behind ``gymnasium.make_vec(id, N)`` and the env pool, on the real
engine in real worker processes."""
from __future__ import annotations

import gymnasium
import numpy as np
import pytest

import osim  # noqa: F401  (registers the ids)
from osim.vector import DEFAULT_WAIT_SPIN_SECONDS, EnvPool, OsimVectorEnv, usable_cpus


def _episode(env_id: str, seed: int, actions: np.ndarray) -> np.ndarray:
    """Observations of one env from ``seed`` under ``actions``, with next-step autoreset."""
    env = gymnasium.make(env_id)
    observation, _ = env.reset(seed=seed)
    observations, needs_reset = [observation], False
    for action in actions:
        if needs_reset:
            observation, _ = env.reset()
            needs_reset = False
        else:
            observation, _, terminated, truncated, _ = env.step(action)
            needs_reset = terminated or truncated
        observations.append(observation)
    env.close()
    return np.array(observations)


def test_make_vec_without_a_mode_gives_the_polling_vector_env_and_the_same_episodes():
    actions = np.random.default_rng(5).random((6, 2, 6)).astype(np.float32)
    vec = gymnasium.make_vec("osim/Arm2D-v0", num_envs=2)
    assert isinstance(vec, OsimVectorEnv)
    assert vec.wait_spin_seconds == (DEFAULT_WAIT_SPIN_SECONDS if usable_cpus() >= 2 else 0.0)
    observation, _ = vec.reset(seed=[11, 12])
    observations = [observation]
    for batch in actions:
        observation, rewards, _, _, info = vec.step(batch)
        observations.append(observation)
        assert rewards.shape == (2,) and "reward_terms" in info
    vec.close()
    observations = np.array(observations)
    for index, seed in enumerate((11, 12)):
        np.testing.assert_array_equal(observations[:, index], _episode("osim/Arm2D-v0", seed, actions[:, index]))


def test_vector_env_passes_env_arguments_and_refuses_bad_options():
    vec = gymnasium.make_vec("osim/Arm2D-v0", num_envs=1, clip_observation=True, wait_spin_seconds=0)
    assert vec.wait_spin_seconds == 0.0
    assert vec.get_attr("clip_observation") == (True,)  # read from the worker's env
    vec.close()
    with pytest.raises(ValueError, match="wait_spin_seconds must be a number of seconds >= 0"):
        OsimVectorEnv([lambda: gymnasium.make("osim/Arm2D-v0")], wait_spin_seconds=-1)
    with pytest.raises(TypeError, match="brings its own worker"):
        OsimVectorEnv([lambda: gymnasium.make("osim/Arm2D-v0")], worker=print)
    with pytest.raises(ValueError, match="num_envs must be a positive number"):
        gymnasium.make_vec("osim/Arm2D-v0", num_envs=0)


def test_make_vec_honours_max_episode_steps():
    vec = gymnasium.make_vec("osim/Arm2D-v0", num_envs=1, max_episode_steps=3)
    vec.reset(seed=0)
    truncated = [bool(vec.step(vec.action_space.sample())[3][0]) for _ in range(3)]
    vec.close()
    assert truncated == [False, False, True]


def test_more_envs_than_cpus_do_not_poll():
    vec = OsimVectorEnv([lambda: gymnasium.make("osim/Arm2D-v0")] * (usable_cpus() + 1))
    assert vec.wait_spin_seconds == 0.0
    vec.close()


def test_env_pool_envs_play_their_own_episodes_in_any_order():
    """With batch size 1 the envs come back in whatever order they finish; each one's observations
    are still exactly those of its own episode (seed + index, its own actions)."""
    steps = 5
    actions = np.random.default_rng(7).random((2, steps, 6)).astype(np.float32)
    seen: dict[int, list[np.ndarray]] = {0: [], 1: []}
    with EnvPool("osim/Arm2D-v0", num_envs=2, batch_size=1) as pool:
        pool.async_reset(seed=20)
        played, finished = [0, 0], set()
        while len(finished) < 2:
            observations, rewards, _, _, info = pool.recv()
            assert observations.shape == (1, 16) and rewards.shape == (1,)
            index = int(info["env_id"][0])
            seen[index].append(observations[0])
            if played[index] < steps:
                pool.send(actions[index, played[index]][None], [index])
                played[index] += 1
            else:
                finished.add(index)
    for index in (0, 1):
        np.testing.assert_array_equal(np.array(seen[index]), _episode("osim/Arm2D-v0", 20 + index, actions[index]))


def test_env_pool_returns_batches_and_refuses_misuse():
    with EnvPool("osim/Arm2D-v0", num_envs=3, batch_size=2) as pool:
        with pytest.raises(RuntimeError, match="recv expects at least batch_size=2 envs stepping"):
            pool.recv()
        pool.async_reset(seed=[1, 1, 1])
        observations, _, terminated, truncated, info = pool.recv()
        assert observations.shape == (2, 16) and len(set(info["env_id"])) == 2
        assert not terminated.any() and not truncated.any()
        waiting = [index for index in range(3) if index not in info["env_id"]]
        with pytest.raises(ValueError, match="is not waiting for an action"):
            pool.send(np.zeros((1, 6)), waiting)
        with pytest.raises(ValueError, match="one action per env id"):
            pool.send(np.zeros((1, 6)), info["env_id"])
        with pytest.raises(ValueError, match="one seed per env"):
            pool.async_reset(seed=[1, 2])
        with pytest.raises(RuntimeError, match="async_reset expects every env idle"):
            pool.async_reset(seed=0)  # one reply is still queued
        pool.send(np.zeros((2, 6)), info["env_id"])
        observations, *_ = pool.recv()
        assert observations.shape == (2, 16)
    with pytest.raises(RuntimeError, match="closed"):
        pool.recv()
    with pytest.raises(ValueError, match="batch_size must be a number of envs from 1 to num_envs=2"):
        EnvPool("osim/Arm2D-v0", num_envs=2, batch_size=3)


def test_env_pool_reports_a_failing_env_and_keeps_the_others():
    with EnvPool("osim/Arm2D-v0", num_envs=2, batch_size=2) as pool:
        pool.async_reset(seed=0)
        pool.recv()
        # an action of the wrong size fails inside env 1's step; env 0 steps normally
        pool.send([np.zeros(6), np.zeros(3)], [0, 1])
        with pytest.raises(RuntimeError, match="env 1 failed in its worker"):
            pool.recv()
        pool.send([np.zeros(6)], [1])  # env 1's worker is still there
        observations, *_ = pool.recv()
        assert observations.shape == (2, 16)


def test_env_pool_says_when_a_worker_process_is_gone():
    import os
    import signal

    with EnvPool("osim/Arm2D-v0", num_envs=2, batch_size=1) as pool:
        pool.async_reset(seed=0)
        first = int(pool.recv()[4]["env_id"][0])
        other = 1 - first
        pool.recv()  # both envs idle now
        os.kill(pool.worker_pids[other], signal.SIGKILL)
        pool._processes[other].join(timeout=10)
        with pytest.raises(RuntimeError, match=f"env {other}'s worker process exited"):
            pool.send(np.zeros((1, 6)), [other])
            pool.recv()

"""Every Gymnasium id: the env checker passes, spaces contain what the env returns, vector envs work."""
from __future__ import annotations

import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import osim  # noqa: F401  (registers the ids)
from osim.registration import ENVIRONMENT_IDS, MAX_EPISODE_STEPS


@pytest.mark.parametrize("env_id", sorted(ENVIRONMENT_IDS))
def test_env_checker_passes(env_id):
    env = gymnasium.make(env_id)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unbounded-Box advice
        check_env(env.unwrapped, skip_render_check=True)
    observation, info = env.reset(seed=5)
    assert env.observation_space.contains(observation)
    for _ in range(3):
        observation, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert env.observation_space.contains(observation)
        assert np.isfinite(reward)
    env.close()


@pytest.mark.parametrize("env_id", ["osim/L2M2019-d2-v0", "osim/Prosthetics-v0"])
def test_same_seed_same_episode(env_id):
    def episode(seed):
        env = gymnasium.make(env_id)
        observations = [env.reset(seed=seed)[0]]
        actions = np.random.default_rng(0).uniform(0, 0.4, (5, env.action_space.shape[0]))
        observations += [env.step(a)[0] for a in actions]
        env.close()
        return np.array(observations)

    assert np.array_equal(episode(11), episode(11))


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_make_vec(mode):
    envs = gymnasium.make_vec("osim/Arm2D-v0", num_envs=2, vectorization_mode=mode)
    observations, infos = envs.reset(seed=[1, 2])
    assert observations.shape == (2, envs.single_observation_space.shape[0])
    for _ in range(3):
        observations, rewards, terminated, truncated, infos = envs.step(envs.action_space.sample())
    assert observations.shape[0] == 2 and rewards.shape == (2,)
    envs.close()


def test_every_id_has_max_episode_steps_equal_to_the_env_time_limit():
    assert set(MAX_EPISODE_STEPS) == set(ENVIRONMENT_IDS)
    for env_id in sorted(ENVIRONMENT_IDS):
        env = gymnasium.make(env_id)
        osim_env = env.unwrapped.osim_env
        assert gymnasium.spec(env_id).max_episode_steps == osim_env.spec.timestep_limit == osim_env.time_limit, env_id
        env.close()


def test_time_limit_wrapper_truncates_where_the_env_does():
    """Arm2D: 200 steps; the registered TimeLimit and the env's own truncation agree on the step."""
    env = gymnasium.make("osim/Arm2D-v0")
    env.reset(seed=0)
    action = np.zeros(env.action_space.shape, dtype=env.action_space.dtype)
    steps, truncated, terminated = 0, False, False
    while not (truncated or terminated):
        _, _, terminated, truncated, _ = env.step(action)
        steps += 1
    assert (steps, terminated, truncated) == (200, False, True)
    assert env.unwrapped.osim_env.time_limit_reached()  # the env itself ended it at that step too
    env.close()

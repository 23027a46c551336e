"""Arm2DEnv and Arm2DVecEnv against the spec (§3.7); trajectory parity is in test_parity_2018.py."""
from __future__ import annotations

import math
import random

import numpy as np
import pytest

from osim.env.arm import Arm2DEnv, Arm2DVecEnv


def spec_target(draws: random.Random, release: str) -> tuple[float, float]:
    if release == "2.1.5":
        theta, radius = draws.uniform(9 * math.pi / 8, 12 * math.pi / 8), draws.uniform(0.5, 0.65)
        return math.cos(theta) * radius, math.sin(theta) * radius
    theta, radius = draws.uniform(0, 2 * math.pi / 3), draws.uniform(0.3, 0.65)
    return math.cos(theta) * radius, -math.sin(theta) * radius + 0.8


def expected_observation(env, d):
    res = [env.target_x, env.target_y]
    for joint in ("r_shoulder", "r_elbow"):
        res += d["joint_pos"][joint] + d["joint_vel"][joint] + d["joint_acc"][joint]
    res += [d["muscles"][m]["activation"] for m in ("BIClong", "BICshort", "BRA", "TRIlat", "TRIlong", "TRImed")]
    return res + d["markers"]["r_radius_styloid"]["pos"][:2]


@pytest.mark.parametrize("release", ["3.0.11", "2.1.5"])
def test_targets_layout_reward_and_episode(release):
    env = Arm2DEnv(visualize=False, release=release, seed=4)
    draws = random.Random(4)
    first = env.reset(obs_as_dict=False)
    # The reset observation is computed before the new target is drawn: (0, 0) the first time.
    assert first[:2] == [0.0, 0.0] and len(first) == 16
    target = spec_target(draws, release)
    assert (env.target_x, env.target_y) == target
    assert env.get_state_desc()["joint_pos"]["target-joint"][1:3] == pytest.approx(list(target), abs=1e-15)
    rng = np.random.default_rng(2)
    for step in range(1, 61):  # (later random steps can get slow for the integrator)
        observation, reward, done, info = env.step(rng.uniform(0, 1, 6), obs_as_dict=False)
        if step in (1, 50):
            d = env.get_state_desc()
            assert observation == pytest.approx(expected_observation(env, d), abs=0)
            wrist = d["markers"]["r_radius_styloid"]["pos"]
            distance = (wrist[0] - target[0]) ** 2 + (wrist[1] - target[1]) ** 2
            assert reward == pytest.approx(1 - distance, abs=1e-15)
            assert info["reward_terms"] == {"reach": 1.0, "distance": pytest.approx(-distance, abs=1e-15)}
        assert done is False
    # The 200-step limit: continue from the same state at t = 1.99 s, i.e. step 199.
    state = env.osim_model.get_state()
    state.setTime(1.99)
    env.osim_model.set_state(state)
    assert env.step(np.zeros(6))[2] is True
    second = env.reset(obs_as_dict=False)
    assert second[:2] == list(target)  # again the previous target
    assert (env.target_x, env.target_y) == spec_target(draws, release)


def test_default_observation_form_follows_the_release():
    assert isinstance(Arm2DEnv(visualize=False, seed=0).reset(), dict)  # 3.0.11: the state dict
    assert isinstance(Arm2DEnv(visualize=False, release="2.1.5", seed=0).reset(), list)
    with pytest.raises(ValueError, match="release must be one of"):
        Arm2DEnv(visualize=False, release="2.0")


def test_models_differ_between_releases():
    new, old = Arm2DEnv(visualize=False), Arm2DEnv(visualize=False, release="2.1.5")
    assert new.osim_model.muscle_names == old.osim_model.muscle_names
    assert new.osim_model.model_path != old.osim_model.model_path
    assert new.action_space.shape == (6,) == (new.noutput,)


def test_vec_env_replaces_nan_actions_by_zero():
    a, b = Arm2DVecEnv(visualize=False, seed=1), Arm2DVecEnv(visualize=False, seed=1)
    assert isinstance(a.reset(), list)  # vector observations by default
    b.reset()
    action = np.array([0.5, np.nan, 0.2, np.nan, 0.9, 0.1])
    observation_a, reward_a, done_a, _ = a.step(action)
    observation_b, reward_b, done_b, _ = b.step(np.nan_to_num(action))
    assert observation_a == observation_b and reward_a == reward_b and done_a is done_b is False
    plain = Arm2DEnv(visualize=False)
    plain.reset()
    with pytest.raises(ValueError, match="non-finite"):
        plain.step(action)


def test_observe_new_target_switch():
    env = Arm2DEnv(visualize=False, seed=9, observe_new_target=True)
    first = env.reset(obs_as_dict=False)
    assert first[:2] == [env.target_x, env.target_y] == list(spec_target(random.Random(9), "3.0.11"))
    env.seed(9)
    assert env.reset(obs_as_dict=False) == first  # the same seed, the same observation


@pytest.mark.parametrize("release", ["3.0.11", "2.1.5"])
def test_after_reset_the_model_reports_the_new_target(release):
    """Right after ``reset`` the state (description, OpenSim body) holds the target just drawn.

    The observation ``reset`` returns stays the original's (computed before the draw: the previous
    target); everything read afterwards must see the new one, for two resets in a row.
    """
    env = Arm2DEnv(visualize=False, seed=13, release=release)
    previous = [0.0, 0.0]
    for _ in range(2):
        observation = env.reset(obs_as_dict=False)
        target = [env.target_x, env.target_y]
        assert target != previous and observation[:2] == previous  # the original's reset observation
        description = env.get_state_desc()
        assert description["joint_pos"]["target-joint"][1:] == target
        assert description["body_pos"]["target"][:2] == pytest.approx(target, abs=1e-12)
        model = env.osim_model
        ball = model.get_body("target").getPositionInGround(model.state).to_numpy()
        np.testing.assert_allclose(ball[:2], target, rtol=0, atol=1e-12)
        assert env.get_observation()[:2] == target
        env.step(np.zeros(6))
        previous = target

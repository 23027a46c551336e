"""L2RunEnv, ProstheticsEnv and Arm2DEnv against golden trajectories of the original releases.

The golden cases (tests/golden) were recorded from osim-rl 2.1.5 (L2RunEnv, ProstheticsEnv,
Arm2DEnv with 2018 targets) and 3.0.11 (Arm2DEnv with 2019 targets). Each test replays the
recorded actions on the project's environment and model and compares the observation vectors,
rewards and done flags step by step within 1e-6, plus the random draws (target velocities, arm
targets) that a seed must reproduce.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from golden import case_definition, case_names, load_case
from golden.parity import assert_state_desc_matches

from osim.env.arm import Arm2DEnv
from osim.env.l2run import L2RunEnv
from osim.env.prosthetics import ProstheticsEnv

# Compared with trajectories recorded on the opensim 4.6 wheel, whose rounding they hold (pyproject).
pytestmark = pytest.mark.golden_parity

TOLERANCE = 1e-6
MIN_STEPS = 100

PROSTHETICS_CASES = [n for n in case_names() if case_definition(n).env_class == "ProstheticsEnv"]
ARM_CASES = [n for n in case_names() if case_definition(n).env_class == "Arm2DEnv"]
L2RUN_CASES = [n for n in case_names() if case_definition(n).env_class == "L2RunEnv"]


def replay(env: Any, case: dict[str, Any], step_kwargs: dict[str, Any]) -> tuple[np.ndarray, list, list]:
    """Step through the recorded actions; also check each step's state-description dict.

    The dict (``project=False``) was the official observation of the 2018 graders, so every
    entry (joints, bodies, forces, muscles, markers, centre of mass, ``target_vel``) must match.
    """
    observations, rewards, dones = [], [], []
    for k, action in enumerate(case["actions"]):
        observation, reward, done, _ = env.step(action, **step_kwargs)
        observations.append(observation)
        rewards.append(reward)
        dones.append(done)
        assert_state_desc_matches(env.get_state_desc(), case, k, TOLERANCE)
    return np.asarray(observations, dtype=np.float64), rewards, dones


def assert_trajectory_matches(case: dict[str, Any], first: Any, observations: np.ndarray, rewards, dones) -> None:
    meta = case["meta"]
    n_steps = len(case["actions"])
    # At least 100 steps, unless the original's episode ended earlier.
    assert n_steps >= MIN_STEPS or (meta["ended_by_done"] and bool(case["dones"][-1]))
    assert observations.shape == case["observations"].shape
    np.testing.assert_allclose(first, case["initial_observation"], rtol=0, atol=TOLERANCE)
    worst = np.abs(observations - case["observations"]).max(axis=0)
    assert worst.max() <= TOLERANCE, f"observation entry {int(worst.argmax())} deviates by {worst.max():.3g}"
    np.testing.assert_allclose(rewards, case["rewards"], rtol=0, atol=TOLERANCE)
    np.testing.assert_array_equal(dones, case["dones"])


def test_the_golden_set_covers_every_prosthetics_variant_and_both_arm_releases():
    variants = set()
    for name in PROSTHETICS_CASES:
        definition = case_definition(name)
        settings = {"model": "3D", "prosthetic": True, **definition.constructor_kwargs,
                    **(definition.change_model_kwargs or {})}
        variants.add((settings["model"], settings["prosthetic"], settings["difficulty"]))
    assert {d for _, _, d in variants} == {0, 1, 2}  # 2: set by change_model, as the original allowed
    assert {(m, p) for m, p, _ in variants} == {("3D", True), ("3D", False), ("2D", True), ("2D", False)}
    assert {load_case(n)["meta"]["release"] for n in ARM_CASES} == {"2.1.5", "3.0.11"}
    assert L2RUN_CASES


def test_a_prosthetics_case_runs_through_every_target_change():
    """One case covers the whole 1000-step Round-2 episode, past the falls and all target changes."""
    long_cases = [load_case(n) for n in PROSTHETICS_CASES if len(load_case(n)["actions"]) == 1000]
    assert long_cases, "no ProstheticsEnv case runs the whole 1000 steps"
    targets = long_cases[0]["extras"]["targets"]
    changes = [k for k in range(1, len(targets)) if not np.array_equal(targets[k], targets[k - 1])]
    assert len(changes) == 3 and changes[-1] > 900, changes


@pytest.mark.parametrize("name", L2RUN_CASES)
def test_l2run_matches_the_original(name):
    case = load_case(name)
    definition = case_definition(name)
    env = L2RunEnv(**definition.constructor_kwargs)
    first = env.reset(**definition.reset_kwargs)
    assert env.spec.timestep_limit == case["meta"]["time_limit"]
    assert_trajectory_matches(case, first, *replay(env, case, definition.step_kwargs))


@pytest.mark.parametrize("name", PROSTHETICS_CASES)
def test_prosthetics_matches_the_original(name):
    case = load_case(name)
    definition = case_definition(name)
    env = ProstheticsEnv(**definition.constructor_kwargs)
    if definition.change_model_kwargs is not None:
        env.change_model(**definition.change_model_kwargs)
    assert env.spec.timestep_limit == case["meta"]["time_limit"]
    assert env.get_observation_space_size() == case["meta"]["observation_size"]
    first = env.reset(**definition.reset_kwargs)
    if "targets" in case["extras"]:
        # The target-velocity process must draw exactly what the original drew for this seed.
        np.testing.assert_allclose(env.targets, case["extras"]["targets"], rtol=0, atol=1e-12)
    assert_trajectory_matches(case, first, *replay(env, case, definition.step_kwargs))


@pytest.mark.parametrize("name", ARM_CASES)
def test_arm2d_matches_the_original(name):
    case = load_case(name)
    definition = case_definition(name)
    meta = case["meta"]
    env = Arm2DEnv(**definition.constructor_kwargs, release=meta["release"])
    # The original drew targets from the global `random`, seeded before construction.
    env.seed(meta["python_random_seed_before_construction"])
    first = env.reset(**definition.reset_kwargs)
    assert (env.target_x, env.target_y) == pytest.approx(
        (meta["internals"]["target_x"], meta["internals"]["target_y"]), abs=1e-12
    )
    assert_trajectory_matches(case, first, *replay(env, case, definition.step_kwargs))


def test_a_second_episode_in_the_same_process_matches_the_original_too():
    """Reset (with the case's seed) after a full episode: the same trajectory again."""
    name = "prosthetics_2d_pros_d1"
    case = load_case(name)
    definition = case_definition(name)
    assert definition.reset_kwargs.get("seed") is not None
    env = ProstheticsEnv(**definition.constructor_kwargs)
    env.change_model(**definition.change_model_kwargs)
    env.reset(**definition.reset_kwargs)
    for action in case["actions"][::-1]:  # a different first episode
        if env.step(action)[2]:
            break
    first = env.reset(**definition.reset_kwargs)
    np.testing.assert_allclose(env.targets, case["extras"]["targets"], rtol=0, atol=1e-12)
    assert_trajectory_matches(case, first, *replay(env, case, definition.step_kwargs))

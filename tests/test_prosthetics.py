"""ProstheticsEnv against the spec (§3.5): layout, targets, rewards, termination, models, seeds.

Trajectory parity with the original 2.1.5 is in test_parity_2018.py; these tests check each
formula independently from the state description.
"""
from __future__ import annotations

import csv
import math
import os
import random
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from conftest import REPO_ROOT

from osim.env.prosthetics import ProstheticsEnv

BODIES = ["pelvis", "head", "torso", "toes_l", "toes_r", "talus_l", "talus_r"]
JOINTS = ["ankle_l", "ankle_r", "back", "hip_l", "hip_r", "knee_l", "knee_r"]


@pytest.fixture(scope="module")
def env():
    return ProstheticsEnv(visualize=False, difficulty=1, seed=5)


def expected_observation(d, prosthetic, relative=True):
    """The spec's vector, written from §3.5 without the original's list aliasing."""
    res = []
    pelvis = None
    for body in BODIES:
        if prosthetic and body in ("toes_r", "talus_r"):
            res += [0.0] * 9
            continue
        x, y = d["body_pos"][body][0:2]
        rz = d["body_pos_rot"][body][2]
        if body == "pelvis":
            pelvis = (x, y, rz)
            res += [y, *d["body_vel"][body][0:2], *d["body_acc"][body][0:2], rz,
                    d["body_vel_rot"][body][2], d["body_acc_rot"][body][2]]
            continue
        if relative:
            x, y, rz = x - pelvis[0], y - pelvis[1], rz - pelvis[2]
        res += [x, y, *d["body_vel"][body][0:2], *d["body_acc"][body][0:2], rz,
                d["body_vel_rot"][body][2], d["body_acc_rot"][body][2]]
    for joint in JOINTS:
        res += d["joint_pos"][joint] + d["joint_vel"][joint] + d["joint_acc"][joint]
    for muscle in sorted(d["muscles"]):
        m = d["muscles"][muscle]
        res += [m["activation"], m["fiber_length"], m["fiber_velocity"]]
    com = d["misc"]["mass_center_pos"]
    res += [com[0] - pelvis[0], com[1] - pelvis[1]]
    res += d["misc"]["mass_center_vel"] + d["misc"]["mass_center_acc"]
    return res


def spec_targets(seed, time_limit):
    """The target-velocity process of §3.5 on fresh generators seeded like the original."""
    np_random, py_random = np.random.RandomState(seed), random.Random(seed)
    change = np.cumsum(np_random.poisson(300, 10))
    v, h = 1.25, 0.0
    targets = [[v, 0.0, 0.0]]
    for i in range(1, time_limit + 1):
        if i in change:
            v += py_random.choice([-1, 1]) * py_random.uniform(-0.5, 0.5)
            h += py_random.choice([-1, 1]) * py_random.uniform(-math.pi / 8, math.pi / 8)
        targets.append([v * math.cos(h), 0.0, v * math.sin(h)])
    return np.array(targets), change


def test_observation_layout_and_dict_form(env):
    first = env.reset()
    assert len(first) == 160 == env.get_observation_space_size() == env.observation_space.shape[0]
    rng = np.random.default_rng(0)
    for _ in range(3):
        observation = env.step(rng.uniform(0, 0.5, 19))[0]
    d = env.get_state_desc()
    assert observation == pytest.approx(expected_observation(d, prosthetic=True), abs=1e-15)
    assert observation[35:44] == [0.0] * 9 and observation[53:62] == [0.0] * 9
    # project=False: the state-description dict with this step's target velocity.
    as_dict = env.step(rng.uniform(0, 0.5, 19), project=False)[0]
    assert as_dict["target_vel"] == env.targets[env.osim_model.istep].tolist()
    assert set(as_dict) >= {"joint_pos", "body_pos", "muscles", "forces", "misc", "target_vel"}
    assert env.reset(project=False)["target_vel"] == [1.25, 0.0, 0.0]


def test_absolute_body_positions_switch():
    env = ProstheticsEnv(visualize=False, absolute_body_positions=True)
    env.reset()
    observation = env.step(np.full(19, 0.2))[0]
    d = env.get_state_desc()
    assert observation == pytest.approx(expected_observation(d, prosthetic=True, relative=False), abs=1e-15)
    assert observation[8:10] == d["body_pos"]["head"][0:2]


def test_targets_are_the_spec_process_for_the_seed(env):
    env.reset(seed=3)
    expected, change = spec_targets(3, 1000)
    np.testing.assert_allclose(env.targets, expected, rtol=0, atol=1e-12)
    # What the spec observed running the original with seed 3: changes at 302, 591, 916.
    assert change[:3].tolist() == [302, 591, 916]
    assert env.targets[302] == pytest.approx([1.151, 0, 0.118], abs=1e-3)
    assert env.targets[591] == pytest.approx([1.283, 0, 0.025], abs=1e-3)
    assert np.all(env.targets[:302] == [1.25, 0, 0])


def test_seed_zero_is_a_seed_and_instances_are_independent():
    a = ProstheticsEnv(visualize=False, difficulty=1, seed=0)
    b = ProstheticsEnv(visualize=False, difficulty=1, seed=0)
    a.reset()
    random.seed(99), np.random.seed(99)  # global state must not matter
    b.reset()
    np.testing.assert_array_equal(a.targets, b.targets)
    np.testing.assert_allclose(a.targets, spec_targets(0, 1000)[0], rtol=0, atol=1e-12)
    a.reset()  # unseeded: continues the generator
    assert not np.array_equal(a.targets, b.targets)
    a.reset(seed=0)
    np.testing.assert_array_equal(a.targets, b.targets)


def test_round2_reward_terms(env):
    env.reset(seed=4)
    rng = np.random.default_rng(1)
    _, reward, _, info = env.step(rng.uniform(0, 1, 19))
    d = env.get_state_desc()
    activations = np.array([d["muscles"][m]["activation"] for m in env.osim_model.muscle_names])
    target = env.targets[1]
    expected = 10 - (0.001 * np.sum(activations**2) + (d["body_vel"]["pelvis"][0] - target[0]) ** 2
                     + (d["body_vel"]["pelvis"][2] - target[2]) ** 2)
    assert reward == pytest.approx(expected, abs=1e-12)
    terms = info["reward_terms"]
    assert set(terms) == {"alive", "effort", "velocity_x", "velocity_z"}
    assert sum(terms.values()) == pytest.approx(reward, abs=1e-12)


def test_round1_reward_time_limits_and_done():
    env = ProstheticsEnv(visualize=False)
    assert env.spec.timestep_limit == env.time_limit == 300
    env.reset()
    _, reward, _, info = env.step(np.full(19, 0.3))
    vx = env.get_state_desc()["body_vel"]["pelvis"][0]
    assert reward == pytest.approx(9 - (vx - 3) ** 2, abs=1e-12) and info["reward_terms"] == {"speed": reward}
    assert "target_vel" not in env.get_state_desc()
    # Done when the pelvis body is below 0.6 m (the pose set on a fresh initial state).
    outcomes = set()
    pelvis_ty = env.osim_model.get_coordinate("pelvis_ty")
    for height in (0.62, 0.61, 0.6, 0.59, 0.58):
        env.osim_model.reset(adjust_state=lambda state, h=height: pelvis_ty.setValue(state, h, False))
        pelvis_y = env.get_state_desc()["body_pos"]["pelvis"][1]
        assert pelvis_y == pytest.approx(height, abs=0.02)
        assert env.is_done() is (pelvis_y < 0.6)
        outcomes.add(env.is_done())
    assert outcomes == {True, False}
    env.set_difficulty(1)
    assert env.spec.timestep_limit == 1000
    # Above 1, as in the original: Round 2's task under the limit already in place.
    env.set_difficulty(2)
    assert env.difficulty == 2 and env.spec.timestep_limit == env.time_limit == 1000
    for bad in (-1, 1.5, "2", True):
        with pytest.raises(ValueError, match="difficulty must be an integer >= 0"):
            env.set_difficulty(bad)
    assert env.difficulty == 2


def test_difficulty_2_after_construction_is_round_2_within_the_limit_in_place():
    """``change_model(difficulty=2)`` on an env built at 0 (the original's randomrun script)."""
    env = ProstheticsEnv(visualize=False)
    env.change_model("3D", True, difficulty=2, seed=3)
    assert env.difficulty == 2 and env.spec.timestep_limit == env.time_limit == 300
    env.reset()
    assert env.targets.shape == (301, 3)
    _, reward, _, info = env.step(np.full(19, 0.3), project=False)
    description = env.get_state_desc()
    assert description["target_vel"] == env.targets[1].tolist()
    assert set(info["reward_terms"]) == {"alive", "effort", "velocity_x", "velocity_z"}
    assert reward == pytest.approx(sum(info["reward_terms"].values()), abs=1e-12)
    with pytest.raises(ValueError, match="difficulty must be 0 or 1 at construction"):
        ProstheticsEnv(visualize=False, difficulty=2)


def test_change_model_variants():
    env = ProstheticsEnv(visualize=False)
    model = env.osim_model
    env.change_model("3D", True, 0, seed=1)
    assert env.osim_model is model  # unchanged model: not reloaded
    env.change_model("2D", False, 1, seed=1)
    assert env.osim_model is not model
    assert env.action_space.shape == (22,) and env.observation_space.shape == (169,)
    observation = env.reset()
    assert len(observation) == 169
    assert env.osim_model.get_coordinate("pelvis_list").get_locked()  # the planar model
    observation = env.step(np.full(22, 0.2))[0]
    assert observation == pytest.approx(expected_observation(env.get_state_desc(), prosthetic=False), abs=1e-15)
    with pytest.raises(ValueError, match="'3D' or '2D'"):
        env.change_model("4D")


def test_report_files(tmp_path):
    prefix = str(tmp_path / "run")
    env = ProstheticsEnv(visualize=False, report=prefix)
    env.reset()
    env.step(np.full(19, 0.1))
    env._report.close()
    with open(prefix + "-obs.csv") as f:
        rows = list(csv.reader(f))
    assert len(rows[0]) == 2 + 160 and len(rows) == 3
    assert [float(v) for v in rows[2][2:]] == pytest.approx(env.get_observation(), rel=1e-12)
    with open(prefix + "-act.csv") as f:
        actions = list(csv.reader(f))
    assert actions[0][2:] == env.osim_model.muscle_names and float(actions[1][2]) == pytest.approx(0.1)


README_SNIPPET = """
from osim.env import ProstheticsEnv

env = ProstheticsEnv(visualize=True)
observation = env.reset()
for i in range(200):
    observation, reward, done, info = env.step(env.action_space.sample())
"""


def test_readme_snippet_runs_headless_with_one_warning(tmp_path):
    """The 2018 README example, verbatim, with no display: it runs, warning once."""
    environment = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    environment["PYTHONPATH"] = str(REPO_ROOT)
    script = textwrap.dedent(README_SNIPPET) + "\nprint('steps done', i + 1)\n"
    result = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, cwd=tmp_path,
                            env=environment, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "steps done 200" in result.stdout
    assert result.stderr.count("visualize=True ignored") == 1, result.stderr

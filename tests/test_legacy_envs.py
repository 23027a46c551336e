"""The 2016-17 environments against the spec's formulas (spec §3.1-§3.3).

No release of these environments runs on OpenSim 4.6, so there is no golden data: each test
builds the expected observation, reward or termination independently from the state description
(or from a fresh generator with the same seed) and compares it with what the environment returns.
"""
from __future__ import annotations

import math
import random

import numpy as np
import opensim
import pytest

from osim.env.arm import ArmEnv, angular_dist, sanitify
from osim.env.human import CrouchEnv, GaitEnv, HopEnv, StandEnv
from osim.env.run import RunEnv

LEG_JOINTS = ["hip_r", "knee_r", "ankle_r", "hip_l", "knee_l", "ankle_l"]


def run_steps(env, n, seed=0, high=1.0):
    rng = np.random.default_rng(seed)
    result = None
    for _ in range(n):
        result = env.step(rng.uniform(0, high, env.action_space.shape))
    return result


def with_coordinate(env, name, value, speed=None, time=None):
    """Put the env's current state at a new coordinate value (and time) through the engine."""
    state = env.osim_model.get_state()
    coordinate = env.osim_model.get_coordinate(name)
    coordinate.setValue(state, value, False)
    if speed is not None:
        coordinate.setSpeedValue(state, speed)
    if time is not None:
        state.setTime(time)
    # Realize first: a copied State keeps stale body-transform caches (set_state copies).
    env.osim_model.model.realizePosition(state)
    env.osim_model.set_state(state)


# -- GaitEnv family -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gait():
    return GaitEnv(visualize=False)


def expected_gait_observation(d):
    pelvis = d["joint_pos"]["ground_pelvis"]
    pelvis_speed = d["joint_vel"]["ground_pelvis"]
    expected = [0.0, pelvis[0], pelvis[1], pelvis[2], pelvis_speed[0], pelvis_speed[1], pelvis_speed[2]]
    expected += [d["joint_pos"][j][0] for j in LEG_JOINTS] + [d["joint_vel"][j][0] for j in LEG_JOINTS]
    com, com_v = d["misc"]["mass_center_pos"], d["misc"]["mass_center_vel"]
    expected += [com[0], com[1], com_v[0], com_v[1]]
    for body in ("head", "pelvis", "toes_r", "toes_l"):  # bodySet indices 12, 0, 5, 10
        expected += d["body_pos"][body][:2]
    return expected


def test_gait_observation_layout_reward_and_spaces(gait):
    first = gait.reset()
    assert len(first) == 31 == gait.get_observation_space_size() == gait.observation_space.shape[0]
    assert gait.action_space.shape == (18,)
    assert gait.spec.timestep_limit == 500
    observation, reward, done, info = run_steps(gait, 5)
    d = gait.get_state_desc()
    assert observation == pytest.approx(expected_gait_observation(d), abs=0)
    # The pilot's reward: pelvis_tx minus an all-zero "last state", i.e. the position itself.
    assert reward == d["joint_pos"]["ground_pelvis"][1] == observation[2]
    assert info["reward_terms"] == {"position": reward}
    assert done is False
    # The body order matches the original's bodySet indices.
    bodies = gait.osim_model.bodySet
    assert [bodies.get(i).getName() for i in (12, 0, 5, 10)] == ["head", "pelvis", "toes_r", "toes_l"]


def test_gait_actions_are_activations_with_zero_excitation(gait):
    gait.reset()
    action = np.linspace(0.05, 0.95, 18)
    gait.step(action)
    activations = np.array(gait.osim_model.get_activations())
    # Written at the start of the step, then decaying with zero excitation for 0.01 s.
    assert np.all(activations < action) and np.all(activations > 0.5 * action)
    assert np.all(np.diff(activations) > 0)  # the order of the action survives
    assert np.all(gait.osim_model.last_excitations == 0)


def test_gait_done_threshold_is_pelvis_ty_07(gait):
    gait.reset()
    with_coordinate(gait, "pelvis_ty", 0.701)
    assert not gait.is_done()
    with_coordinate(gait, "pelvis_ty", 0.699)
    assert gait.is_done()


def test_gait_delta_reward_switch():
    env = GaitEnv(visualize=False, delta_reward=True)
    env.reset()
    _, reward, _, info = run_steps(env, 3)
    d, previous = env.get_state_desc(), env.get_prev_state_desc()
    assert reward == d["joint_pos"]["ground_pelvis"][1] - previous["joint_pos"]["ground_pelvis"][1]
    assert info["reward_terms"] == {"progress": reward}
    with pytest.raises(ValueError, match="delta_reward applies to GaitEnv"):
        StandEnv(visualize=False, delta_reward=True)


def test_integration_failure_gives_minus_500_and_done(gait):
    gait.reset()
    state = gait.osim_model.get_state()
    gait.osim_model.get_coordinate("pelvis_tilt").setSpeedValue(state, float("nan"))
    gait.osim_model.set_state(state)
    _, reward, done, info = gait.step(np.full(18, 0.5))
    assert reward == -500 and done is True
    assert "non-finite" in info["simulation_failure"]
    gait.reset()  # usable again
    assert gait.step(np.full(18, 0.5))[1] != -500


def test_stand_reward_formula():
    env = StandEnv(visualize=False)
    env.reset()
    _, reward, _, _ = run_steps(env, 4)
    misc = env.get_state_desc()["misc"]
    a2 = sum(a**2 for a in misc["mass_center_acc"])
    v2 = sum(v**2 for v in misc["mass_center_vel"])
    assert reward == pytest.approx((50 - min(a2, 10) - min(v2, 40)) / 50, abs=1e-12)


@pytest.mark.parametrize("cls", [HopEnv, CrouchEnv])
def test_hop_and_crouch_drive_muscle_pairs_and_keep_the_07_threshold(cls):
    env = cls(visualize=False)
    env.reset()
    assert env.action_space.shape == (9,)
    assert env.osim_model.n_muscles == 18
    assert env.osim_model.get_coordinate("pelvis_tx").get_locked()
    action = np.linspace(0.1, 0.9, 9)
    _, reward, _, _ = env.step(action)
    activations = np.array(env.osim_model.get_activations())
    np.testing.assert_allclose(activations[:9], activations[9:], rtol=0, atol=1e-12)
    assert np.all(np.diff(activations[:9]) > 0)
    y = env.get_state_desc()["joint_pos"]["ground_pelvis"][2]
    expected = y**3 if cls is HopEnv else 1 - (y - 0.5) ** 3
    assert reward == pytest.approx(expected, abs=1e-12)
    with_coordinate(env, "pelvis_ty", 0.69)
    assert env.is_done()  # the inherited 0.7 limit, not the task's own


def test_own_height_limit_switch():
    env = CrouchEnv(visualize=False, own_height_limit=True)
    env.reset()
    with_coordinate(env, "pelvis_ty", 0.3)
    assert not env.is_done()
    with_coordinate(env, "pelvis_ty", 0.24)
    assert env.is_done()


def test_instances_do_not_share_state(gait):
    other = GaitEnv(visualize=False)
    other.reset()
    gait.reset()
    with_coordinate(other, "pelvis_ty", 0.5)
    assert other.is_done() and not gait.is_done()


# -- ArmEnv --------------------------------------------------------------------------------------


def test_arm_env_targets_observation_reward_and_time_limit():
    env = ArmEnv(visualize=False, seed=0)
    draws = random.Random(0)
    first = env.reset()
    assert (first[0], first[1]) == (draws.uniform(-1.2, 0.3), draws.uniform(-1.0, 0.0))
    assert len(first) == 14 == env.observation_space.shape[0]
    rng = np.random.default_rng(1)
    for step in range(1, 201):
        observation, reward, done, _ = env.step(rng.uniform(0, 1, 6))
        if step == 3:
            d = env.get_state_desc()
            s, e = d["joint_pos"]["r_shoulder"][0], d["joint_pos"]["r_elbow"][0]
            expected = [env.shoulder_tgt, env.elbow_tgt, s, e,
                        d["joint_vel"]["r_shoulder"][0], d["joint_vel"]["r_elbow"][0],
                        sanitify(d["joint_acc"]["r_shoulder"][0]), sanitify(d["joint_acc"]["r_elbow"][0]),
                        *d["misc"]["mass_center_pos"], *d["misc"]["mass_center_vel"]]
            assert observation == pytest.approx(expected, abs=0)
            assert reward == -(angular_dist(s, env.shoulder_tgt) + angular_dist(e, env.elbow_tgt))
        assert done is (step == 200), step
    second = env.reset()
    assert (second[0], second[1]) == (draws.uniform(-1.2, 0.3), draws.uniform(-1.0, 0.0))


def test_angular_dist_and_sanitify():
    assert angular_dist(0.1, 2 * math.pi - 0.1) == pytest.approx(0.2)
    assert angular_dist(math.pi, 0) == pytest.approx(math.pi)
    assert sanitify(float("nan")) == 0 and sanitify(5e3) == 1000 and sanitify(-5e3) == -1000


# -- RunEnv --------------------------------------------------------------------------------------


def spec_draws(seed, difficulty, max_obstacles):
    """The spec's RNG draw order (§3.3), on a fresh RandomState."""
    rng = np.random.RandomState(seed)
    xs, ys, rs = np.zeros(0), np.zeros(0), np.zeros(0)
    n = 0
    if difficulty > 0:
        n = min(3, max_obstacles)
        xs, ys = rng.uniform(1, 5, n), rng.uniform(-0.25, 0.25, n)
        rs = 0.05 + rng.exponential(0.05, n)
    if difficulty > 0 and max_obstacles > 3:
        extra = max(min(20, max_obstacles) - n, 0)
        xs = np.concatenate([xs, np.cumsum(rng.uniform(2, 4, extra)) + 5])
        ys = np.concatenate([ys, rng.uniform(-0.05, 0.25, extra)])
        rs = np.concatenate([rs, 0.05 + rng.exponential(0.05, extra)])
    right = left = 1.0
    if difficulty >= 2:
        right = max(0.5, 1 - rng.normal(0, 0.1))
        left = max(0.5, 1 - rng.normal(0, 0.1))
    return sorted(zip(xs, ys * rs, rs)), right, left


@pytest.fixture(scope="module")
def run_env():
    return RunEnv(visualize=False, max_obstacles=5)


@pytest.mark.parametrize("difficulty", [0, 1, 2])
def test_run_obstacles_and_psoas_for_a_seed(run_env, difficulty):
    run_env.reset(difficulty=difficulty, seed=7)
    obstacles, right, left = spec_draws(7, difficulty, 5)
    np.testing.assert_array_equal(np.reshape(run_env.env_desc["obstacles"], (-1, 3)), np.reshape(obstacles, (-1, 3)))
    assert len(obstacles) == (5 if difficulty else 0)
    strengths = run_env.env_desc["muscles"]
    assert strengths[3] == right and strengths[11] == left  # index 11 = glut_max_l (the quirk)
    assert run_env.osim_model.muscle_names[11] == "glut_max_l"
    # The obstacles are in the simulated state, with their radii, and the rest are parked.
    d = run_env.get_state_desc()
    for i, part in enumerate(run_env.obstacle_parts):
        x, y, r = obstacles[i] if i < len(obstacles) else (0.0, -0.1, 1e-4)
        assert d["body_pos"][f"{i}-block"][:2] == pytest.approx([x, y], abs=1e-12)
        assert part.sphere.getRadius() == pytest.approx(r, abs=0)
        assert part.force.getStiffness() == pytest.approx(1e6 / r)
    # Strengths reach the muscles.
    muscles = run_env.osim_model.muscleSet
    forces = run_env.osim_model.max_isometric_forces
    assert muscles.get(11).getMaxIsometricForce() == pytest.approx(left * forces[11])
    assert muscles.get(12).getMaxIsometricForce() == pytest.approx(forces[12])


def test_run_seedless_reset_continues_the_generator(run_env):
    run_env.reset(difficulty=2, seed=3)
    first_episode = run_env.env_desc
    run_env.reset(difficulty=2)
    assert run_env.env_desc != first_episode
    # A second instance seeded the same way draws the same second episode (no shared state).
    other = RunEnv(visualize=False, max_obstacles=5)
    other.reset(difficulty=2, seed=3)
    other.reset(difficulty=2)
    assert other.env_desc == run_env.env_desc
    run_env.reset(difficulty=2, seed=3)
    assert run_env.env_desc != other.env_desc


def test_run_observation_reward_and_done(run_env):
    first = run_env.reset(difficulty=2, seed=11)
    assert len(first) == 41 == run_env.observation_space.shape[0]
    x0, y0, r0 = run_env.env_desc["obstacles"][0]
    assert first[38:41] == pytest.approx([x0 - first[1], y0, r0], abs=1e-15)  # the first obstacle is visible at reset
    observation, reward, done, info = run_steps(run_env, 4, high=0.4)
    d, prev = run_env.get_state_desc(), run_env.get_prev_state_desc()
    pelvis, pelvis_v = d["joint_pos"]["ground_pelvis"], d["joint_vel"]["ground_pelvis"]
    expected = list(pelvis) + list(pelvis_v)
    expected += [d["joint_pos"][j][0] for j in LEG_JOINTS] + [d["joint_vel"][j][0] for j in LEG_JOINTS]
    expected += d["misc"]["mass_center_pos"][:2] + d["misc"]["mass_center_vel"][:2]
    for body in ("head", "pelvis", "torso", "toes_l", "toes_r", "talus_l", "talus_r"):
        expected += d["body_pos"][body][:2]
    strengths = run_env.env_desc["muscles"]
    expected += [strengths[11], strengths[3]]
    ahead = [(x, y, r) for x, y, r in run_env.env_desc["obstacles"] if x + r >= pelvis[1]]
    expected += [ahead[0][0] - pelvis[1], ahead[0][1], ahead[0][2]] if ahead else [100, 0, 0]
    assert observation == pytest.approx(expected, abs=0)
    # Reward: pelvis_tx progress minus 1e-7 times the norm of the six ligament forces.
    model_forces = run_env.osim_model.forceSet
    names = [model_forces.get(j).getName() for j in range(20, 26)]
    ligament = math.sqrt(sum(d["forces"][n][0] ** 2 for n in names))
    limit_force = opensim.CoordinateLimitForce.safeDownCast(model_forces.get(20))
    run_env.osim_model.model.realizeDynamics(run_env.osim_model.state)
    assert d["forces"][names[0]][0] == pytest.approx(limit_force.calcLimitForce(run_env.osim_model.state))
    progress = pelvis[1] - prev["joint_pos"]["ground_pelvis"][1]
    assert reward == pytest.approx(progress - 1e-7 * ligament, abs=1e-15)
    assert info["reward_terms"]["forward"] == pytest.approx(progress, abs=0)
    assert done is False
    with_coordinate(run_env, "pelvis_ty", 0.64)
    assert run_env.is_done()
    # Time limit 1000: a state at t = 9.99 s is step 999; the next step ends the episode.
    run_env.reset(difficulty=0)
    with_coordinate(run_env, "pelvis_ty", 0.94, time=9.99)
    assert run_env.spec.timestep_limit == 1000
    assert run_env.step(np.full(18, 0.1))[2] is True


def test_run_psoas_fix_switch():
    env = RunEnv(visualize=False, max_obstacles=3, psoas_fix=True)
    observation = env.reset(difficulty=2, seed=7)
    _, right, left = spec_draws(7, 2, 3)
    strengths = env.env_desc["muscles"]
    assert strengths[12] == left and strengths[11] == 1.0 and strengths[3] == right
    assert observation[36:38] == [left, right]


def test_run_obstacle_pushes_a_foot():
    """An obstacle placed at a heel makes its contact force act (the sphere-sphere contact works)."""
    env = RunEnv(visualize=False, max_obstacles=1)
    env.reset(difficulty=0)
    heel = env.get_state_desc()["body_pos"]["calcn_r"]
    env.env_desc["obstacles"] = [(heel[0], 0.0, 0.1)]
    from osim.engine.scene import reset_with_obstacles, size_obstacles

    size_obstacles(env.engine, env.obstacle_parts, [0.1])
    reset_with_obstacles(env.engine, env.obstacle_parts, [(heel[0], 0.0)])
    env.step(np.zeros(18))
    assert np.abs(env.get_state_desc()["forces"]["0-force"]).max() > 1.0


# -- the 2017 README ------------------------------------------------------------------------------

README_SETUP = """
from osim.env import GaitEnv

env = GaitEnv(visualize=True)
observation = env.reset()
"""
# The README's controller placeholder, here random actions as in its first example.
README_CONTROLLER = "my_controler = lambda observation: env.action_space.sample()\n"
README_LOOP = """
# ...
total_reward = 0.0
for i in range(500):
    # make a step given by the controler and record the state and the reward
    observation, reward, done, info = env.step(my_controler(observation)) 
    total_reward += reward

# Your reward is
print("Total reward %f" % total_reward)
"""


def test_2017_readme_snippet_runs_headless_with_one_warning(tmp_path):
    """The 2017 README's GaitEnv example and total-reward loop, verbatim, without a display."""
    import os
    import subprocess
    import sys
    import textwrap

    from conftest import REPO_ROOT

    environment = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    environment["PYTHONPATH"] = str(REPO_ROOT)
    script = textwrap.dedent(README_SETUP) + README_CONTROLLER + textwrap.dedent(README_LOOP)
    script += "\nprint('steps', i + 1)\n"
    result = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, cwd=tmp_path,
                            env=environment, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "steps 500" in result.stdout
    total = float(result.stdout.split("Total reward ")[1].split()[0])
    assert math.isfinite(total) and total != 0.0
    assert result.stderr.count("visualize=True ignored") == 1, result.stderr


# -- reproducibility and the report ----------------------------------------------------------------


@pytest.mark.parametrize("make", [lambda: GaitEnv(visualize=False), lambda: RunEnv(visualize=False)])
def test_same_seed_and_actions_give_the_same_episode_after_a_reset(make):
    env = make()
    actions = np.random.default_rng(5).uniform(0, 0.5, (15, env.action_space.shape[0]))

    def episode():
        first = env.reset(seed=21) if isinstance(env, RunEnv) else env.reset()
        return [first] + [env.step(a)[:3] for a in actions]

    assert episode() == episode()


def test_run_report_rows(tmp_path):
    import csv

    prefix = str(tmp_path / "run")
    env = RunEnv(visualize=False, report=prefix)
    env.reset(difficulty=1, seed=2)
    observation = env.step(np.full(18, 0.2))[0]
    env._report.close()
    with open(prefix + "-obs.csv") as f:
        rows = list(csv.reader(f))
    assert len(rows) == 3 and len(rows[0]) == 2 + 41 + 18 + 36
    values = [float(v) for v in rows[2][2:]]
    assert values[:41] == pytest.approx(observation, rel=1e-12)
    assert values[41:59] == pytest.approx(env.osim_model.get_activations(), rel=1e-12)
    forces = env.get_state_desc()["forces"]
    assert values[59:] == pytest.approx(forces["foot_r"] + forces["foot_l"], rel=1e-12)


def test_run_keeps_the_original_state_attributes(run_env):
    first = run_env.reset(difficulty=0)
    assert run_env.current_state == first == run_env.last_state
    observation = run_env.step(np.full(18, 0.1), project=False)[0]
    assert isinstance(observation, dict)
    assert run_env.last_state == first and run_env.current_state == run_env.get_observation()
    assert run_env.current_state[run_env.STATE_PELVIS_X] == observation["joint_pos"]["ground_pelvis"][1]
    assert run_env.is_pelvis_too_low() is run_env.is_done() is False

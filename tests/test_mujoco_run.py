"""RunEnv (NIPS 2017, obstacles) on the MuJoCo engine: the same task, layout, obstacles and refusals.

The task code is the same on both engines (``RunTask``); the obstacles are the engine-neutral parts
of :mod:`osim.engine.scene` (on MuJoCo: lockable planar bodies with a contact sphere and explicit
frictionless contact pairs with the feet, their law matched to OpenSim's Hunt-Crossley force:
:mod:`osim.engine.mujoco.sphere_contact`).
"""
from __future__ import annotations

import math

import gymnasium
import numpy as np
import pytest
from scipy.spatial.transform import Rotation
from test_mujoco_envs import layout

import osim  # noqa: F401 - registers the Gymnasium ids
from osim.engine.mujoco.engine import MujocoSimulation
from osim.engine.mujoco.sphere_contact import hunt_crossley_force, matched_spring, pair_solref
from osim.engine.scene import (
    OBSTACLE_DISSIPATION,
    OBSTACLE_STIFFNESS_TIMES_RADIUS,
    PARKED_RADIUS,
    PARKED_Y,
    ObstacleNames,
    reset_with_obstacles,
    size_obstacles,
)
from osim.env.run import RunEnv, RunTask

ENGINES = ["opensim", "mujoco"]
FOOT_RADIUS = 0.05


def make(engine: str, **settings) -> RunEnv:
    return RunEnv(visualize=False, engine=engine, **settings)


def episode(env: RunEnv, seed: int, steps: int) -> list[list[float]]:
    """Observations of a seeded reset (difficulty 2) and ``steps`` seeded random-excitation steps."""
    actions = np.random.default_rng(seed).uniform(0, 1, (steps, 18))
    observations = [env.reset(difficulty=2, seed=seed)]
    for action in actions:
        observation, _, done, _ = env.step(action)
        observations.append(observation)
        if done:
            break
    return observations


def sphere_centre(env: RunEnv, name: str) -> np.ndarray:
    """Ground-frame centre of contact sphere ``name`` in the current state."""
    description = env.get_state_desc()
    sphere = env.engine.structure.contact(name)
    rotation = Rotation.from_euler("XYZ", description["body_pos_rot"][sphere.body]).as_matrix()
    return np.asarray(description["body_pos"][sphere.body]) + rotation @ np.asarray(sphere.location)


def press_obstacle_into_heel(env: RunEnv, radius: float, depth: float) -> None:
    """Reset ``env`` (one obstacle) at its default pose with the obstacle under the right heel,
    overlapping the heel sphere by ``depth``."""
    env.reset(difficulty=0)
    heel = sphere_centre(env, "r_heel")
    size_obstacles(env.engine, env.obstacle_parts, [radius])
    below = math.sqrt((radius + FOOT_RADIUS - depth) ** 2 - heel[2] ** 2)  # the obstacle is at z = 0
    reset_with_obstacles(env.engine, env.obstacle_parts, [(heel[0], heel[1] - below)])


def heel_force(env: RunEnv) -> np.ndarray:
    """The obstacle's force on the right heel's body (``0-force`` record, the calcn_r entry)."""
    return np.asarray(env.get_state_desc()["forces"]["0-force"]).reshape(5, 6)[1, :3]


# -- the same task and layout ----------------------------------------------------------------------

def test_run_on_mujoco_has_opensims_layout_structure_and_task():
    ours, theirs = make("mujoco", max_obstacles=5), make("opensim", max_obstacles=5)
    assert isinstance(ours.engine._engine, MujocoSimulation)
    assert type(ours.task) is type(theirs.task) is RunTask
    assert ours.observation_space == theirs.observation_space and ours.action_space == theirs.action_space
    mine, original = ours.engine.structure, theirs.engine.structure
    for group in ("coordinates", "joints", "bodies", "contact_geometry", "forces", "state_variables", "muscles"):
        names = [getattr(item, "name", item) for item in getattr(mine, group)]
        assert names == [getattr(item, "name", item) for item in getattr(original, group)], group
    first, reference = ours.reset(difficulty=2, seed=7), theirs.reset(difficulty=2, seed=7)
    assert ours.env_desc == theirs.env_desc  # the same draws
    assert len(first) == len(reference) == 41
    assert first[36:] == reference[36:]  # psoas strengths and the next obstacle: the task's, exactly
    assert layout(ours.get_state_desc()) == layout(theirs.get_state_desc())
    for _ in range(3):
        ours.step(np.full(18, 0.2))
        theirs.step(np.full(18, 0.2))
    assert layout(ours.get_state_desc()) == layout(theirs.get_state_desc())
    assert layout(ours.reset(difficulty=1, seed=2, obs_as_dict=True)) == layout(
        theirs.reset(difficulty=1, seed=2, obs_as_dict=True))


def test_run_on_mujoco_is_deterministic():
    first, second = make("mujoco", max_obstacles=3), make("mujoco", max_obstacles=3)
    reference = episode(first, 5, 80)
    assert len(reference) > 20
    for observations in (episode(first, 5, 80), episode(second, 5, 80)):
        assert observations == reference
    assert episode(first, 6, 10) != reference[:11]  # another seed: other obstacles, another run


def test_run_reward_and_termination_are_the_tasks_on_mujoco():
    env = make("mujoco", max_obstacles=3)
    env.reset(difficulty=2, seed=11)
    before = env.get_state_desc()["joint_pos"]["ground_pelvis"][1]
    _, reward, done, info = env.step(np.full(18, 0.3))
    d = env.get_state_desc()
    forward = d["joint_pos"]["ground_pelvis"][1] - before
    ligaments = math.sqrt(sum(d["forces"][name][0] ** 2 for name in
                              ("HipLimit_r", "HipLimit_l", "KneeLimit_r", "KneeLimit_l", "AnkleLimit_r",
                               "AnkleLimit_l"))) * 1e-7
    assert info["reward_terms"]["forward"] == forward
    assert reward == pytest.approx(forward - ligaments, abs=1e-15)
    assert done is False
    for _ in range(300):  # passive: it falls, and the task ends the episode when the pelvis is low
        _, _, done, info = env.step(np.zeros(18))
        if done:
            break
    assert done and env.get_state_desc()["joint_pos"]["ground_pelvis"][2] < 0.65


# -- the obstacles ---------------------------------------------------------------------------------

@pytest.mark.parametrize("difficulty", [0, 1, 2])
def test_obstacles_are_where_the_task_put_them_on_mujoco(difficulty):
    env = make("mujoco", max_obstacles=5)
    env.reset(difficulty=difficulty, seed=7)
    engine = env.engine._engine
    placed = env.env_desc["obstacles"]
    assert len(placed) == (5 if difficulty else 0)

    def check(tolerance: float) -> None:
        d = env.get_state_desc()
        for i, obstacle in enumerate(env.obstacle_parts):
            x, y, r = placed[i] if i < len(placed) else (0.0, PARKED_Y, PARKED_RADIUS)
            assert obstacle == ObstacleNames.numbered(i)
            assert d["body_pos"][obstacle.body][:2] == pytest.approx([x, y], abs=tolerance)
            assert d["joint_pos"][obstacle.joint] == pytest.approx([0.0, x, y], abs=tolerance)
            assert env.engine.structure.contact(obstacle.sphere).radius == r
            geom = engine._id(engine._mujoco.mjtObj.mjOBJ_GEOM, obstacle.sphere)
            assert engine.mj_model.geom_size[geom, 0] == r and engine.mj_model.geom_rbound[geom] == r
            assert all(env.engine.coordinate_locked(name) for name in obstacle.coordinates)

    check(1e-12)
    for _ in range(40):  # the feet land and run into the first obstacles' region: the locks hold
        if env.step(np.random.default_rng(1).uniform(0, 1, 18))[2]:
            break
    check(1e-6)


def test_obstacle_sizes_follow_each_reset_on_mujoco_and_in_the_picture():
    from osim.render.structure_geometry import StructureGeometry

    env = make("mujoco", max_obstacles=3)
    geometry = StructureGeometry(env.engine)
    for seed in (1, 2):
        env.reset(difficulty=1, seed=seed)
        radii = [r for _, _, r in env.env_desc["obstacles"]]
        scene = geometry.compute()
        drawn = dict(zip(scene.contact_names, scene.contact_radius))
        assert [drawn[f"{i}-contact"] for i in range(3)] == radii


def test_obstacles_are_drawn_on_mujoco_as_on_opensim():
    from test_render import _color_pixels, _pixel

    from osim.render import colors

    drawn = {}
    for engine in ENGINES:
        run = make(engine, render_mode="rgb_array")
        run.seed(2)  # the first obstacle is then in view (x about 1.1 m)
        run.reset(difficulty=1)
        x, y, _ = run.env_desc["obstacles"][0]
        image = run.render()
        u, v = _pixel(run._renderer, [x, y, 0.0])
        assert (np.abs(image[v, u].astype(int) - np.array(colors.OBSTACLE)) <= 2).all(), engine
        drawn[engine] = _color_pixels(image, colors.OBSTACLE)
        run.reset(difficulty=0)  # no obstacles: all parked out of sight
        assert _color_pixels(run.render(), colors.OBSTACLE) == 0
    assert drawn["mujoco"] == pytest.approx(drawn["opensim"], rel=0.1)


def test_obstacles_touch_neither_the_ground_nor_each_other_on_mujoco():
    env = make("mujoco", max_obstacles=2)
    env.reset(difficulty=0)
    size_obstacles(env.engine, env.obstacle_parts, [0.2, 0.2])
    reset_with_obstacles(env.engine, env.obstacle_parts, [(3.0, 0.0), (3.1, 0.05)])  # in the ground, overlapping
    env.step(np.zeros(18))
    engine = env.engine._engine
    spheres = {engine._id(engine._mujoco.mjtObj.mjOBJ_GEOM, o.sphere) for o in env.obstacle_parts}
    data = engine.mj_data
    assert data.ncon > 0  # the feet stand on the ground
    assert not spheres & {int(g) for g in (*data.contact.geom1[:data.ncon], *data.contact.geom2[:data.ncon])}
    for obstacle in env.obstacle_parts:
        assert not np.any(env.get_state_desc()["forces"][obstacle.force])


@pytest.mark.parametrize("engine", ENGINES)
def test_a_foot_pressed_onto_an_obstacle_is_pushed(engine):
    """The obstacle's contact force acts on the heel (upwards), and the heel moves up faster than
    it does with the obstacle parked."""
    env = make(engine, max_obstacles=1)
    press_obstacle_into_heel(env, 0.1, 0.005)
    force = heel_force(env)
    assert force[1] > 100.0  # N, upwards
    obstacle = np.asarray(env.get_state_desc()["forces"]["0-force"]).reshape(5, 6)
    assert obstacle[0, :3] == pytest.approx(-obstacle[1:, :3].sum(axis=0), abs=1e-6 * abs(force[1]))
    env.step(np.zeros(18))
    pushed = env.get_state_desc()["body_vel"]["calcn_r"][1]
    env.reset(difficulty=0)  # the obstacle parked
    env.step(np.zeros(18))
    assert pushed > env.get_state_desc()["body_vel"]["calcn_r"][1] + 0.05


@pytest.mark.parametrize("radius", [0.08, 0.1, 0.25])  # the heels are 9 cm off the obstacles' plane
def test_obstacle_contact_law_on_both_engines(radius):
    """OpenSim's force is the Hunt-Crossley law of sphere_contact; MuJoCo's the spring matched to it
    where it carries the model's weight (within 10 % from 2 mm on: at rest, the rest of MuJoCo's
    soft constraint is small)."""
    stiffness = OBSTACLE_STIFFNESS_TIMES_RADIUS / radius
    opensim_env, mujoco_env = make("opensim", max_obstacles=1), make("mujoco", max_obstacles=1)
    weight = mujoco_env.engine._engine._weight
    assert weight == pytest.approx(79.6646 * 9.80665, rel=1e-3)  # the runner (the obstacle adds 0.1 g)
    matched_depth, spring, _ = matched_spring(stiffness, OBSTACLE_DISSIPATION, radius, FOOT_RADIUS, weight)
    for depth in (0.002, 0.005, matched_depth, 0.02):
        press_obstacle_into_heel(opensim_env, radius, depth)
        law = hunt_crossley_force(stiffness, OBSTACLE_DISSIPATION, radius, FOOT_RADIUS, depth)
        assert np.linalg.norm(heel_force(opensim_env)) == pytest.approx(law, rel=1e-6)
        press_obstacle_into_heel(mujoco_env, radius, depth)
        assert np.linalg.norm(heel_force(mujoco_env)) == pytest.approx(spring * depth, rel=0.1)
    assert np.linalg.norm(heel_force(mujoco_env)) > 0.0
    press_obstacle_into_heel(mujoco_env, radius, matched_depth)
    press_obstacle_into_heel(opensim_env, radius, matched_depth)
    assert np.linalg.norm(heel_force(mujoco_env)) == pytest.approx(np.linalg.norm(heel_force(opensim_env)), rel=0.1)


def test_the_spring_law_functions():
    depth, spring, damping = matched_spring(1e7, 1e-5, 0.1, 0.05, 800.0)
    assert spring * depth == pytest.approx(800.0)
    assert hunt_crossley_force(1e7, 1e-5, 0.1, 0.05, depth) == pytest.approx(800.0)
    assert damping == pytest.approx(1.5 * 1e-5 * 800.0)
    assert hunt_crossley_force(1e7, 1e-5, 0.1, 0.05, -0.001) == 0.0
    assert pair_solref(1e4, 2.0, 0.5) == pytest.approx((-1e4 * 0.99 * 0.5, -2.0 * 0.99 * 0.5))
    with pytest.raises(ValueError, match="load must be a positive finite number"):
        matched_spring(1e7, 1e-5, 0.1, 0.05, 0.0)
    with pytest.raises(ValueError, match="radius1 must be a positive finite number"):
        matched_spring(1e7, 1e-5, -0.1, 0.05, 800.0)


# -- refusals --------------------------------------------------------------------------------------

@pytest.mark.parametrize("engine", ENGINES)
def test_run_refuses_bad_input_as_on_opensim(engine):
    with pytest.raises(ValueError, match="max_obstacles must be an integer >= 0"):
        make(engine, max_obstacles=-1)
    env = make(engine, max_obstacles=2)
    with pytest.raises(ValueError, match="difficulty must be 0, 1 or 2"):
        env.reset(difficulty=3)
    env.reset(difficulty=1, seed=0)
    for bad, message in ((np.full(18, np.nan), "NaN"), (np.zeros(17), "18")):
        with pytest.raises(ValueError, match=message):
            env.step(bad)
    with pytest.raises(ValueError, match="one radius"):
        size_obstacles(env.engine, env.obstacle_parts, [0.1])
    with pytest.raises(ValueError, match="positive finite"):
        size_obstacles(env.engine, env.obstacle_parts, [0.1, -0.2])
    with pytest.raises(ValueError, match="one centre"):
        reset_with_obstacles(env.engine, env.obstacle_parts, [(1.0, 0.0)])
    env.reset(difficulty=1, seed=0)  # usable after the refusals
    assert np.isfinite(env.step(np.full(18, 0.5))[1])


def test_run_refusals_have_the_same_messages_on_both_engines():
    ours, theirs = make("mujoco", max_obstacles=1), make("opensim", max_obstacles=1)
    ours.reset(difficulty=0)
    theirs.reset(difficulty=0)
    for bad in (np.full(18, np.nan), np.zeros(17), np.full(18, np.inf)):
        with pytest.raises(ValueError) as mine:
            ours.step(bad)
        with pytest.raises(ValueError) as original:
            theirs.step(bad)
        assert str(mine.value) == str(original.value)


def test_mujoco_engine_refuses_bad_contact_changes():
    engine = make("mujoco", max_obstacles=1).engine._engine
    with pytest.raises(ValueError, match="no contact sphere 'nose'"):
        engine.set_contact_spheres({"nose": 0.1})
    with pytest.raises(ValueError, match="must be a positive finite number"):
        engine.set_contact_spheres({"0-contact": float("nan")})
    with pytest.raises(ValueError, match="forces between spheres only"):
        engine.set_contact_stiffness({"foot_r": 1e6})
    with pytest.raises(ValueError, match="the model already has"):
        engine.add_bodies({"bodies": [{"name": "0-block", "mass": 1.0, "mass_center": [0, 0, 0],
                                       "inertia": [1, 1, 1, 0, 0, 0]}]})


# -- Gymnasium -------------------------------------------------------------------------------------

def test_gymnasium_run_id_takes_the_mujoco_engine():
    def run(seed: int) -> list[np.ndarray]:
        env = gymnasium.make("osim/Run-v0", engine="mujoco", visualize=False)
        assert isinstance(env.unwrapped.osim_env.engine._engine, MujocoSimulation)
        observation, _ = env.reset(seed=seed)
        observations = [observation]
        actions = np.random.default_rng(seed).uniform(0, 1, (15, 18)).astype(np.float32)
        for action in actions:
            observation, reward, terminated, truncated, _ = env.step(action)
            assert observation.shape == env.observation_space.shape and np.isfinite(reward)
            observations.append(observation)
            if terminated or truncated:
                break
        env.close()
        return observations

    first, again = run(4), run(4)
    assert len(first) == len(again) and all(np.array_equal(a, b) for a, b in zip(first, again))

"""The 2-D reflex walk on the MuJoCo engine with the parameters re-optimised there (osim/control/data).

The published ``params_2D`` walking on OpenSim is tested in tests/test_reflex.py. On MuJoCo they fall
after 0.33 s (0.45 m); ``params_2D_mujoco_walk.txt`` (CMA-ES from them, then the coordinate search)
walks 19.5 m in 10 s without falling; ``params_2D_mujoco.txt`` (8.90 m) stays the walking recipe's
teacher.
"""
from __future__ import annotations

import numpy as np
import pytest

from osim.control import (
    EXAMPLE_INIT_POSE,
    OsimReflexCtrl,
    load_published_params,
    reflex_controller,
    reflex_parameters,
    reflex_parameters_path,
    teacher_parameters,
)
from osim.env.l2m2019 import L2M2019Env


def test_reflex_parameters_pick_by_engine():
    assert np.array_equal(reflex_parameters("2D", "opensim"), load_published_params("2D"))
    assert np.array_equal(reflex_parameters("3D", "opensim"), load_published_params("3D"))
    assert reflex_parameters_path("3D", "mujoco").name == "params_3D_mujoco_walk.txt"
    mujoco_2d = reflex_parameters("2D", "mujoco")
    assert reflex_parameters_path("2D", "mujoco").name == "params_2D_mujoco_walk.txt"
    assert mujoco_2d.shape == (37,) and not np.array_equal(mujoco_2d, load_published_params("2D"))
    # the walking recipe keeps the teacher its shipped policy was imitated from
    teacher = teacher_parameters("2D", "mujoco")
    assert teacher.shape == (37,) and not np.array_equal(teacher, mujoco_2d)
    assert np.array_equal(teacher_parameters("2D", "opensim"), load_published_params("2D"))
    with pytest.raises(ValueError, match="engine must be one of"):
        teacher_parameters("2D", "bullet")


def test_reflex_parameters_refuse_an_unknown_engine():
    with pytest.raises(ValueError, match="engine must be one of"):
        reflex_parameters("2D", "bullet")


@pytest.mark.slow
@pytest.mark.parametrize("params, least", [("walk", 10.0), ("teacher", 8.5)])
def test_planar_model_walks_in_10_s_on_mujoco(params, least):
    """The packaged MuJoCo walker goes >= 10 m in 10 s (issue 14); the recipe's teacher >= 8.5 m."""
    values = reflex_parameters("2D", "mujoco") if params == "walk" else teacher_parameters("2D", "mujoco")
    env = L2M2019Env(visualize=False, difficulty=3, seed=36, engine="mujoco")
    env.change_model(model="2D", difficulty=3)
    controller = OsimReflexCtrl(mode="2D", dt=env.osim_model.stepsize, params=values)
    distance, fell_at = _walk(env, controller)
    assert fell_at is None, f"fell at t = {fell_at:.2f} s"
    assert distance >= least, f"walked only {distance:.2f} m"


def _walk(env: L2M2019Env, controller: OsimReflexCtrl, steps: int = 1000) -> tuple[float, float | None]:
    """Drive ``env`` from the example's pose: the pelvis's forward distance, and the time of the
    fall (None if the ``steps`` ran)."""
    obs = env.reset(init_pose=list(EXAMPLE_INIT_POSE))
    start = env.get_state_desc()["body_pos"]["pelvis"][0]
    fell_at = None
    for _ in range(steps):
        obs, _, done, _ = env.step(controller.update(obs))
        if done:
            fell_at = env.t
            break
    return env.get_state_desc()["body_pos"]["pelvis"][0] - start, fell_at


def test_optimize_task_takes_the_engine_and_the_walk_objective():
    from osim.control.optimize import EpisodeResult, ReflexTask, make_env

    assert make_env(ReflexTask(engine="mujoco")).engine_name == "mujoco"
    with pytest.raises(ValueError, match="engine must be one of"):
        ReflexTask(engine="bullet")
    # 'walk' ranks by distance plus seconds survived: a lunge that falls early loses to a longer stumble
    lunge = EpisodeResult(total_reward=0.0, distance=1.2, footsteps=2, steps=50, fell=True)
    stumble = EpisodeResult(total_reward=0.0, distance=1.0, footsteps=4, steps=200, fell=True)
    assert stumble.cost("walk") == pytest.approx(-3.0) and stumble.cost("walk") < lunge.cost("walk")
    assert lunge.cost("distance") < stumble.cost("distance")


def test_full_walk_ranks_every_full_episode_above_every_fall():
    from osim.control.optimize import FALL_COST, FALL_COST_PER_SECOND, EpisodeResult

    full_short = EpisodeResult(total_reward=0.0, distance=2.0, footsteps=6, steps=1000, fell=False)
    late_fall = EpisodeResult(total_reward=0.0, distance=9.5, footsteps=30, steps=999, fell=True)
    assert full_short.cost("full_walk", 1000) == pytest.approx(-2.0)
    assert late_fall.cost("full_walk", 1000) == pytest.approx(FALL_COST + FALL_COST_PER_SECOND * 0.01 - 9.5)
    assert full_short.cost("full_walk", 1000) < late_fall.cost("full_walk", 1000)
    # 'walk' would have preferred the late lunge: the reason for the objective
    assert late_fall.cost("walk") < full_short.cost("walk")
    with pytest.raises(ValueError, match="max_steps"):
        full_short.cost("full_walk")


def test_coordinate_search_keeps_only_improvements_and_writes_its_history(tmp_path):
    from osim.control.optimize import ReflexTask, coordinate_search, load_reflex_params, run_episode

    task = ReflexTask(mode="2D", engine="mujoco", objective="distance", max_steps=40)
    start = load_published_params("2D")
    result = coordinate_search(task, start, factors=(1.2, 0.8), max_sweeps=1, processes=1, out_dir=tmp_path,
                               log=None)
    start_cost = run_episode(start, task).cost("distance")
    assert result.generations[0].best_cost == pytest.approx(start_cost)
    # one batch for the start, then one per parameter (a single sweep)
    assert len(result.generations) == 1 + task.n_params and result.evaluations == 1 + 2 * task.n_params
    assert result.best_cost <= start_cost
    bests = [g.best_so_far for g in result.generations]
    assert bests == sorted(bests, reverse=True)
    # every kept change is one parameter times one of the factors
    changed = np.flatnonzero(result.best_params != start)
    ratios = result.best_params[changed] / start[changed]
    assert all(np.isclose(r, 1.2 ** round(np.log(r) / np.log(1.2))) or np.isclose(r, 0.8) for r in ratios)
    # the saved best replays to the reported cost
    saved = load_reflex_params(tmp_path / "best.txt", "2D")
    assert run_episode(saved, task).cost("distance") == pytest.approx(result.best_cost)
    assert (tmp_path / "history.csv").read_text().count("\n") == 1 + len(result.generations)


def test_coordinate_search_refuses_bad_arguments():
    from osim.control.optimize import ReflexTask, coordinate_search, main

    task = ReflexTask(mode="2D", engine="mujoco", max_steps=5)
    with pytest.raises(ValueError, match="37 values"):
        coordinate_search(task, np.ones(5), processes=1, log=None)
    with pytest.raises(ValueError, match="positive multipliers other than 1"):
        coordinate_search(task, np.ones(37), factors=(1.0, 1.1), processes=1, log=None)
    with pytest.raises(ValueError, match="max_sweeps"):
        coordinate_search(task, np.ones(37), max_sweeps=0, processes=1, log=None)
    with pytest.raises(SystemExit):
        main(["--method", "coordinate", "--engine", "mujoco"])  # no --params to polish
    with pytest.raises(SystemExit):
        main(["--method", "coordinate", "--params", str(reflex_parameters_path("2D", "mujoco")), "--factors", "0"])


def test_optimize_task_chooses_the_frontal_leg_angle():
    """``alpha_f_from_rate`` reaches the controller: the 3-D episode differs, the planar one does not."""
    from osim.control.optimize import ReflexTask, make_env, run_episode

    rate = ReflexTask(mode="3D", engine="mujoco", objective="walk", max_steps=60)
    angle = ReflexTask(mode="3D", engine="mujoco", objective="walk", max_steps=60, alpha_f_from_rate=False)
    assert rate.alpha_f_from_rate and not angle.alpha_f_from_rate
    env = make_env(rate)
    params = load_published_params("3D")
    by_rate, by_angle = run_episode(params, rate, env), run_episode(params, angle, env)
    assert (by_rate.distance, by_rate.steps) != (by_angle.distance, by_angle.steps)
    planar = ReflexTask(mode="2D", engine="mujoco", max_steps=30)
    planar_env = make_env(planar)
    published_2d = load_published_params("2D")
    assert run_episode(published_2d, planar, planar_env) == run_episode(
        published_2d, ReflexTask(mode="2D", engine="mujoco", max_steps=30, alpha_f_from_rate=False), planar_env)


def test_3d_model_walks_10_s_on_mujoco():
    """The packaged 3-D MuJoCo parameters (CMA-ES from ``params_3D_init.txt``, frontal leg angle from
    the hip abduction angle) walk the 3-D model for 10 s without falling; the original's rate
    instead of the angle falls with them."""
    controller = reflex_controller("3D", "mujoco")
    assert not controller.alpha_f_from_rate and controller.n_par == 46
    assert reflex_controller("3D", "opensim").alpha_f_from_rate  # the original's guess, as published
    env = L2M2019Env(visualize=False, difficulty=3, seed=36, engine="mujoco")  # 2500-step limit
    distance, fell_at = _walk(env, controller)
    assert fell_at is None, f"fell at t = {fell_at:.2f} s"
    assert distance >= 9.0, f"walked only {distance:.2f} m"  # 10.18 m here
    by_rate = OsimReflexCtrl(mode="3D", params=reflex_parameters("3D", "mujoco"))
    _, fell_at = _walk(env, by_rate)
    assert fell_at is not None and fell_at < 2.0, "the same parameters with the frontal angle from its rate"

"""The reflex controller (osim.control): parity with the original, walking, parameters, CMA-ES."""
from __future__ import annotations

import numpy as np
import pytest
from golden import case_definition, case_names, load_case

from osim.control import EXAMPLE_INIT_POSE, LocoCtrl, load_reflex_params
from osim.control.optimize import ReflexTask, optimize, run_episode
from osim.control.osim_loco_reflex_song2019 import OsimReflexCtrl  # the original module path
from osim.env.l2m2019 import L2M2019Env

REFLEX_CASES = [name for name in case_names() if case_definition(name).reflex_mode]


@pytest.fixture(scope="module")
def params_2d(reference_dir):
    return load_reflex_params(reference_dir / "reflex" / "params_2D.txt", "2D")


def _planar_env(difficulty: int = 3, seed: int = 36) -> L2M2019Env:
    env = L2M2019Env(visualize=False, difficulty=difficulty, seed=seed)
    env.change_model(model="2D", difficulty=difficulty)
    return env


def test_reflex_cases_exist():
    assert REFLEX_CASES, "the golden set has no reflex-controller case"


@pytest.mark.golden_parity
@pytest.mark.parametrize("name", REFLEX_CASES)
def test_controller_gives_the_original_excitations(name, reference_dir):
    """Fed the same observations, the controller returns what the original's returned."""
    case, definition = load_case(name), case_definition(name)
    params = load_reflex_params(reference_dir / "reflex" / definition.reflex_params, definition.reflex_mode)
    env = L2M2019Env(**definition.constructor_kwargs)
    env.change_model(**definition.change_model_kwargs)
    env.reset(**definition.reset_kwargs)
    controller = OsimReflexCtrl(mode=definition.reflex_mode, dt=0.01, params=params)
    worst = 0.0
    for recorded in case["actions"]:
        worst = max(worst, float(np.abs(np.array(controller.update(env.get_observation_dict())) - recorded).max()))
        env.step(recorded, **definition.step_kwargs)
    assert worst <= 1e-9


@pytest.mark.slow
def test_planar_model_walks_10_m_in_10_s(params_2d):
    env = _planar_env()
    controller = OsimReflexCtrl(mode="2D", params=params_2d)
    obs = env.reset(init_pose=EXAMPLE_INIT_POSE)
    for _ in range(1000):
        obs, _, done, _ = env.step(controller.update(obs))
        assert not done, f"fell at t = {env.t:.2f} s"
    distance = env.get_state_desc()["body_pos"]["pelvis"][0]
    assert distance >= 10.0, f"walked only {distance:.2f} m"
    assert env.footstep["n"] >= 15


def test_mode_is_compared_by_value_and_checked():
    mode = "".join(["2", "D"])  # noqa: FLY002 - not an interned literal: the original crashed here
    controller = OsimReflexCtrl(mode=mode)
    assert controller.n_par == 37 and controller.ctrl.control_dimension == 2
    assert OsimReflexCtrl(mode="3D").n_par == 46
    with pytest.raises(ValueError, match="'3D' or '2D'"):
        OsimReflexCtrl(mode="3d")


def test_parameter_counts_follow_the_mode(params_2d):
    assert LocoCtrl(0.01, control_dimension=2).n_par == 37  # default parameters fit the mode
    controller = OsimReflexCtrl(mode="2D")
    controller.set_control_params(np.concatenate([params_2d, np.ones(37)]))  # right, then left
    assert controller.ctrl.cp["r_leg"]["c0"] != controller.ctrl.cp["l_leg"]["c0"]
    with pytest.raises(ValueError, match=r"needs 37 parameters .* or 74"):
        controller.set_control_params(np.ones(46))
    with pytest.raises(ValueError, match=r"needs 46 parameters .* or 92"):
        OsimReflexCtrl(mode="3D", params=np.ones(45))
    with pytest.raises(ValueError, match="control_mode must be 1"):
        LocoCtrl(0.01, control_mode=0)


def test_parameter_scaling_and_the_bfsh8_switch():
    params = np.ones(37)
    params[LocoCtrl.cp_map["BFSH_8_DG"]] = 2.0
    params[LocoCtrl.cp_map["BFSH_8_PG"]] = 5.0
    kept = OsimReflexCtrl(mode="2D", params=params).ctrl.cp["r_leg"]
    fixed = OsimReflexCtrl(mode="2D", params=params, bfsh8_uses_dg_gain=False).ctrl.cp["r_leg"]
    assert kept["BFSH_8_PG"] == 2.0 and fixed["BFSH_8_PG"] == 5.0
    assert kept["c0"] == pytest.approx(np.deg2rad(75.0))  # 1 * 20 deg + 55 deg
    assert kept["knee_tgt"] == pytest.approx(np.deg2rad(175.0))


def test_3d_controller_drives_the_hip_abductors():
    env = L2M2019Env(visualize=False, difficulty=0, seed=1)
    controller = OsimReflexCtrl(mode="3D")
    obs = env.reset(init_pose=EXAMPLE_INIT_POSE)
    for _ in range(3):
        action = controller.update(obs)
        assert len(action) == 22 and all(0.01 <= a <= 1.0 for a in action)
        obs = env.step(action)[0]
    assert action[0] == controller.ctrl.stim["r_leg"]["HAB"]
    assert action[12] == controller.ctrl.stim["l_leg"]["HAD"]
    planar = OsimReflexCtrl(mode="2D").update(obs)
    assert planar[0] == 0.1 and planar[1] == pytest.approx(0.1 * 3931.8 / 4460.290481)


def test_load_reflex_params_checks_the_count(tmp_path, params_2d):
    path = tmp_path / "p.txt"
    np.savetxt(path, params_2d[:30])
    with pytest.raises(ValueError, match="needs 37 or 74"):
        load_reflex_params(path, "2D")
    assert load_reflex_params(path).shape == (30,)


def test_cma_es_two_generations_in_parallel(tmp_path):
    task = ReflexTask(mode="2D", difficulty=0, max_steps=8)
    result = optimize(task, sigma=0.05, popsize=4, maxiter=2, processes=2, seed=3, out_dir=tmp_path, log=None)
    assert len(result.generations) == 2 and result.evaluations == 8
    assert result.best_cost == min(g.best_cost for g in result.generations)
    saved = load_reflex_params(tmp_path / "best.txt", "2D")
    np.testing.assert_array_equal(saved, result.best_params)
    assert not np.array_equal(saved, np.ones(37))
    # The worker's cost is reproduced by an evaluation in this process.
    again = run_episode(saved, task)
    assert again.cost("reward") == pytest.approx(result.best_cost, abs=1e-9)
    assert (tmp_path / "history.csv").read_text().count("\n") == 3


@pytest.mark.parametrize("mode, name", [("2D", "params_2D.txt"), ("3D", "params_3D_init.txt")])
def test_packaged_params_are_the_published_files(reference_dir, mode, name):
    from osim.control import load_published_params, published_params_path

    packaged = published_params_path(mode)
    assert packaged.read_bytes() == (reference_dir / "reflex" / name).read_bytes()
    np.testing.assert_array_equal(load_published_params(mode),
                                  load_reflex_params(reference_dir / "reflex" / name, mode))
    assert (packaged.parent / "README.md").is_file()  # the provenance ships with them

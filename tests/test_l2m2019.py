"""L2M2019Env on the real engine: spaces, observations, rewards, time limits, seeds, errors, report."""
from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from osim.control import EXAMPLE_INIT_POSE
from osim.env.l2m2019 import L2M2019Env, observation_names


@pytest.fixture(scope="module")
def env():
    return L2M2019Env(visualize=False, difficulty=3, seed=5)


def _actions(n: int, seed: int = 0, high: float = 0.4) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, high, size=(n, 22))


def test_observation_forms_agree_and_lie_in_the_space(env):
    obs = env.reset(obs_as_dict=False)
    assert len(obs) == 339 == env.get_observation_space_size() == env.observation_space.shape[0]
    assert env.observation_space.contains(np.asarray(obs))
    for action in _actions(10):
        obs, _reward, _done, _info = env.step(action, obs_as_dict=False)
        assert env.observation_space.contains(np.asarray(obs)), "observation outside the original bounds"
        assert env.action_space.contains(action.astype(np.float32))
    as_dict = env.get_observation_dict()
    assert as_dict["v_tgt_field"].shape == (2, 11, 11)
    np.testing.assert_array_equal(obs[:242], as_dict["v_tgt_field"].ravel())
    assert obs[242] == as_dict["pelvis"]["height"]
    assert obs[254:258] == [as_dict["r_leg"]["joint"][j] for j in ("hip_abd", "hip", "knee", "ankle")]
    assert obs[336:339] == [as_dict["l_leg"]["TA"][q] for q in ("f", "l", "v")]
    assert len(observation_names()) == 339
    raw = env.step(_actions(1)[0], project=False)[0]
    assert "joint_pos" in raw and raw["v_tgt_field"].shape == (2, 11, 11)
    clipped = env.get_observation_clipped()
    assert np.all(clipped >= env.observation_space.low) and np.all(clipped <= env.observation_space.high)


def test_action_order_is_remapped_to_the_model(env):
    env.reset()
    action = np.zeros(22)
    action[2] = 0.7  # HFL_r = iliopsoas_r
    action[11 + 7] = 0.3  # BFSH_l = bifemsh_l
    env.step(action)
    excitations = dict(zip(env.osim_model.muscle_names, env.osim_model.last_excitations))
    assert excitations["iliopsoas_r"] == 0.7 and excitations["bifemsh_l"] == 0.3
    assert sum(excitations.values()) == pytest.approx(1.0)


def test_reward_terms_sum_to_the_reward_and_footsteps_are_paid():
    env = L2M2019Env(visualize=False, difficulty=1, seed=3)
    env.reset(init_pose=EXAMPLE_INIT_POSE)
    paid = 0
    for action in _actions(60, seed=4):
        _, reward, done, info = env.step(action)
        terms = info["reward_terms"]
        assert set(terms) == {"alive", "footstep_duration", "velocity_deviation", "effort", "success_bonus"}
        assert sum(terms.values()) == pytest.approx(reward, abs=1e-12)
        paid += terms["footstep_duration"] > 0
        if done:
            break
    assert paid >= 1 and env.footstep["n"] >= paid


@pytest.mark.parametrize("difficulty", [0, 1, 2, 3])
def test_time_limit_ends_the_episode_without_crashing(difficulty):
    env = L2M2019Env(visualize=False, difficulty=difficulty, seed=8)
    assert env.spec.timestep_limit == (2500 if difficulty == 3 else 1000)
    env.spec.timestep_limit = 5
    env.reset()
    for k, action in enumerate(_actions(5, seed=9, high=0.2)):
        _, _reward, done, info = env.step(action)
        assert done == (k == 4)
    terms = info["reward_terms"]
    assert not env.is_done() and env.time_limit_reached()
    if difficulty < 3:
        # Issue #215: no footstep in the last step -> the bonus is 10 (the original crashed).
        assert terms["success_bonus"] == 10 and terms["footstep_duration"] == 0
    else:
        assert "success_bonus" not in terms and terms["footstep_duration"] == 0  # <= 5 footsteps


def test_success_bonus_when_a_footstep_coincides_with_the_limit():
    env = L2M2019Env(visualize=False, difficulty=2, seed=3)
    actions = _actions(60, seed=4)
    env.reset(seed=3, init_pose=EXAMPLE_INIT_POSE)
    first_paid = None
    for k, action in enumerate(actions):
        info = env.step(action)[3]
        if info["reward_terms"]["footstep_duration"] > 0:
            first_paid, duration = k, info["reward_terms"]["footstep_duration"]
            break
    assert first_paid is not None
    env.spec.timestep_limit = first_paid + 1
    env.reset(seed=3, init_pose=EXAMPLE_INIT_POSE)
    for action in actions[: first_paid + 1]:
        _, _reward, done, info = env.step(action)
    terms = info["reward_terms"]
    assert done and terms["footstep_duration"] == pytest.approx(duration)
    assert terms["success_bonus"] == pytest.approx(10 + duration)  # what the original paid then


_FIELD_SCRIPT = """
import json, sys
from osim.env.l2m2019 import L2M2019Env
env = L2M2019Env(visualize=False, difficulty=3, seed=int(sys.argv[1]))
env.reset()
print(json.dumps({"p_sink": env.vtgt.p_sink.tolist(), "field": env.v_tgt_field.ravel().tolist()}))
"""


def _field(env: L2M2019Env) -> dict:
    return {"p_sink": env.vtgt.p_sink.tolist(), "field": env.v_tgt_field.ravel().tolist()}


def test_same_seed_same_field_in_a_new_process_and_after_reset():
    env = L2M2019Env(visualize=False, difficulty=3, seed=7)
    env.reset()
    here = _field(env)
    out = subprocess.run([sys.executable, "-c", _FIELD_SCRIPT, "7"], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == here
    env.reset(seed=7)
    assert _field(env) == here
    env.reset()  # unseeded: the generator moves on
    assert _field(env)["p_sink"] != here["p_sink"]
    env.seed(7)
    env.reset()
    assert _field(env) == here


def test_different_seeds_differ_and_seed_0_is_a_seed():
    a = L2M2019Env(visualize=False, difficulty=2, seed=0)
    b = L2M2019Env(visualize=False, difficulty=2, seed=0)
    c = L2M2019Env(visualize=False, difficulty=2, seed=1)
    for e in (a, b, c):
        e.reset()
    assert _field(a) == _field(b)
    assert _field(a)["p_sink"] != _field(c)["p_sink"]
    a.reset(seed=0)
    assert _field(a) == _field(b)


def test_instances_do_not_share_footstep_state():
    a = L2M2019Env(visualize=False, difficulty=0)
    b = L2M2019Env(visualize=False, difficulty=0)
    a.reset()
    a.footstep["n"] = 5
    assert b.footstep["n"] == 0 and a.footstep is not b.footstep


def test_bad_inputs_raise_clear_errors(env):
    with pytest.raises(ValueError, match=r"difficulty level should be in \[0, 1, 2, 3\]"):
        L2M2019Env(visualize=False, difficulty=4)
    env.reset()
    action = np.full(22, 0.1)
    action[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        env.step(action)
    with pytest.raises(ValueError, match=r"shape \(22,\)"):
        env.step(np.zeros(18))
    with pytest.raises(ValueError, match="init_pose must be 12"):
        env.reset(init_pose=list(EXAMPLE_INIT_POSE[:11]))
    with pytest.raises(ValueError, match="'3D' or '2D'"):
        env.change_model("3d")


def test_change_model_to_2d_and_init_pose():
    env = L2M2019Env(visualize=False, difficulty=3, seed=2)
    env.change_model(model="2D", difficulty=1)
    assert env.model == "2D" and env.spec.timestep_limit == 1000
    assert "planar" in str(env.osim_model.model_path)
    obs = env.reset(init_pose=EXAMPLE_INIT_POSE)
    assert obs["pelvis"]["vel"][0] == pytest.approx(1.7, abs=1e-9)
    assert obs["pelvis"]["pitch"] == pytest.approx(EXAMPLE_INIT_POSE[3], abs=1e-9)
    assert obs["r_leg"]["joint"]["knee"] == pytest.approx(EXAMPLE_INIT_POSE[6], abs=1e-9)
    assert env.get_state_desc()["body_pos"]["pelvis"][1] > 0.8
    assert len(env.step(np.full(22, 0.05))[0]["v_tgt_field"]) == 2


def test_report_writes_observations_and_actions(tmp_path):
    prefix = tmp_path / "run"
    env = L2M2019Env(visualize=False, difficulty=0, report=str(prefix))
    env.reset()
    for action in _actions(3):
        env.step(action)
    env.close()
    with open(f"{prefix}-obs.csv") as f:
        rows = list(csv.reader(f))
    assert rows[0][:3] == ["episode", "step", "v_tgt_field[0][0][0]"] and len(rows[0]) == 341
    assert len(rows) == 5 and float(rows[1][2]) == pytest.approx(1.4)
    with open(f"{prefix}-act.csv") as f:
        actions = list(csv.reader(f))
    assert len(actions) == 4 and actions[0][2] == "HAB_r" and len(actions[1]) == 24
    np.testing.assert_allclose([float(v) for v in actions[3][2:]], _actions(3)[2])


def test_visualize_true_runs_headless(monkeypatch):
    """The original's default visualize=True must not need a display (nor matplotlib)."""
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    env = L2M2019Env(difficulty=2, seed=1)
    env.reset()
    obs, _reward, done, _info = env.step(np.full(22, 0.05))
    assert env.vtgt._plot is None and not env.osim_model.visualize
    assert obs["v_tgt_field"].shape == (2, 11, 11) and not done
    env.close()


def test_simulation_failure_ends_the_episode_with_the_last_valid_observation(env):
    env.reset()
    state = env.osim_model.get_state()
    q = state.getQ()
    q.set(1, float("nan"))
    state.setQ(q)
    env.osim_model.set_state(state)
    before = env.get_observation()
    observation, _reward, done, info = env.step(np.full(22, 0.1), obs_as_dict=False)
    assert done and "non-finite" in info["simulation_failure"]
    np.testing.assert_array_equal(observation, before)
    env.reset()
    assert not env.step(np.full(22, 0.1))[2]


def test_no_global_random_state_is_used():
    before = np.random.get_state()[1].copy()
    env = L2M2019Env(visualize=False, difficulty=3, seed=4)
    env.reset()
    env.reset()
    env.step(np.full(22, 0.05))
    np.testing.assert_array_equal(np.random.get_state()[1], before)

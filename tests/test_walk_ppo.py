"""PPO fine-tuning of a walking student (osim.train.walk_ppo), on the real MuJoCo engine."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import DummyVecEnv

from osim.train.mlp import MLPPolicy
from osim.train.pretrained import load_pretrained
from osim.train.walk_ppo import WalkingEnv, WalkReward, _copy_student_into, _export, main
from osim.train.walking import WalkTask

TASK = WalkTask(engine="mujoco", max_steps=1000)


@pytest.fixture(scope="module")
def student() -> MLPPolicy:
    return load_pretrained("walk2d-mujoco")


def _walking_env(student: MLPPolicy, **kwargs) -> WalkingEnv:
    return WalkingEnv(TASK, student.observation_indices, student.obs_mean, student.obs_std, **kwargs)


def test_reward_is_the_sum_of_its_named_terms(student):
    reward = WalkReward(alive=0.3, forward=0.2, target_speed=1.0, effort=0.5)
    env = _walking_env(student, reward=reward, pose_noise=0.0)
    env.reset(seed=1)
    action = np.full(env.action_space.shape, 0.4, dtype=np.float32)
    _, total, terminated, truncated, info = env.step(action)
    terms = info["reward_terms"]
    assert set(terms) == {"alive", "forward", "effort"}
    assert total == pytest.approx(sum(terms.values()))
    assert terms["alive"] == 0.3
    assert terms["effort"] == pytest.approx(-0.5 * 0.16, rel=1e-6)
    speed = env.env.get_state_desc()["body_vel"]["pelvis"][0]
    assert terms["forward"] == pytest.approx(0.2 * min(speed, 1.0))
    assert not terminated and not truncated


def test_strength_noise_draws_each_muscles_strength_per_episode(student):
    env = _walking_env(student, strength_noise=0.2, seed=3)
    env.reset()
    first = env.env.osim_model.strength.copy()
    env.reset()
    second = env.env.osim_model.strength.copy()
    assert first.shape == (22,) and np.all((first >= 0.8) & (first <= 1.2)) and not np.array_equal(first, second)
    with pytest.raises(ValueError, match="strength_noise"):
        _walking_env(student, strength_noise=1.5)


def test_episode_is_truncated_at_the_tasks_length_not_terminated(student):
    env = WalkingEnv(WalkTask(engine="mujoco", max_steps=3), student.observation_indices, student.obs_mean,
                     student.obs_std)
    env.reset(seed=0)
    flags = [env.step(np.zeros(env.action_space.shape, dtype=np.float32))[2:4] for _ in range(3)]
    assert flags == [(False, False), (False, False), (False, True)]


def test_ppo_starts_as_the_student_and_exports_it_unchanged(student):
    """The student's layers in PPO's network: PPO's deterministic action on the standardised input
    is the student's on the raw observation, and exporting gives back the same weights."""
    vec_env = DummyVecEnv([lambda: _walking_env(student, pose_noise=0.0)])
    hidden = [w.shape[0] for w in student.weights[:-1]]
    model = PPO("MlpPolicy", vec_env, n_steps=64, batch_size=32, device="cpu", seed=0,
                policy_kwargs={"net_arch": {"pi": hidden, "vf": [16]}, "activation_fn": torch.nn.Tanh})
    _copy_student_into(model, student, log_std=-2.0)
    assert np.allclose(model.policy.log_std.detach().numpy(), -2.0)
    standardised = vec_env.reset()
    walking_env = vec_env.envs[0]
    raw = np.asarray(walking_env.env.get_observation(), dtype=np.float64)
    ppo_action, _ = model.predict(standardised, deterministic=True)
    assert np.allclose(np.clip(ppo_action[0], 0, 1), student(raw), atol=1e-5)
    exported = _export(model, student, {"note": "test"})
    for mine, theirs in zip(exported.weights + exported.biases, student.weights + student.biases):
        assert np.allclose(mine, theirs, atol=1e-6)
    assert exported.metadata == {"note": "test"}
    vec_env.close()


def test_command_writes_policy_history_and_learning_curve(student, tmp_path):
    init = student.save(tmp_path / "student.npz")
    out = tmp_path / "ppo"
    assert main(["--init", str(init), "--timesteps", "64", "--envs", "1", "--n-steps", "64", "--out", str(out),
                 "--no-progress"]) == 0
    history = json.loads((out / "history.json").read_text())["history"]
    assert history[0]["timesteps"] <= 1 and len(history) >= 2
    assert all({"distance_m", "steps", "fell", "wall_s"} <= set(row) for row in history)
    saved = MLPPolicy.load(out / "policy.npz")
    assert saved.metadata["trained_by"].endswith("(PPO)") and saved.metadata["engine"] == "mujoco"
    assert (out / "learning_curve.png").stat().st_size > 5_000


@pytest.mark.parametrize("arguments", [["--timesteps", "0"], ["--envs", "0"], ["--dagger-iterations", "-1"],
                                       ["--n-steps", "0"], ["--value-warmup-rollouts", "-1"],
                                       ["--strength-noise", "1.0"]])
def test_command_rejects_bad_counts(arguments, capsys):
    with pytest.raises(SystemExit) as stop:
        main([*arguments, "--out", "unused"])
    assert stop.value.code == 2
    assert "must be" in capsys.readouterr().err

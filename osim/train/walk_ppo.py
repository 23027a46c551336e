"""PPO on the walking task, starting from a DAgger student (:mod:`osim.train.walking`).

Imitation gets a network that walks like its reflex teacher for a second or two; the teacher's gait
is an unstable orbit (0.002 of noise on its excitations fells it on MuJoCo), so its labels cannot
teach recovery. PPO (stable-baselines3) then optimises the student's own survival and speed under
its own errors and exploration noise::

    python -m osim.train.walk_ppo --timesteps 1500000 --out runs/walk_ppo

trains the DAgger student first (``--init policy.npz`` starts from one already trained).

The student's layers become PPO's policy network (same widths, ``tanh``); its input standardisation
stays fixed (done in the environment wrapper); the value network is trained alone for the first
rollouts so that the first policy updates follow sensible advantages. The best policy by a
deterministic evaluation episode is written as an :class:`~osim.train.mlp.MLPPolicy`.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np

from osim.train.mlp import MLPPolicy
from osim.train.walking import (
    DaggerConfig,
    Exploration,
    WalkTask,
    _initial_pose,
    evaluate_policy,
    make_walk_env,
    plot_learning_curve,
    train_walking_policy,
)


@dataclass(frozen=True)
class WalkReward:
    """The training reward per 0.01 s step, in named terms (reported in ``info["reward_terms"]``).

    Args:
        alive: paid every step the model stands.
        forward: per m/s of the pelvis's forward velocity, capped at ``target_speed``.
        target_speed: the speed above which running faster earns nothing (m/s).
        effort: per unit of the mean squared excitation.
    """

    alive: float = 0.1
    forward: float = 0.1
    target_speed: float = 1.4
    effort: float = 0.05


class WalkingEnv(gymnasium.Env):
    """The walking task as a Gymnasium env for PPO: the student's standardised inputs, the 22 excitations.

    Args:
        task: engine, difficulty, initial pose, episode length.
        obs_indices, obs_mean, obs_std: the student's input (see :class:`~osim.train.mlp.MLPPolicy`).
        reward: the reward terms.
        pose_noise: noise on the initial pose per episode (see :class:`~osim.train.walking.Exploration`).
        strength_noise: domain randomisation: each muscle's strength (maximum isometric force, as
            ``set_strength``) drawn from U(1 - strength_noise, 1 + strength_noise) per episode.
        seed: seed of these draws.
    """

    def __init__(self, task: WalkTask, obs_indices: np.ndarray, obs_mean: np.ndarray, obs_std: np.ndarray,
                 reward: WalkReward = WalkReward(), pose_noise: float = 0.01, strength_noise: float = 0.0,
                 seed: int = 0) -> None:
        if not 0.0 <= strength_noise < 1.0:
            raise ValueError(f"strength_noise must be in [0, 1), got {strength_noise}")
        self.task, self.reward_terms = task, reward
        self.env = make_walk_env(task)
        self.indices, self.mean, self.inverse_std = obs_indices, obs_mean, 1.0 / obs_std
        self.pose_noise, self.strength_noise = pose_noise, strength_noise
        self.rng = np.random.default_rng(seed)
        self.observation_space = gymnasium.spaces.Box(-np.inf, np.inf, shape=(len(obs_indices),), dtype=np.float32)
        self.n_muscles = self.env.get_action_space_size()
        self._pelvis = [body.name for body in self.env.engine.structure.bodies].index("pelvis")
        self.action_space = gymnasium.spaces.Box(0.0, 1.0, shape=(self.n_muscles,), dtype=np.float32)
        self.steps = 0

    def _observe(self) -> np.ndarray:
        vector = np.asarray(self.env.get_observation(), dtype=np.float64)[self.indices]
        return ((vector - self.mean) * self.inverse_std).astype(np.float32)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        """A new episode from the task's initial pose, jittered by ``pose_noise``."""
        super().reset(seed=seed)
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        pose = _initial_pose(self.task, Exploration(pose_noise=self.pose_noise), self.rng)
        if self.strength_noise > 0:
            self.env.osim_model.set_strength(self.rng.uniform(1 - self.strength_noise, 1 + self.strength_noise,
                                                              self.n_muscles))
        self.env.reset(seed=self.task.env_seed, init_pose=list(pose))
        self.steps = 0
        return self._observe(), {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """One 0.01 s step; the reward's terms are in ``info["reward_terms"]``."""
        action = np.clip(action, 0.0, 1.0)
        _, _, done, _ = self.env.step(action, obs_as_dict=False)
        self.steps += 1
        speed = self.env.task_state().body_vel.item(self._pelvis, 0)  # arrays: no state dictionary per step
        terms = {"alive": self.reward_terms.alive,
                 "forward": self.reward_terms.forward * min(speed, self.reward_terms.target_speed),
                 "effort": -self.reward_terms.effort * float(np.mean(action**2))}
        truncated = self.steps >= self.task.max_steps
        terminated = bool(done) and not truncated
        return self._observe(), float(sum(terms.values())), terminated, truncated, {"reward_terms": terms}


def _copy_student_into(model: Any, student: MLPPolicy, log_std: float) -> None:
    """The student's layers -> PPO's policy network and action head."""
    import torch

    policy = model.policy
    linear = [m for m in policy.mlp_extractor.policy_net if isinstance(m, torch.nn.Linear)] + [policy.action_net]
    if len(linear) != len(student.weights):
        raise ValueError(f"PPO's policy has {len(linear)} layers, the student {len(student.weights)}")
    with torch.no_grad():
        for layer, weight, bias in zip(linear, student.weights, student.biases):
            layer.weight.copy_(torch.as_tensor(weight))
            layer.bias.copy_(torch.as_tensor(bias))
        policy.log_std.fill_(log_std)


def _export(model: Any, student: MLPPolicy, metadata: dict[str, Any]) -> MLPPolicy:
    import torch

    policy = model.policy
    linear = [m for m in policy.mlp_extractor.policy_net if isinstance(m, torch.nn.Linear)] + [policy.action_net]
    return MLPPolicy([m.weight.detach().double().numpy().copy() for m in linear],
                     [m.bias.detach().double().numpy().copy() for m in linear], student.obs_mean.copy(),
                     student.obs_std.copy(), observation_indices=student.observation_indices, metadata=metadata)


@dataclass(frozen=True)
class PPOConfig:
    """Settings of :func:`finetune` (stable-baselines3 PPO's, plus the value warm-up and the evaluation)."""

    timesteps: int = 2_000_000
    n_envs: int = 2
    n_steps: int = 2048
    batch_size: int = 512
    n_epochs: int = 5
    learning_rate: float = 1e-4
    gamma: float = 0.995
    clip_range: float = 0.1
    log_std: float = -2.5
    value_warmup_rollouts: int = 3
    evaluate_every: int = 20_000
    pose_noise: float = 0.01
    strength_noise: float = 0.0
    seed: int = 0


def finetune(student: MLPPolicy, task: WalkTask | None = None, config: PPOConfig = PPOConfig(),
             out: Path | None = None, progress: bool = True) -> tuple[MLPPolicy, list[dict[str, Any]]]:
    """PPO from ``student`` on ``task`` (default: :class:`WalkTask`'s, on MuJoCo); returns the best
    policy by the deterministic judged episode, and the history."""
    task = WalkTask() if task is None else task
    from osim._optional import require

    require("stable_baselines3", extra="train", feature="PPO fine-tuning")
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    torch.set_num_threads(1)
    indices = student.observation_indices if student.observation_indices is not None else np.arange(student.obs_size)

    def factory(rank: int) -> Any:
        return lambda: WalkingEnv(task, indices, student.obs_mean, student.obs_std, pose_noise=config.pose_noise,
                                  strength_noise=config.strength_noise, seed=config.seed * 1000 + rank)

    builders = [factory(rank) for rank in range(config.n_envs)]
    vec_env = SubprocVecEnv(builders, start_method="spawn") if config.n_envs > 1 else DummyVecEnv(builders)
    hidden = [w.shape[0] for w in student.weights[:-1]]
    model = PPO("MlpPolicy", vec_env, n_steps=config.n_steps, batch_size=config.batch_size,
                n_epochs=config.n_epochs, learning_rate=config.learning_rate, gamma=config.gamma,
                clip_range=config.clip_range, seed=config.seed, device="cpu", verbose=0,
                policy_kwargs={"net_arch": {"pi": hidden, "vf": [256, 256]}, "activation_fn": torch.nn.Tanh})
    _copy_student_into(model, student, config.log_std)
    actor = [*model.policy.mlp_extractor.policy_net.parameters(), *model.policy.action_net.parameters(),
             model.policy.log_std]
    metadata = {**student.metadata, "trained_by": "osim.train.walking (DAgger) then osim.train.walk_ppo (PPO)",
                "ppo": asdict(config)}
    history: list[dict[str, Any]] = []
    best: dict[str, Any] = {"score": -np.inf, "policy": student}
    start = time.perf_counter()

    def judge(timesteps: int) -> None:
        policy = _export(model, student, {**metadata, "ppo_timesteps": timesteps})
        episode = evaluate_policy(policy, task)
        score = episode.distance + episode.seconds_standing
        history.append({"timesteps": timesteps, **episode.summary(), "wall_s": round(time.perf_counter() - start, 1)})
        if score > best["score"]:
            best.update(score=score, policy=policy)
            if out is not None:
                policy.save(out / "policy.npz")
        if out is not None:
            (out / "history.json").write_text(json.dumps({"task": asdict(task), "config": asdict(config),
                                                          "history": history}, indent=2) + "\n")

    class Progress(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.next_evaluation = 0

        def _on_rollout_start(self) -> None:
            # The value network learns alone first: the actor's gradients are off for a few rollouts.
            warm = self.num_timesteps < config.value_warmup_rollouts * config.n_steps * config.n_envs
            for parameter in actor:
                parameter.requires_grad_(not warm)

        def _on_step(self) -> bool:
            if self.num_timesteps >= self.next_evaluation:
                judge(self.num_timesteps)
                self.next_evaluation += config.evaluate_every
            return True

    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    try:
        model.learn(config.timesteps, callback=Progress(), progress_bar=progress)
        judge(model.num_timesteps)
    finally:
        vec_env.close()
    return best["policy"], history


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: DAgger (unless ``--init`` gives its student), then PPO; writes policy.npz,
    history.json and learning_curve.png."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--init", type=Path, default=None,
                        help="a DAgger student (policy.npz) to start from; default: train one first")
    parser.add_argument("--dagger-iterations", type=int, default=40, help="DAgger's iterations without --init")
    parser.add_argument("--engine", choices=("mujoco", "opensim"), default="mujoco")
    parser.add_argument("--timesteps", type=int, default=PPOConfig.timesteps)
    parser.add_argument("--envs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--log-std", type=float, default=PPOConfig.log_std, help="initial exploration log std")
    parser.add_argument("--n-steps", type=int, default=PPOConfig.n_steps, help="steps per env per PPO rollout")
    parser.add_argument("--value-warmup-rollouts", type=int, default=PPOConfig.value_warmup_rollouts,
                        help="rollouts that train only the value network before the policy moves")
    parser.add_argument("--evaluate-every", type=int, default=PPOConfig.evaluate_every,
                        help="timesteps between judged episodes")
    parser.add_argument("--strength-noise", type=float, default=PPOConfig.strength_noise,
                        help="domain randomisation: muscle strengths from U(1-x, 1+x) per episode")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs") / "walk_ppo")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    if not 0.0 <= args.strength_noise < 1.0:
        parser.error("--strength-noise must be in [0, 1)")
    if min(args.timesteps, args.envs, args.n_steps, args.evaluate_every) < 1 or min(
            args.dagger_iterations, args.value_warmup_rollouts) < 0:
        parser.error("--timesteps, --envs, --n-steps and --evaluate-every must be positive, "
                     "--dagger-iterations and --value-warmup-rollouts >= 0")
    task = WalkTask(engine=args.engine)
    args.out.mkdir(parents=True, exist_ok=True)
    dagger: list[dict[str, Any]] = []
    if args.init is None:
        result = train_walking_policy(task, DaggerConfig(iterations=args.dagger_iterations, seed=args.seed),
                                      processes=args.envs, progress=not args.no_progress)
        student = result.policy
        student.save(args.out / "dagger_policy.npz")
        dagger = [asdict(record) for record in result.history]
        (args.out / "dagger_history.json").write_text(json.dumps(dagger, indent=2) + "\n")
    else:
        student = MLPPolicy.load(args.init)
    # PPO's samples count after all of DAgger's (or, from --init, after those of the student's iteration).
    dagger_samples = dagger[-1]["samples"] if dagger else int(student.metadata.get("samples", 0))
    config = PPOConfig(timesteps=args.timesteps, n_envs=args.envs, n_steps=args.n_steps,
                       batch_size=min(PPOConfig.batch_size, args.n_steps * args.envs), log_std=args.log_std,
                       value_warmup_rollouts=args.value_warmup_rollouts, evaluate_every=args.evaluate_every,
                       strength_noise=args.strength_noise, seed=args.seed)
    _, history = finetune(student, task, config, args.out, not args.no_progress)
    try:
        samples = [*(row["samples"] for row in dagger), *(dagger_samples + row["timesteps"] for row in history)]
        plot_learning_curve(samples, [row["distance_m"] for row in (*dagger, *history)],
                            [row["steps"] * 0.01 for row in (*dagger, *history)], args.out / "learning_curve.png",
                            title=f"DAgger ({dagger_samples} samples), then PPO, on the planar L2M2019 task")
    except ImportError as error:
        print(f"no learning curve: {error}")
    best = max(history, key=lambda row: row["distance_m"] + row["steps"] * 0.01)
    print(f"best: {best['distance_m']:.2f} m in {best['steps'] * 0.01:.2f} s after {best['timesteps']} PPO steps"
          f"{' (fell)' if best['fell'] else ''}; saved to {args.out / 'policy.npz'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

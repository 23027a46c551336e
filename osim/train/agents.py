"""stable-baselines3 agents for the osim-rl environments, and an evaluation summary.

DDPG is set up as the original ``scripts/example.py`` set up keras-rl's ``DDPGAgent`` (spec §5.1):

=========================  ===================================================================
original (keras-rl)        here (stable-baselines3)
=========================  ===================================================================
actor 3 x 32 relu,         ``net_arch["pi"] = [32, 32, 32]``, ReLU; SB3 squashes the output with
sigmoid output             tanh and rescales it to the action bounds [0, 1], i.e. sigmoid(2x):
                           the same range and shape
critic: concat(action,     ``net_arch["qf"] = [64, 64, 64]``, ReLU, on the concatenated
obs), 3 x 64 relu          observation and action, linear output
OU theta .15 sigma .2      ``OrnsteinUhlenbeckActionNoise(theta=.15, sigma=.2)`` in excitation
(on the [0, 1] action)     units: SB3 adds noise to the action rescaled to [-1, 1], so sigma is
                           scaled by 2 / (high - low) to keep the original's magnitude
memory 100000, warm-up     ``buffer_size=100_000``, ``learning_starts=100``, ``batch_size=32``
100, batch 32              (keras-rl's default), one gradient step per environment step
gamma .99, target update   ``gamma=0.99``, ``tau=1e-3``
1e-3 (soft)
Adam lr 1e-3               ``learning_rate=1e-3`` for actor and critic
=========================  ===================================================================

Not reproduced: keras-rl's gradient-norm clipping (``clipnorm=1``) and Huber loss (``delta_clip=1``);
SB3's DDPG uses plain Adam steps and the squared TD error.

PPO and SAC use stable-baselines3's defaults, except that PPO's rollout shrinks for runs shorter
than one default rollout (so ``--steps 200`` trains on 200 steps, not 2048) and SAC's replay
buffer holds 100000 transitions (the default million would take most of a gigabyte here).

stable-baselines3 (and torch) are imported when these functions run, not with this module.
"""
from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import gymnasium
    from stable_baselines3.common.base_class import BaseAlgorithm

#: algorithms selectable with ``--algo``.
ALGORITHMS = ("ddpg", "ppo", "sac")

#: the original example's Ornstein-Uhlenbeck noise, in units of the action (excitations in [0, 1]).
ORIGINAL_OU_THETA = 0.15
ORIGINAL_OU_SIGMA = 0.2

#: PPO's default rollout length in stable-baselines3.
PPO_DEFAULT_N_STEPS = 2048
PPO_DEFAULT_BATCH_SIZE = 64

Policy = Callable[[np.ndarray], np.ndarray]


def _algorithm_class(algo: str) -> type[BaseAlgorithm]:
    if algo not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algo!r}; expected one of {', '.join(ALGORITHMS)}")
    from osim._optional import require

    require("stable_baselines3", "torch", extra="train", feature="training (osim.train.agents)")
    import stable_baselines3

    return getattr(stable_baselines3, algo.upper())


def set_torch_threads(threads: int) -> None:
    """Limit torch's intra-op threads (process-wide).

    The networks here are tiny: a second thread gains nothing and, on a loaded machine, costs much
    (measured: SAC's updates 10x slower with 2 threads than with 1 on 2 busy cores).
    """
    if threads < 1:
        raise ValueError(f"torch threads must be at least 1, got {threads}")
    import torch

    torch.set_num_threads(threads)


def original_ddpg(env: gymnasium.Env, *, seed: int | None = None, verbose: int = 0) -> BaseAlgorithm:
    """DDPG with the original example's networks and hyper-parameters (see the module docstring)."""
    import torch
    from gymnasium import spaces
    from stable_baselines3 import DDPG
    from stable_baselines3.common.noise import OrnsteinUhlenbeckActionNoise

    ddpg = _algorithm_class("ddpg")
    assert issubclass(ddpg, DDPG)  # for the type checker: DDPG's constructor arguments
    if not isinstance(env.action_space, spaces.Box):
        raise TypeError(f"DDPG needs a Box action space, got {env.action_space}")
    low, high = env.action_space.low, env.action_space.high
    # Noise is added to the action rescaled to [-1, 1]: an excitation unit is 2 / (high - low) there.
    sigma = ORIGINAL_OU_SIGMA * 2.0 / (high - low)
    noise = OrnsteinUhlenbeckActionNoise(
        mean=np.zeros(env.action_space.shape), sigma=sigma.astype(np.float64), theta=ORIGINAL_OU_THETA,
    )
    return ddpg(
        "MlpPolicy",
        env,
        learning_rate=1e-3,
        buffer_size=100_000,
        learning_starts=100,
        batch_size=32,
        tau=1e-3,
        gamma=0.99,
        train_freq=1,
        gradient_steps=1,
        action_noise=noise,
        policy_kwargs={"net_arch": {"pi": [32, 32, 32], "qf": [64, 64, 64]}, "activation_fn": torch.nn.ReLU},
        seed=seed,
        device="cpu",
        verbose=verbose,
    )


def _largest_divisor_at_most(n: int, limit: int) -> int:
    return max(d for d in range(1, min(n, limit) + 1) if n % d == 0)


def build_model(
    algo: str, env: gymnasium.Env, *, total_steps: int, seed: int | None = None, verbose: int = 0
) -> BaseAlgorithm:
    """A new agent for ``env``: ``"ddpg"`` (as in the original example), ``"ppo"`` or ``"sac"``.

    ``total_steps`` (the training budget) sizes PPO's rollout for short runs.
    """
    if total_steps < 1:
        raise ValueError(f"total_steps must be a positive number of steps, got {total_steps}")
    cls = _algorithm_class(algo)
    from stable_baselines3 import PPO, SAC

    if algo == "ddpg":
        return original_ddpg(env, seed=seed, verbose=verbose)
    if algo == "ppo":
        assert issubclass(cls, PPO)  # for the type checker: PPO's constructor arguments
        n_steps = min(PPO_DEFAULT_N_STEPS, max(total_steps, 2))
        # A mini-batch size that divides the rollout, so no mini-batch is truncated, unless only a
        # tiny one would (a prime rollout length): then SB3's default and one short mini-batch.
        batch_size = _largest_divisor_at_most(n_steps, PPO_DEFAULT_BATCH_SIZE)
        if batch_size < 8:
            batch_size = min(n_steps, PPO_DEFAULT_BATCH_SIZE)
        return cls("MlpPolicy", env, n_steps=n_steps, batch_size=batch_size, seed=seed, device="cpu",
                   verbose=verbose)
    assert issubclass(cls, SAC)  # for the type checker: SAC's constructor arguments
    return cls("MlpPolicy", env, buffer_size=100_000, seed=seed, device="cpu", verbose=verbose)


def load_model(algo: str, path: str | Path, env: gymnasium.Env | None = None) -> BaseAlgorithm:
    """Load an agent saved with ``model.save(path)`` (a stable-baselines3 ``.zip``).

    Raises:
        FileNotFoundError: no file at ``path`` (nor at ``path + ".zip"``).
    """
    cls = _algorithm_class(algo)
    path = Path(path)
    if not path.is_file() and not path.with_name(path.name + ".zip").is_file():
        raise FileNotFoundError(f"no saved model at {path}; train one first (--train --model {path})")
    return cls.load(str(path), env=env, device="cpu")


def model_policy(model: BaseAlgorithm) -> Policy:
    """The agent's deterministic action for one observation."""
    return lambda observation: model.predict(np.asarray(observation, dtype=np.float64), deterministic=True)[0]


@dataclass
class EvaluationSummary:
    """Returns and lengths of evaluation episodes."""

    returns: list[float] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)

    @property
    def episodes(self) -> int:
        """Number of episodes evaluated."""
        return len(self.returns)

    @property
    def mean_return(self) -> float:
        """Mean return (NaN without episodes)."""
        return statistics.fmean(self.returns) if self.returns else math.nan

    @property
    def std_return(self) -> float:
        """Population standard deviation (0 for one episode)."""
        return statistics.pstdev(self.returns) if self.returns else math.nan

    @property
    def steps(self) -> int:
        """Total number of steps."""
        return sum(self.lengths)

    def format(self) -> str:
        """One line: ``Evaluation: 3 episodes, return 1.234 +/- 0.100 (mean +/- std), 300 steps``."""
        return (f"Evaluation: {self.episodes} episodes, return {self.mean_return:.4f} +/- {self.std_return:.4f} "
                f"(mean +/- std), {self.steps} steps (mean length {self.steps / max(self.episodes, 1):.1f})")


def evaluate(
    policy: Policy,
    env: gymnasium.Env,
    episodes: int,
    *,
    seed: int | None = None,
    progress: bool = True,
) -> EvaluationSummary:
    """Run ``episodes`` whole episodes with ``policy``; episode ``i`` resets with ``seed + i``.

    Episodes end when the environment terminates or truncates them (wrap it with a time limit, e.g.
    :func:`osim.train.envs.make_env` ``max_episode_steps``, for shorter ones).
    """
    if episodes < 1:
        raise ValueError(f"episodes must be at least 1, got {episodes}")
    from tqdm import tqdm

    summary = EvaluationSummary()
    with tqdm(desc="evaluation", unit="step", disable=not progress) as bar:
        for episode in range(episodes):
            observation, _ = env.reset(seed=None if seed is None else seed + episode)
            total, length, done = 0.0, 0, False
            while not done:
                observation, reward, terminated, truncated, _ = env.step(policy(observation))
                total += float(reward)
                length += 1
                done = terminated or truncated
                bar.update()
            summary.returns.append(total)
            summary.lengths.append(length)
            bar.set_postfix(episode=episode + 1, last_return=f"{total:.3f}")
    return summary


def predictions(model: BaseAlgorithm, observations: Sequence[np.ndarray]) -> np.ndarray:
    """Deterministic actions for a batch of observations (to compare a model with its reloaded copy)."""
    actions, _ = model.predict(np.asarray(observations, dtype=np.float64), deterministic=True)
    return np.asarray(actions)


def train(model: BaseAlgorithm, steps: int, *, progress: bool = True) -> BaseAlgorithm:
    """``model.learn(steps)`` with a progress bar (tqdm + rich) unless ``progress`` is False."""
    return model.learn(total_timesteps=steps, progress_bar=progress)


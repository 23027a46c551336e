"""Episodes in one process: run one with a policy, record its actions and rewards, replay it.

An episode is fixed by its environment seed and its actions; the engine is deterministic, so a
replay of the recorded actions from the same seed gives bitwise the same rewards, in this process
or any other (:mod:`osim.train.ray_rollouts` relies on it to check its workers).
"""
from __future__ import annotations

import io
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import gymnasium

Policy = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class EpisodeRequest:
    """One episode to run: the environment seed, at most ``max_steps`` steps, and the seed of the
    random actions (used when no model drives the episode)."""

    seed: int
    max_steps: int
    action_seed: int = 0

    def __post_init__(self) -> None:
        if self.max_steps < 1:
            raise ValueError(f"max_steps must be a positive number of steps, got {self.max_steps}")


@dataclass
class Episode:
    """What happened in one episode."""

    seed: int
    actions: np.ndarray  # (steps, action size), as passed to env.step
    rewards: np.ndarray  # (steps,), float64
    terminated: bool
    truncated: bool
    seconds: float = 0.0  # wall time of the steps (environment and policy)

    @property
    def total_reward(self) -> float:
        """Sum of the episode's rewards."""
        return float(self.rewards.sum())

    @property
    def steps(self) -> int:
        """Number of steps taken."""
        return len(self.rewards)


def random_policy(action_space: Any, action_seed: int) -> Policy:
    """Uniform random actions in ``action_space`` from their own generator (reproducible anywhere)."""
    rng = np.random.default_rng(action_seed)
    low, high, dtype = action_space.low, action_space.high, action_space.dtype
    return lambda _observation: rng.uniform(low, high).astype(dtype)


def run_episode(env: gymnasium.Env, request: EpisodeRequest, policy: Policy | None = None) -> Episode:
    """Reset ``env`` with ``request.seed`` and step it with ``policy`` (default: random actions from
    ``request.action_seed``) until it ends or ``request.max_steps`` steps have run."""
    if policy is None:
        policy = random_policy(env.action_space, request.action_seed)
    observation, _ = env.reset(seed=request.seed)
    actions, rewards = [], []
    terminated = truncated = False
    start = time.perf_counter()
    for _ in range(request.max_steps):
        action = policy(observation)
        observation, reward, terminated, truncated, _ = env.step(action)
        actions.append(action)
        rewards.append(reward)
        if terminated or truncated:
            break
    seconds = time.perf_counter() - start
    return Episode(request.seed, np.asarray(actions), np.asarray(rewards, dtype=np.float64),
                   bool(terminated), bool(truncated), seconds)


def replay_episode(env: gymnasium.Env, seed: int, actions: Sequence[np.ndarray]) -> Episode:
    """Reset ``env`` with ``seed`` and apply ``actions`` in order (stopping if the episode ends)."""
    if len(actions) == 0:
        raise ValueError("replay_episode needs at least one action")
    steps = iter(actions)
    request = EpisodeRequest(seed, len(actions))
    return run_episode(env, request, policy=lambda _observation: next(steps))


def model_policy_from_bytes(algo: str, model_bytes: bytes) -> Policy:
    """The deterministic policy of a stable-baselines3 agent saved as ``.zip`` bytes (sent to a
    remote worker that cannot read the driver's files)."""
    from osim.train import agents

    cls = agents._algorithm_class(algo)
    model = cls.load(io.BytesIO(model_bytes), device="cpu")
    return agents.model_policy(model)


def collect_locally(
    env_id: str,
    requests: Sequence[EpisodeRequest],
    *,
    env_kwargs: dict[str, Any] | None = None,
    policy: Policy | None = None,
) -> list[Episode]:
    """Run ``requests`` one after the other in this process on one environment (one line on stderr
    says so as it starts)."""
    from osim._notice import notice
    from osim.train.envs import make_env

    notice(f"running {len(requests)} episode(s) of {env_id} in this process")
    env = make_env(env_id, **(env_kwargs or {}))
    try:
        return [run_episode(env, request, policy) for request in requests]
    finally:
        env.close()

"""Episodes collected by Ray actors, and a short RLlib PPO run, on the osim-rl Gymnasium ids.

Each actor owns one environment (built from the same Gymnasium id as in a single process) and runs
the episodes it is handed; a cluster runs as many actors as it has CPUs for. Start Ray first:
``ray.init()`` for a local instance, ``ray.init(address="auto")`` on a node of a running cluster
(``ray start --head`` on one machine, ``ray start --address=HEAD:6379`` on the others; every node
needs osim-rl and OpenSim installed)::

    import ray
    from osim.train.ray_rollouts import collect_episodes
    from osim.train.rollouts import EpisodeRequest

    ray.init()
    episodes = collect_episodes("osim/L2Run-v0", [EpisodeRequest(seed, 1000, seed) for seed in range(8)])

Episodes come back in request order with their actions and rewards, so any of them can be replayed
in one process (:func:`osim.train.rollouts.replay_episode`) with bitwise-equal rewards.
A stable-baselines3 agent is sent to the actors as the bytes of its ``.zip`` (no shared file system
needed). Ray is imported when these functions run, not with this module.
"""
from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from osim.train.rollouts import Episode, EpisodeRequest, model_policy_from_bytes, run_episode


class RolloutWorker:
    """One environment and, optionally, one agent; runs episodes on request (the body of a Ray actor).

    Args:
        env_id: Gymnasium id, e.g. ``"osim/L2Run-v0"``.
        env_kwargs: its constructor arguments (and ``max_episode_steps``).
        algo, model_bytes: a stable-baselines3 agent (``"ppo"`` and the bytes of its ``.zip``);
            without one, episodes use random actions from their ``action_seed``.
    """

    def __init__(self, env_id: str, env_kwargs: dict[str, Any] | None = None, algo: str | None = None,
                 model_bytes: bytes | None = None) -> None:
        from osim.train.envs import make_env

        self.env = make_env(env_id, **(env_kwargs or {}))
        if model_bytes is not None and algo is None:
            raise ValueError("model_bytes needs algo, the algorithm that saved the model")
        self.policy = None if model_bytes is None or algo is None else model_policy_from_bytes(algo, model_bytes)

    def run(self, request: EpisodeRequest) -> Episode:
        """Play the episode of ``request`` with the worker's policy."""
        return run_episode(self.env, request, self.policy)

    def close(self) -> None:
        """Close the worker's environment."""
        self.env.close()


@functools.cache
def remote_rollout_worker() -> Any:
    """:class:`RolloutWorker` as a Ray actor class (one CPU each)."""
    import ray

    return ray.remote(num_cpus=1)(RolloutWorker)


def _require_ray() -> Any:
    from osim._optional import require

    require("ray", extra="ray", feature="distributed rollouts (osim.train.ray_rollouts)")
    import ray

    if not ray.is_initialized():
        raise RuntimeError("Ray is not running in this process: call ray.init() (or ray.init(address='auto'))")
    return ray


def collect_episodes(
    env_id: str,
    requests: Sequence[EpisodeRequest],
    *,
    num_workers: int | None = None,
    env_kwargs: dict[str, Any] | None = None,
    algo: str | None = None,
    model_bytes: bytes | None = None,
) -> list[Episode]:
    """Run ``requests`` on ``num_workers`` Ray actors (default: one per CPU of the cluster, at most one
    per request); returns the episodes in request order. The actors are stopped afterwards."""
    ray = _require_ray()
    from ray.util import ActorPool

    if not requests:
        return []
    if (algo is None) != (model_bytes is None):
        raise ValueError("give both algo and model_bytes for an agent, or neither for random actions")
    if num_workers is None:
        num_workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
    if num_workers < 1:
        raise ValueError(f"num_workers must be at least 1, got {num_workers}")
    worker_class = remote_rollout_worker()
    model_ref = ray.put(model_bytes) if model_bytes is not None else None
    workers = [worker_class.remote(env_id, env_kwargs, algo, model_ref)
               for _ in range(min(num_workers, len(requests)))]
    try:
        pool = ActorPool(workers)
        return list(pool.map(lambda worker, request: worker.run.remote(request), list(requests)))
    finally:
        for worker in workers:
            ray.kill(worker)


@dataclass
class Throughput:
    """Steps per second of a collection (environment construction included)."""

    steps: int
    seconds: float

    @property
    def steps_per_second(self) -> float:
        """Steps per second (NaN for no time)."""
        return self.steps / self.seconds if self.seconds > 0 else float("nan")


def timed(collect: Any, *args: Any, **kwargs: Any) -> tuple[list[Episode], Throughput]:
    """Run ``collect(*args, **kwargs)`` (a function returning episodes) and measure its throughput."""
    start = time.perf_counter()
    episodes = collect(*args, **kwargs)
    seconds = time.perf_counter() - start
    return episodes, Throughput(sum(episode.steps for episode in episodes), seconds)


def train_rllib_ppo(
    env_id: str,
    *,
    iterations: int = 2,
    train_batch_size: int = 200,
    minibatch_size: int = 50,
    num_env_runners: int = 1,
    hidden_sizes: Sequence[int] = (32, 32),
    env_kwargs: dict[str, Any] | None = None,
    seed: int = 0,
) -> list[dict[str, float]]:
    """Train RLlib's PPO (new API stack, torch) for ``iterations`` iterations on ``env_id``.

    Environments are built by :func:`osim.train.envs.make_env` in each env runner (registered with
    Ray Tune under the Gymnasium id). Returns, per iteration, the lifetime environment steps, the
    mean episode return (NaN until an episode has ended) and the iteration's wall time.
    """
    _require_ray()
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.rl_module.default_model_config import DefaultModelConfig
    from ray.tune.registry import register_env

    from osim.train.envs import make_env

    if iterations < 1:
        raise ValueError(f"iterations must be at least 1, got {iterations}")
    register_env(env_id, lambda config: make_env(env_id, **config))
    config = (
        PPOConfig()
        .environment(env_id, env_config=dict(env_kwargs or {}))
        .framework("torch")
        .env_runners(num_env_runners=num_env_runners, num_envs_per_env_runner=1)
        .training(train_batch_size_per_learner=train_batch_size, minibatch_size=minibatch_size, num_epochs=1)
        .rl_module(model_config=DefaultModelConfig(fcnet_hiddens=list(hidden_sizes)))
        .debugging(seed=seed)
    )
    algorithm = config.build_algo()
    history = []
    try:
        for _ in range(iterations):
            result = algorithm.train()
            runners = result.get("env_runners", {})
            history.append({
                "env_steps": float(result.get("num_env_steps_sampled_lifetime",
                                              runners.get("num_env_steps_sampled_lifetime", float("nan")))),
                "episode_return_mean": float(runners.get("episode_return_mean", float("nan"))),
                "seconds": float(result.get("time_this_iter_s", float("nan"))),
            })
    finally:
        algorithm.stop()
    return history

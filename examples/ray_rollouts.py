#!/usr/bin/env python
"""Collect episodes on a Ray cluster, or train RLlib's PPO, on the osim-rl Gymnasium ids.

    # 8 random-action episodes on 2 actors of a local Ray instance, timed against one process:
    python examples/ray_rollouts.py collect --env osim/L2Run-v0 --episodes 8 --max-steps 200 --compare
    # the same on a running cluster (after `ray start --head` / `ray start --address=...`):
    python examples/ray_rollouts.py collect --address auto --episodes 64 --max-steps 1000
    # episodes of a trained stable-baselines3 agent:
    python examples/ray_rollouts.py collect --model example.zip --algo ddpg --episodes 16
    # a short RLlib PPO run:
    python examples/ray_rollouts.py rllib --env osim/L2Run-v0 --iterations 2 --train-batch-size 200

``--compare`` runs the same episodes (same seeds, same random actions) in this process too, prints
both throughputs and checks that every reward is bitwise equal.
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Any

import numpy as np

from osim.train.ray_rollouts import Throughput, collect_episodes, timed, train_rllib_ppo
from osim.train.rollouts import Episode, EpisodeRequest, collect_locally, model_policy_from_bytes


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--address", default=None,
                        help="Ray cluster address ('auto' for a running cluster; default: a local instance)")
    common.add_argument("--num-cpus", type=positive, default=None, help="CPUs of a local instance (default: all)")
    common.add_argument("--env", default="osim/L2Run-v0", help="Gymnasium id (default osim/L2Run-v0)")
    common.add_argument("--max-episode-steps", type=positive, default=None,
                        help="end episodes after this many steps (default: the environment's limit)")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    collect = commands.add_parser("collect", parents=[common], help="collect episodes on Ray actors")
    collect.add_argument("--episodes", type=positive, default=8, help="number of episodes (default 8)")
    collect.add_argument("--max-steps", type=positive, default=1000, help="steps per episode at most (default 1000)")
    collect.add_argument("--workers", type=positive, default=None, help="actors (default: one per CPU)")
    collect.add_argument("--seed", type=int, default=0, help="first environment seed (default 0)")
    collect.add_argument("--model", type=Path, default=None, help="stable-baselines3 .zip (default: random actions)")
    collect.add_argument("--algo", choices=("ddpg", "ppo", "sac"), default=None, help="algorithm of --model")
    collect.add_argument("--compare", action="store_true",
                         help="also run the episodes in this process: throughput and bitwise equality")

    rllib = commands.add_parser("rllib", parents=[common], help="train RLlib's PPO for a few iterations")
    rllib.add_argument("--iterations", type=positive, default=2, help="training iterations (default 2)")
    rllib.add_argument("--train-batch-size", type=positive, default=200, help="steps per iteration (default 200)")
    rllib.add_argument("--minibatch-size", type=positive, default=50, help="SGD mini-batch (default 50)")
    rllib.add_argument("--env-runners", type=int, default=1, help="remote env runners (0: in the driver)")
    rllib.add_argument("--seed", type=int, default=0)
    return parser


def describe(label: str, episodes: list[Episode], throughput: Throughput) -> str:
    returns = [episode.total_reward for episode in episodes]
    spread = statistics.pstdev(returns) if len(returns) > 1 else 0.0
    return (f"{label}: {len(episodes)} episodes, {throughput.steps} steps in {throughput.seconds:.1f} s = "
            f"{throughput.steps_per_second:.1f} steps/s; return {statistics.fmean(returns):.4f} +/- {spread:.4f}")


def collect_command(args: argparse.Namespace) -> int:
    if (args.model is None) != (args.algo is None):
        print("ray_rollouts.py: --model and --algo go together", file=sys.stderr)
        return 2
    if args.model is not None and not args.model.is_file():
        print(f"ray_rollouts.py: no saved model at {args.model}", file=sys.stderr)
        return 2
    env_kwargs = {"max_episode_steps": args.max_episode_steps} if args.max_episode_steps else {}
    model_bytes = args.model.read_bytes() if args.model else None
    requests = [EpisodeRequest(args.seed + i, args.max_steps, action_seed=args.seed + i)
                for i in range(args.episodes)]
    episodes, throughput = timed(collect_episodes, args.env, requests, num_workers=args.workers,
                                 env_kwargs=env_kwargs, algo=args.algo, model_bytes=model_bytes)
    import ray

    workers = args.workers or int(ray.cluster_resources().get("CPU", 1))
    print(describe(f"Ray ({min(workers, len(requests))} actors)", episodes, throughput))
    if not args.compare:
        return 0
    policy = model_policy_from_bytes(args.algo, model_bytes) if model_bytes else None
    local, local_throughput = timed(collect_locally, args.env, requests, env_kwargs=env_kwargs, policy=policy)
    print(describe("One process", local, local_throughput))
    equal = all(a.rewards.tobytes() == b.rewards.tobytes() and np.array_equal(a.actions, b.actions)
                for a, b in zip(episodes, local))
    speedup = throughput.steps_per_second / local_throughput.steps_per_second
    print(f"Speed-up {speedup:.2f}x; rewards bitwise equal: {'yes' if equal else 'NO'}")
    return 0 if equal else 1


def rllib_command(args: argparse.Namespace) -> int:
    env_kwargs = {"max_episode_steps": args.max_episode_steps} if args.max_episode_steps else {}
    history = train_rllib_ppo(args.env, iterations=args.iterations, train_batch_size=args.train_batch_size,
                              minibatch_size=args.minibatch_size, num_env_runners=args.env_runners,
                              env_kwargs=env_kwargs, seed=args.seed)
    for number, row in enumerate(history, 1):
        print(f"RLlib PPO iteration {number}: {row['env_steps']:.0f} env steps, "
              f"episode return mean {row['episode_return_mean']:.4f}, {row['seconds']:.1f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import ray

    started_here = not ray.is_initialized()
    if started_here:
        options: dict[str, Any] = {"include_dashboard": False}
        if args.address:
            options["address"] = args.address
        elif args.num_cpus:
            options["num_cpus"] = args.num_cpus
        ray.init(**options)
    try:
        return collect_command(args) if args.command == "collect" else rllib_command(args)
    finally:
        if started_here:
            ray.shutdown()


if __name__ == "__main__":
    sys.exit(main())

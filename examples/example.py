#!/usr/bin/env python
"""Train or test a neural-network muscle controller: the original osim-rl example on stable-baselines3.

    python examples/example.py --train --steps 10000 --model example.zip          # DDPG, osim/L2Run-v0
    python examples/example.py --test --model example.zip                          # evaluate it
    python examples/example.py --test --model example.zip --token TOKEN --remote URL   # submit it
    python examples/example.py --env osim/Arm2D-v0 --algo sac --steps 20000 --model arm_sac.zip

``--train`` (the default) trains a new agent for ``--steps`` environment steps, saves it to
``--model`` and evaluates it; ``--test`` loads ``--model`` and evaluates it, or, with ``--token``,
runs it on the grader at ``--remote`` and submits the result. DDPG is set up as the original's
keras-rl agent (see :mod:`osim.train.agents`); ``--algo ppo`` and ``--algo sac`` use
stable-baselines3's defaults. The original trained on ``RunEnv``; the default here is its 2018 port
``osim/L2Run-v0`` (same model and reward, no obstacles).
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Any

from osim.train import agents
from osim.train.envs import make_env

DEFAULT_ENV = "osim/L2Run-v0"
DEFAULT_REMOTE = "http://127.0.0.1:8000"


@dataclass
class ExampleResult:
    """What a run produced: the agent, the evaluation summary (None when submitting), the grader's total."""

    model: Any
    summary: agents.EvaluationSummary | None = None
    submitted_total: float | None = None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Train or test neural net motor controller",
        epilog=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--train", dest="train", action="store_true", default=True,
                        help="train a new agent and save it to --model (the default)")
    parser.add_argument("--test", dest="train", action="store_false",
                        help="load --model and evaluate it (or submit it with --token)")
    parser.add_argument("--steps", type=int, default=10000, help="training steps (default 10000)")
    parser.add_argument("--visualize", action="store_true", default=False,
                        help="show OpenSim's visualizer (render_mode='human')")
    parser.add_argument("--model", default="example.zip",
                        help="file of the saved agent, a stable-baselines3 .zip (default example.zip)")
    parser.add_argument("--token", default=None, help="grader token: with --test, submit the agent")
    parser.add_argument("--remote", default=DEFAULT_REMOTE, help=f"grader URL (default {DEFAULT_REMOTE})")
    parser.add_argument("--env", default=DEFAULT_ENV, help=f"Gymnasium id (default {DEFAULT_ENV})")
    parser.add_argument("--algo", choices=agents.ALGORITHMS, default="ddpg",
                        help="ddpg (as in the original), ppo or sac (default ddpg)")
    parser.add_argument("--episodes", type=int, default=1, help="evaluation episodes (default 1)")
    parser.add_argument("--max-episode-steps", type=int, default=None,
                        help="end episodes after this many steps (default: the environment's time limit)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the agent and of the environment")
    parser.add_argument("--torch-threads", type=int, default=1,
                        help="torch threads (default 1: the networks are too small to gain from more)")
    parser.add_argument("--no-progress", dest="progress", action="store_false",
                        help="no progress bars (e.g. in logs)")
    return parser


def check_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Reject values argparse cannot check by type alone."""
    if args.steps < 1:
        parser.error(f"--steps must be a positive number of steps, got {args.steps}")
    if args.episodes < 1:
        parser.error(f"--episodes must be at least 1, got {args.episodes}")
    if args.max_episode_steps is not None and args.max_episode_steps < 1:
        parser.error(f"--max-episode-steps must be positive, got {args.max_episode_steps}")
    if args.torch_threads < 1:
        parser.error(f"--torch-threads must be at least 1, got {args.torch_threads}")
    if args.token and args.train:
        parser.error("--token submits a trained agent: use it with --test")


def submit(model: Any, args: argparse.Namespace) -> float | None:
    """Run the agent on the grader (the original client loop) and submit; returns the total reward."""
    from osim.http.client import Client, run_submission

    return run_submission(Client(args.remote), args.token, args.env, agents.model_policy(model))


def run(args: argparse.Namespace) -> ExampleResult:
    """Train or test as ``args`` say (see :func:`build_parser`)."""
    agents.set_torch_threads(args.torch_threads)
    render_mode = "human" if args.visualize else None
    env = make_env(args.env, render_mode=render_mode, max_episode_steps=args.max_episode_steps)
    try:
        if args.train:
            model = agents.build_model(args.algo, env, total_steps=args.steps, seed=args.seed)
            agents.train(model, args.steps, progress=args.progress)
            model.save(args.model)
            print(f"Saved the {args.algo.upper()} agent to {args.model}")
        else:
            model = agents.load_model(args.algo, args.model, env=env)
            if args.token:
                total = submit(model, args)
                return ExampleResult(model, submitted_total=total)
        summary = agents.evaluate(agents.model_policy(model), env, args.episodes, seed=args.seed,
                                  progress=args.progress)
        print(f"{args.env}, {args.algo.upper()} agent {args.model}")
        print(summary.format())
        return ExampleResult(model, summary=summary)
    finally:
        env.close()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    check_arguments(parser, args)
    from osim.http.client import ServerError
    from osim.render.human import DisplayUnavailableError

    try:
        result = run(args)
    except (ValueError, FileNotFoundError, ImportError, DisplayUnavailableError) as error:
        print(f"example.py: {error}", file=sys.stderr)
        return 2
    except ServerError as error:
        print(f"example.py: the grader refused the request: {error.message}", file=sys.stderr)
        return 1
    if args.token and result.submitted_total is None:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python
"""Submit a controller to a grader, as the original ``scripts/submit.py`` did.

    python examples/submit.py --token TOKEN [--remote URL] [--env-id L2M2019Env] [--model policy.py]

Without ``--model`` the actions are random (the original's behaviour, useful to check a setup).
``--model`` is a Python file defining ``policy(observation) -> action`` (a list of excitations in
[0, 1]); it runs in this process, so it may load any weights it likes.
"""
from __future__ import annotations

import argparse
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def load_policy(path: str) -> Callable[[Any], Any]:
    """The ``policy`` function of the Python file ``path``."""
    file = Path(path)
    if not file.is_file():
        raise SystemExit(f"--model: no such file {path!r} (expected a Python file defining policy(observation))")
    spec = importlib.util.spec_from_file_location("submitted_model", file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    policy = getattr(module, "policy", None)
    if not callable(policy):
        raise SystemExit(f"--model: {path!r} must define a function policy(observation) returning the action")
    return policy


def random_policy(env_id: str, seed: int | None) -> Callable[[Any], Any]:
    """Uniform random excitations, sized from a local copy of the environment."""
    from osim.http.worker import resolve_env

    cls, kwargs = resolve_env(env_id)
    action_space = cls(**{**kwargs, "visualize": False}).action_space
    action_space.seed(seed)
    return lambda _observation: action_space.sample().tolist()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Submit a controller to an osim-rl grader.")
    parser.add_argument("--token", required=True, help="your grader token")
    parser.add_argument("--remote", default="http://127.0.0.1:8000", help="the grader's URL")
    parser.add_argument("--env-id", default="L2M2019Env", help="environment id (default L2M2019Env)")
    parser.add_argument("--model", help="Python file defining policy(observation); default: random actions")
    parser.add_argument("--seed", type=int, default=None, help="seed of the random actions")
    args = parser.parse_args(argv)

    from osim.http.client import Client, ServerError, run_submission

    policy = load_policy(args.model) if args.model else random_policy(args.env_id, args.seed)
    try:
        total = run_submission(Client(args.remote), args.token, args.env_id, policy)
    except ServerError as error:
        print(f"The grader refused the request: {error.message}", file=sys.stderr)
        return 1
    return 0 if total is not None else 1


if __name__ == "__main__":
    sys.exit(main())

"""``osim serve`` (run a grader) and ``osim tokens`` (manage participants' tokens)."""
from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import time
from typing import Any

from osim.cli.run import DEFAULT_ENGINE_NAME, ENGINE_CHOICES

DEFAULT_DB = "grader.sqlite3"


def _seeds(text: str) -> tuple[int, ...]:
    try:
        seeds = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"seeds must be comma-separated integers, got {text!r}") from None
    if not seeds:
        raise argparse.ArgumentTypeError("at least one seed is needed (one simulation per seed)")
    return seeds


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"expected a JSON object such as '{{\"difficulty\": 2}}': {error}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object such as '{{\"difficulty\": 2}}', got {text!r}")
    return value


def register(subparsers: Any) -> None:
    """Add the ``serve`` and ``tokens`` subcommands."""
    serve = subparsers.add_parser(
        "serve", help="run a grader (remote evaluation server)",
        description="Run a grader speaking the original osim-rl HTTP protocol, with a leaderboard.",
    )
    serve.add_argument("--db", default=DEFAULT_DB,
                       help=f"SQLite database file or PostgreSQL URL postgresql://... (default {DEFAULT_DB})")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument("--env", dest="envs", action="append", metavar="ENV_ID",
                       help="environment id clients may create (repeatable; default L2M2019Env)")
    serve.add_argument("--env-kwargs", type=_json_object, default={}, metavar="JSON",
                       help="constructor arguments of the environments, e.g. '{\"difficulty\": 2}'")
    serve.add_argument("--engine", choices=ENGINE_CHOICES, default=DEFAULT_ENGINE_NAME,
                       help=f"physics engine of every environment served (default {DEFAULT_ENGINE_NAME}); "
                            "stored with each submission and shown with its score")
    serve.add_argument("--seeds", type=_seeds, default=None, metavar="S1,S2,...",
                       help="one simulation per seed (default: 3 random seeds, kept in the database)")
    serve.add_argument("--max-steps", type=int, default=1000, help="steps per simulation at most (default 1000)")
    serve.add_argument("--max-instances", type=int, default=8, help="instances at once, in total (default 8)")
    serve.add_argument("--max-instances-per-token", type=int, default=2,
                       help="instances at once per token (default 2)")
    serve.add_argument("--step-timeout", type=float, default=30.0, help="seconds per step (default 30)")
    serve.add_argument("--create-timeout", type=float, default=120.0,
                       help="seconds to build an environment or reset it (default 120)")
    serve.add_argument("--idle-timeout", type=float, default=600.0,
                       help="seconds without requests before an instance is reclaimed (default 600)")
    serve.add_argument("--raw-observations", action="store_true",
                       help="send state dictionaries (project=False), as the 2018 and 2019 graders did")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    serve.set_defaults(func=run_serve)

    tokens = subparsers.add_parser("tokens", help="create, list or revoke grader tokens",
                                   description="Manage the tokens of a grader's participants.")
    tokens.add_argument("--db", default=DEFAULT_DB,
                        help=f"SQLite database file or PostgreSQL URL postgresql://... (default {DEFAULT_DB})")
    actions = tokens.add_subparsers(dest="tokens_command", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="create a token and print it (shown only once)")
    create.add_argument("name", help="participant or team name shown on the leaderboard")
    actions.add_parser("list", help="list tokens (names, dates, submissions; never the secrets)")
    revoke = actions.add_parser("revoke", help="revoke a token")
    revoke.add_argument("name", help="participant name or token id")
    tokens.set_defaults(func=run_tokens)


def _open_store(path: str) -> Any:
    from osim.http.store import Store

    return Store(path)


def run_tokens(args: argparse.Namespace) -> int:
    """``osim tokens``: create, list or revoke tokens; returns the exit code."""
    store = _open_store(args.db)
    try:
        if args.tokens_command == "create":
            try:
                token = store.create_token(args.name)
            except ValueError as error:
                print(f"error: {error}", file=sys.stderr)
                return 1
            print(token)
            return 0
        if args.tokens_command == "list":
            print(f"{'id':>4}  {'name':<30} {'created (UTC)':<20} {'status':<8} submissions")
            for row in store.list_tokens():
                created = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(row["created_at"]))
                status = "revoked" if row["revoked_at"] else "active"
                print(f"{row['id']:>4}  {row['name']:<30} {created:<20} {status:<8} {row['submissions']}")
            return 0
        if store.revoke_token(args.name):
            print(f"revoked {args.name}")
            return 0
        print(f"error: no active token named or numbered {args.name!r}", file=sys.stderr)
        return 1
    finally:
        store.close()


def run_serve(args: argparse.Namespace) -> int:
    """``osim serve``: run the grader until interrupted; returns the exit code."""
    from osim._optional import require

    require("fastapi", "uvicorn", extra="grader", feature="osim serve")
    import uvicorn

    from osim.http.app import create_app
    from osim.http.grading import GraderConfig

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    store = _open_store(args.db)
    seeds = args.seeds
    if seeds is None:
        # Random but stable: a restarted grader keeps scoring on the same simulations.
        seeds = tuple(store.setting("seeds") or [random.randrange(10**9) for _ in range(3)])
        store.set_setting("seeds", list(seeds))
    try:
        config = GraderConfig(
            env_ids=tuple(args.envs or ["L2M2019Env"]),
            seeds=seeds,
            max_steps=args.max_steps,
            max_instances=args.max_instances,
            max_instances_per_token=args.max_instances_per_token,
            step_timeout=args.step_timeout,
            create_timeout=args.create_timeout,
            idle_timeout=args.idle_timeout,
            env_kwargs=args.env_kwargs,
            project=not args.raw_observations,
            engine=args.engine,
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    app = create_app(config, store)
    print(f"osim-rl grader for {list(config.env_ids)} on {config.engine}: {len(seeds)} simulations per submission, "
          f"leaderboard at http://{args.host}:{args.port}/leaderboard", flush=True)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    finally:
        store.close()
    return 0


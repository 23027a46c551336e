"""``osim bench``: how fast environments step, here and in the original osim-rl, on the same actions.

Subcommands::

    osim bench envs   --env L2M2019Env --steps 300 --rounds 3 [--original] [--preset fast]
    osim bench memory --env L2RunEnv --steps 20000 --episode-steps 100
    osim bench multi  --env L2RunEnv --count 3 --steps 300
    osim bench vector --env-id osim/L2Run-v0 --workers 1 2 --steps 200

Every measurement of ``envs`` and ``memory`` runs in a fresh child process that steps one
environment with random excitations drawn from a seeded generator; runs of ours and of the original
alternate, so both see the same machine load. Each subcommand prints a table on stdout and its
progress on stderr; ``--json`` prints the results as JSON instead, ``--json FILE`` writes them to
FILE as well as printing the table. ``--original`` downloads the original releases once (pip) and
builds a scratch venv for them (see docs/performance.md).
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from osim.bench.compare import compare_envs
from osim.bench.parallel import multi_env, vector_throughput
from osim.bench.runner import ENVIRONMENTS, machine_details, run_worker
from osim.cli import plain_text


def _progress(line: str) -> None:
    """A progress line of a running benchmark, on stderr (the results go to stdout)."""
    print(line, file=sys.stderr, flush=True)


def _report(args: argparse.Namespace, table: list[str], result: dict[str, Any]) -> int:
    """Print ``table`` (or, with a bare ``--json``, ``result`` as JSON) and write ``--json FILE``."""
    if args.json == JSON_TO_STDOUT:
        print(json.dumps(result, indent=1), flush=True)
        return 0
    print("\n".join(table), flush=True)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
    return 0


def _cmd_envs(args: argparse.Namespace) -> int:
    result = compare_envs(args.env, args.steps, args.rounds, original=args.original, presets=args.preset,
                          seed=args.seed, progress=_progress)
    table = []
    for env, summary in result["envs"].items():
        for key, variant in summary["variants"].items():
            if "error" in variant:
                table.append(f"{env:15s} {key:14s} error")
                continue
            ratio = (f"  x{variant['ratio_cpu']:.2f} (CPU) x{variant['ratio_wall']:.2f} (wall)"
                     if "ratio_cpu" in variant else "")
            table.append(f"{env:15s} {key:14s} {variant['steps_per_second']:7.1f} steps/s  "
                         f"{variant['steps_per_cpu_second']:7.1f} per CPU s{ratio}")
    return _report(args, table, result)


def _cmd_memory(args: argparse.Namespace) -> int:
    result: dict[str, Any] = {"machine": machine_details()}
    result.update(run_worker(args.env, "ours", args.steps, episode_steps=args.episode_steps,
                             rss_every=args.rss_every, split=False, nice=args.nice,
                             integrator=preset_fields_or_none(args.preset)))
    samples = result["rss_mb"]
    # Growth after warm-up: from the first sample after the first episode to the end.
    warm = next((mb for step, mb in samples if step >= args.episode_steps), samples[0][1])
    result["rss_growth_mb"] = samples[-1][1] - warm
    return _report(args, [
        f"{args.env}: {result['steps']} steps, {result['resets']} resets, RSS {samples[0][1]:.0f} -> "
        f"{warm:.0f} (after first episode) -> {samples[-1][1]:.0f} MB, growth {result['rss_growth_mb']:.1f} MB"
    ], result)


def preset_fields_or_none(name: str | None) -> dict[str, Any] | None:
    """The settings of integrator preset ``name`` as a dict; ``None`` when no preset is named."""
    if not name:
        return None
    from osim.engine.presets import preset_fields

    return preset_fields(name)


def _cmd_multi(args: argparse.Namespace) -> int:
    result = multi_env(args.env, args.count, args.steps, progress=_progress)
    return _report(args, multi_table(result), {"machine": machine_details(), **result})


def multi_table(result: dict[str, Any]) -> list[str]:
    """The lines ``osim bench multi`` prints for a :func:`multi_env` result."""
    rows = (("one env alone", result["cpu_ms_per_step_alone"]),
            (f"{result['count']} envs in turn", result["cpu_ms_per_step_together"]),
            ("one env alone again", result["cpu_ms_per_step_alone_after"]))
    return [f"{result['env']}: CPU ms per step, {result['steps_per_env']} steps per env",
            *(f"  {label:<22}{value:8.2f}" for label, value in rows),
            f"  {'slowdown together':<22}{'x':>4}{result['slowdown']:.2f}"]


def _cmd_vector(args: argparse.Namespace) -> int:
    try:
        result = vector_throughput(args.env_id, args.workers, args.steps, args.rounds,
                                   policy_seconds=args.policy_ms / 1000, progress=_progress)
    except ValueError as error:  # bad numbers on the command line: say so, no traceback
        print(f"osim bench vector: {error}", file=sys.stderr)
        return 2
    return _report(args, vector_table(result), {"machine": machine_details(), **result})


def vector_table(result: dict[str, Any]) -> list[str]:
    """The table ``osim bench vector`` prints for a :func:`vector_throughput` result (medians)."""
    lines = [
        f"{result['env_id']}: {result['steps_per_env']} steps per env, {result['rounds']} round(s)"
        + (f", {1e3 * result['policy_seconds']:g} ms policy stand-in" if result["policy_seconds"] else ""),
        f"one env in this process: {result['single_process']:.1f} steps/s",
        "",
        f"{'workers':>7}  {'kind':<12} {'steps/s':>8} {'speed-up':>8} {'CPU eff.':>8} {'idle':>6} "
        f"{'of indep.':>9}",
    ]
    for n, row in result["workers"].items():
        for kind in result["kinds"]:
            cell = row[kind]
            idle = f"{100 * cell['idle']:5.0f}%" if "idle" in cell else f"{'-':>6}"
            lines.append(f"{n:>7}  {kind:<12} {cell['steps_per_second']:8.1f} {cell['speedup']:7.2f}x "
                         f"{cell['cpu_efficiency']:8.2f} {idle} {cell['of_independent']:8.2f}x")
    lines += ["", *(f"{kind}: {meaning}" for kind, meaning in result["kinds"].items())]
    return lines


#: ``--json`` without a file name: print the JSON instead of the table
JSON_TO_STDOUT = "-"


def _add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", nargs="?", const=JSON_TO_STDOUT, default=None, metavar="FILE",
                        help="print the results as JSON instead of the table; with FILE, print the "
                             "table and write the JSON there")


def _subcommands() -> dict[str, tuple[str, Callable[[argparse.Namespace], int], list[tuple[str, dict[str, Any]]]]]:
    """``osim bench``'s subcommands: name -> (help, function, options as (flag, add_argument keywords))."""
    envs = list(ENVIRONMENTS)
    return {
        "envs": ("steps/s and cost split per env, ours vs the original", _cmd_envs, [
            ("--env", {"nargs": "+", "choices": envs, "default": ["L2M2019Env"]}),
            ("--steps", {"type": int, "default": 300}),
            ("--rounds", {"type": int, "default": 3}),
            ("--seed", {"type": int, "default": 0}),
            ("--original", {"action": "store_true",
                            "help": "also time the original (downloads and sets up its releases once)"}),
            ("--preset", {"nargs": "*", "default": [], "help": "also time these presets of ours"}),
        ]),
        "memory": ("RSS over a long run with many resets", _cmd_memory, [
            ("--env", {"choices": envs, "default": "L2RunEnv"}),
            ("--steps", {"type": int, "default": 20000}),
            ("--episode-steps", {"type": int, "default": 100}),
            ("--rss-every", {"type": int, "default": 500}),
            ("--preset", {"default": None}),
            ("--nice", {"type": int, "default": 0}),
        ]),
        "multi": ("several envs in one process: do they slow each other down?", _cmd_multi, [
            ("--env", {"choices": envs, "default": "L2RunEnv"}),
            ("--count", {"type": int, "default": 3}),
            ("--steps", {"type": int, "default": 200}),
        ]),
        "vector": ("steps/s of N envs stepped in parallel (vector envs, pool) for each N", _cmd_vector, [
            ("--env-id", {"default": "osim/L2Run-v0"}),
            ("--workers", {"type": int, "nargs": "+", "default": [1, 2]}),
            ("--steps", {"type": int, "default": 200}),
            ("--rounds", {"type": int, "default": 3}),
            ("--policy-ms", {"type": float, "default": 0.0,
                             "help": "CPU ms in the parent before each batch of actions"}),
        ]),
    }


def register(subparsers: Any) -> None:
    """Add ``osim bench`` and its subcommands to the ``osim`` command."""
    bench = subparsers.add_parser("bench", help="benchmark stepping speed, memory and parallel throughput",
                                  description=plain_text(__doc__),
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = bench.add_subparsers(dest="bench_command", metavar="WHAT", required=True)
    for name, (text, function, options) in _subcommands().items():
        parser = sub.add_parser(name, help=text)
        for flag, keywords in options:
            parser.add_argument(flag, **keywords)
        _add_json_option(parser)
        parser.set_defaults(func=function)

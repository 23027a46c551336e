"""Benchmarks of the environments (``osim bench``), one module per job.

* :mod:`osim.bench.harness` -- the child process that steps one environment and times it (stdlib
  and NumPy only at module level: it also runs in the original osim-rl's venv);
* :mod:`osim.bench.runner` -- runs the harness in a fresh child of either venv, machine details;
* :mod:`osim.bench.original` -- the original osim-rl releases, downloaded, patched and set up in a
  scratch venv;
* :mod:`osim.bench.compare` -- ours against the original, alternating rounds, and their summary;
* :mod:`osim.bench.parallel` -- several envs in one process, N envs in parallel (vector envs, pool).

The command line is :mod:`osim.cli.bench`. Studies that only the benchmark suite runs (integrator
settings, rendering cost) live with it in the repository's ``benchmarks/``.
"""
from __future__ import annotations

from osim.bench.compare import compare_envs, summarize
from osim.bench.harness import SPLIT_METHODS, SplitTimer, instrument, time_env
from osim.bench.parallel import PARALLEL_KINDS, multi_env, vector_throughput
from osim.bench.runner import ENVIRONMENTS, load_ours, machine_details, run_worker

__all__ = [
    "ENVIRONMENTS",
    "PARALLEL_KINDS",
    "SPLIT_METHODS",
    "SplitTimer",
    "compare_envs",
    "instrument",
    "load_ours",
    "machine_details",
    "multi_env",
    "run_worker",
    "summarize",
    "time_env",
    "vector_throughput",
]

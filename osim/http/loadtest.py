"""Latency and throughput of a grader under load: N clients on loopback, each running submissions.

A real grader (``osim serve`` in a child process, :class:`osim.http.testing.GraderProcess`) on a
fresh SQLite file, one token per client, ``N`` client threads running the original client loop
(:func:`osim.http.client.run_submission`) with random actions, and a probe asking ``/health`` every
``probe_interval`` seconds (how long a request that does not simulate waits while the workers do).
Every request of every client is timed. Bounded in count (``submissions`` per client) and in time
(no new submission starts after ``time_limit`` seconds; one in progress runs to its end).

Latencies depend on how busy the machine is; the CPU time of the server process per request and
of its simulation workers per step (Linux ``/proc``) do not, and are reported next to them.

``python benchmarks/run_suite.py grader`` records the result in ``benchmarks/results/grader.json``.
"""
from __future__ import annotations

import concurrent.futures
import os
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import requests

from osim.http.client import Client, run_submission
from osim.http.store import Store
from osim.http.testing import GraderProcess

#: The percentiles reported for every kind of request.
PERCENTILES = (50, 95, 99)


class TimedClient(Client):
    """A :class:`Client` that keeps the wall time of each of its requests, by route."""

    def __init__(self, remote_base: str, *, timeout: float = 300.0) -> None:
        super().__init__(remote_base, timeout=timeout)
        self.seconds: dict[str, list[float]] = {}

    def _send(self, method: str, route: str, data: Any = None) -> requests.Response:
        started = time.perf_counter()
        try:
            return super()._send(method, route, data)
        finally:
            self.seconds.setdefault(route_kind(route), []).append(time.perf_counter() - started)


def route_kind(route: str) -> str:
    """``/v1/envs/<id>/monitor/close/`` -> ``monitor/close``; ``/v1/envs/`` -> ``create``."""
    parts = [part for part in route.split("/") if part]
    return "/".join(parts[3:]) if len(parts) > 3 else "create"


def latency_summary(seconds: Sequence[float]) -> dict[str, float | int]:
    """Count, p50/p95/p99 and maximum of request times, in milliseconds."""
    if not seconds:
        raise ValueError("no requests were timed")
    milliseconds = 1000 * np.asarray(seconds, dtype=float)
    summary: dict[str, float | int] = {"count": int(milliseconds.size)}
    for percentile in PERCENTILES:
        summary[f"p{percentile}_ms"] = float(np.percentile(milliseconds, percentile))
    summary["max_ms"] = float(milliseconds.max())
    return summary


def server_cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU seconds (user + system) of process ``pid`` itself and of its children it has reaped
    (the grader's simulation workers that have ended), from Linux ``/proc``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks, (int(fields[13]) + int(fields[14])) / ticks


def _client_loop(client: TimedClient, token: str, env_id: str, submissions: int, deadline: float,
                 seed: int, action_size: int) -> list[float | None]:
    """Up to ``submissions`` submissions with random actions, none started after ``deadline``."""
    rng = np.random.default_rng(seed)
    totals: list[float | None] = []

    def policy(_observation: Any) -> list[float]:
        return rng.random(action_size).tolist()

    while len(totals) < submissions and time.monotonic() < deadline:
        totals.append(run_submission(client, token, env_id, policy))
    return totals


def _probe_health(url: str, interval: float, stop: threading.Event) -> list[float]:
    """Times ``GET /health`` every ``interval`` seconds until ``stop`` is set."""
    seconds = []
    with requests.Session() as session:
        while not stop.wait(interval):
            started = time.perf_counter()
            session.get(url + "/health", timeout=60).raise_for_status()
            seconds.append(time.perf_counter() - started)
    return seconds


def _latencies_by_route(clients: Sequence[TimedClient]) -> dict[str, list[float]]:
    """Every client's request times, merged per kind of request (``step``, ``reset`` ...)."""
    by_kind: dict[str, list[float]] = {}
    for client in clients:
        for kind, seconds in client.seconds.items():
            by_kind.setdefault(kind, []).extend(seconds)
    return dict(sorted(by_kind.items()))


def _fresh_grader_db(folder: Path, clients: int) -> tuple[Path, list[str]]:
    """A new SQLite database in ``folder`` with one token per client; returns it and the tokens."""
    db = folder / "grader.sqlite3"
    store = Store(db)
    try:
        return db, [store.create_token(f"client-{index}") for index in range(clients)]
    finally:
        store.close()


def grader_load(clients: int = 8, submissions: int = 2, env_id: str = "L2RunEnv", seeds: Sequence[int] = (1, 2),
                max_steps: int = 50, action_size: int = 18, time_limit: float = 600.0,
                probe_interval: float = 0.2, workdir: str | Path | None = None) -> dict[str, Any]:
    """Run ``clients`` concurrent clients against a fresh grader; returns latencies and throughput.

    Args:
        clients: concurrent clients (the grader allows as many instances, one per token).
        submissions: submissions per client, at most.
        env_id, seeds, max_steps: what the grader serves (one simulation per seed).
        action_size: length of the random actions (18 for L2RunEnv).
        time_limit: seconds after which no client starts another submission.
        probe_interval: seconds between ``/health`` probes.
        workdir: folder of the grader's database (default: a new temporary folder).
    """
    if clients < 1 or submissions < 1 or max_steps < 1 or not seeds:
        raise ValueError(f"clients, submissions and max_steps must be >= 1 and seeds non-empty; got "
                         f"clients={clients}, submissions={submissions}, max_steps={max_steps}, seeds={seeds}")
    db, tokens = _fresh_grader_db(Path(workdir or tempfile.mkdtemp(prefix="osim-grader-load-")), clients)
    arguments = ["--env", env_id, "--seeds", ",".join(map(str, seeds)), "--max-steps", str(max_steps),
                 "--max-instances", str(clients), "--max-instances-per-token", "1"]
    with GraderProcess(db, arguments) as grader:
        assert grader.process is not None
        timed = [TimedClient(grader.url) for _ in range(clients)]
        server_cpu_at_start, _ = server_cpu_seconds(grader.process.pid)  # not its start-up
        stop = threading.Event()
        with concurrent.futures.ThreadPoolExecutor(clients + 1) as pool:
            probe = pool.submit(_probe_health, grader.url, probe_interval, stop)
            started = time.monotonic()
            runs = [pool.submit(_client_loop, client, token, env_id, submissions, started + time_limit, index,
                                action_size) for index, (client, token) in enumerate(zip(timed, tokens))]
            try:
                totals = [total for run in runs for total in run.result()]
            finally:
                elapsed = time.monotonic() - started
                stop.set()
            health = probe.result()
        server_cpu, workers_cpu = server_cpu_seconds(grader.process.pid)
        server_cpu -= server_cpu_at_start
    scored = [total for total in totals if total is not None]
    by_kind = _latencies_by_route(timed)
    every_request = [value for seconds in by_kind.values() for value in seconds]
    simulations = len(scored) * len(seeds)
    steps = len(by_kind.get("step", []))
    return {
        "env_id": env_id, "clients": clients, "submissions_per_client": submissions, "seeds": len(seeds),
        "max_steps": max_steps, "time_limit_s": time_limit, "elapsed_s": elapsed,
        "submissions_scored": len(scored), "submissions_refused": len(totals) - len(scored),
        "episodes": simulations, "episodes_per_s": simulations / elapsed,
        "steps_per_s": steps / elapsed, "requests_per_s": len(every_request) / elapsed,
        "server_cpu_ms_per_request": 1000 * server_cpu / (len(every_request) + len(health)),
        "workers_cpu_ms_per_step": 1000 * workers_cpu / steps if steps else None,
        "workers_cpu_s_per_submission": workers_cpu / len(totals) if totals else None,
        "load_average_after": list(os.getloadavg()),
        "latency": {"all": latency_summary(every_request),
                    **{kind: latency_summary(seconds) for kind, seconds in by_kind.items()}},
        "health_latency": latency_summary(health) if health else None,
    }


def summary_lines(result: dict[str, Any], machine_line: str) -> list[str]:
    """benchmarks/results/summary.md section of a :func:`grader_load` result."""
    lines = ["## Grader under load (loopback)", "", f"Command: `{result['command']}`  ", f"Machine: {machine_line}", "",
             (f"{result['clients']} concurrent clients, up to {result['submissions_per_client']} submissions each "
              f"({result['seeds']} simulations of at most {result['max_steps']} steps of {result['env_id']}, "
              f"random actions): {result['submissions_scored']} submissions scored in {result['elapsed_s']:.1f} s, "
              f"{result['episodes_per_s']:.2f} episodes/s, {result['steps_per_s']:.1f} steps/s, "
              f"{result['requests_per_s']:.1f} requests/s; load average {result['load_average_after'][0]:.1f} at "
              f"the end. CPU time: {result['server_cpu_ms_per_request']:.1f} ms per request in the server "
              f"process; {result['workers_cpu_s_per_submission']:.1f} s per submission in its simulation worker "
              f"(building the model, resets and steps: {result['workers_cpu_ms_per_step']:.1f} ms per step). "
              "Clients, server and workers share the machine's cores, so latencies grow with its load; "
              "a step's latency is mostly its simulation."), "",
             "| request | count | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) |", "|---|---|---|---|---|---|"]
    rows = dict(result["latency"])
    if result.get("health_latency"):
        rows["GET /health (probe)"] = result["health_latency"]
    for kind, row in rows.items():
        lines.append(f"| {kind} | {row['count']} | {row['p50_ms']:.1f} | {row['p95_ms']:.1f} | "
                     f"{row['p99_ms']:.1f} | {row['max_ms']:.1f} |")
    lines.append("")
    return lines

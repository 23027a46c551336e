"""Load and faults: 8 concurrent clients on loopback, and a grader killed under load and restarted."""
from __future__ import annotations

import concurrent.futures
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pytest
import requests

from osim.http.client import Client, GraderUnavailable, run_submission
from osim.http.loadtest import grader_load
from osim.http.store import Store
from osim.http.testing import GraderProcess, replay_locally

N_ACTIONS = 18  # L2RunEnv


class SeededPolicy:
    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def __call__(self, observation: Any) -> list[float]:
        return self.rng.random(N_ACTIONS).tolist()


def test_eight_concurrent_clients_get_correct_scores(tmp_path: Path) -> None:
    seeds, max_steps, clients = (4, 9), 12, 8
    arguments = ["--env", "L2RunEnv", "--seeds", ",".join(map(str, seeds)), "--max-steps", str(max_steps),
                 "--max-instances", str(clients), "--max-instances-per-token", "2"]
    with GraderProcess(tmp_path / "g.sqlite3", arguments) as grader:
        tokens = [grader.create_token(f"team-{i}") for i in range(clients // 2)]
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(clients) as pool:
            futures = [
                pool.submit(run_submission, Client(grader.url, timeout=120), tokens[i // 2], "L2RunEnv",
                            SeededPolicy(100 + i))
                for i in range(clients)
            ]
            # The server answers other requests while the workers simulate (how fast is measured by
            # the grader benchmark, `python benchmarks/run_suite.py grader`, not asserted here).
            answered = 0
            while not all(future.done() for future in futures) and time.monotonic() - started < 240:
                assert requests.get(grader.url + "/health", timeout=60).json()["status"] == "ok"
                answered += 1
                time.sleep(0.2)
            totals = [future.result(timeout=240) for future in futures]
        assert answered > 0
        for i, total in enumerate(totals):
            expected = replay_locally("L2RunEnv", seeds, max_steps, SeededPolicy(100 + i))
            assert total == pytest.approx(sum(expected), rel=1e-12, abs=1e-15), f"client {i}"
        listed = requests.get(grader.url + "/v1/submissions", params={"env_id": "L2RunEnv"}, timeout=30).json()
        assert sorted(item["total_reward"] for item in listed) == pytest.approx(sorted(totals), rel=1e-12)
        assert all(item["status"] == "finished" for item in listed) and len(listed) == clients
        board = requests.get(grader.url + "/leaderboard.json", params={"env_id": "L2RunEnv"}, timeout=30).json()
        assert len(board["entries"]) == clients // 2  # the best of each team's two submissions
        for entry in board["entries"]:
            team = int(entry["participant"].split("-")[1])
            assert entry["total_reward"] == pytest.approx(max(totals[2 * team], totals[2 * team + 1]), rel=1e-12)


def test_load_benchmark_times_every_request() -> None:
    """The grader benchmark's machinery (benchmarks/run_suite.py grader), on a tiny load: every
    request of the protocol is timed once per time it is made, and the episodes are counted."""
    clients, seeds, max_steps = 2, (1,), 3
    result = grader_load(clients, 1, seeds=seeds, max_steps=max_steps, probe_interval=0.1)
    counts = {kind: row["count"] for kind, row in result["latency"].items()}
    assert counts == {"all": clients * (5 + len(seeds) + len(seeds) * max_steps), "create": clients,
                      "monitor/start": clients, "reset": clients * (len(seeds) + 1),
                      "step": clients * len(seeds) * max_steps, "monitor/close": clients, "close": clients}
    assert result["submissions_scored"] == clients and result["episodes"] == clients * len(seeds)
    assert result["episodes_per_s"] == pytest.approx(result["episodes"] / result["elapsed_s"])
    for row in [*result["latency"].values(), result["health_latency"]]:
        assert 0 < row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"] <= row["max_ms"]
    assert result["health_latency"]["count"] > 0


class CutOffClient:
    """A participant whose submission the crash cuts: it finishes the first simulation, steps once
    into the second, then waits for ``go`` before its next step, and keeps what it was told."""

    def __init__(self, url: str, token: str, seed: int, go: threading.Event) -> None:
        self.client = Client(url, timeout=120)
        self.token, self.policy, self.go = token, SeededPolicy(seed), go
        self.paused, self.sent = threading.Event(), threading.Event()
        self.first_simulation_reward = 0.0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            observation = self.client.env_create(self.token, "L2RunEnv", exit_on_error=False)
            done = False
            while not done:
                observation, reward, done, _ = self.client.env_step(self.policy(observation))
                self.first_simulation_reward += reward
            observation = self.client.env_reset()
            observation, *_ = self.client.env_step(self.policy(observation))
            self.paused.set()
            self.go.wait(120)
            self.sent.set()
            self.client.env_step(self.policy(observation))
        except BaseException as error:  # noqa: BLE001 - the test inspects it
            self.error = error
        finally:
            self.paused.set()


def submissions_by_participant(url: str) -> dict[str, list[dict[str, Any]]]:
    listed = requests.get(url + "/v1/submissions", params={"env_id": "L2RunEnv"}, timeout=60).json()
    grouped: dict[str, list[dict[str, Any]]] = {}
    for item in listed:
        grouped.setdefault(item["participant"], []).append(item)
    return grouped


def test_grader_killed_under_load_keeps_what_finished(tmp_path: Path) -> None:
    """kill -9 of the server with 8 clients: 4 submissions scored, 4 cut off (2 of them in a request
    the server is answering, 2 between requests); restart on the same SQLite file."""
    seeds, max_steps = (5, 6), 4
    db = tmp_path / "g.sqlite3"
    arguments = ["--env", "L2RunEnv", "--seeds", ",".join(map(str, seeds)), "--max-steps", str(max_steps),
                 "--max-instances", "8", "--max-instances-per-token", "2"]
    store = Store(db)
    tokens = [store.create_token(f"team-{i}") for i in range(4)]
    store.close()
    grader = GraderProcess(db, arguments).start()
    in_request, between_requests = threading.Event(), threading.Event()
    cut = [CutOffClient(grader.url, tokens[2 + i // 2], 200 + i, in_request if i < 2 else between_requests)
           for i in range(4)]
    threads = [threading.Thread(target=client.run, daemon=True) for client in cut]
    try:
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            finishing = [pool.submit(run_submission, Client(grader.url, timeout=120), tokens[i // 2], "L2RunEnv",
                                     SeededPolicy(100 + i)) for i in range(4)]
            for thread in threads:
                thread.start()
            told = [future.result(timeout=120) for future in finishing]
        for client in cut:
            assert client.paused.wait(120) and client.error is None, client.error
        # From the server's own view: 4 scored, 4 running with their first simulation recorded.
        before = [item for items in submissions_by_participant(grader.url).values() for item in items]
        assert sorted(item["status"] for item in before) == ["finished"] * 4 + ["running"] * 4
        assert all(len(item["simulations"]) == 1 for item in before if item["status"] == "running")
        # Hold the running simulations (SIGSTOP their worker processes), so that the next steps of
        # two clients are requests the server is still answering when it dies.
        workers = [child for child in psutil.Process(grader.process.pid).children(recursive=True)
                   if "spawn_main" in " ".join(child.cmdline())]
        assert len(workers) == 4
        for worker in workers:
            worker.suspend()
        in_request.set()
        assert all(client.sent.wait(30) for client in cut[:2])
        time.sleep(0.5)  # the two steps reach the server, which waits for the stopped workers
        assert all(thread.is_alive() for thread in threads[:2])
    finally:
        grader.kill()
        between_requests.set()
    for thread in threads:
        thread.join(60)
    for worker in workers:
        worker.resume()
    # The orphaned workers notice that their server is gone and exit.
    _, alive = psutil.wait_procs(workers, timeout=20)
    assert not alive, f"worker processes outlived the killed server: {alive}"

    # Every cut-off client got a clear error, not a bare connection traceback.
    for index, client in enumerate(cut):
        assert isinstance(client.error, GraderUnavailable), f"client {index}: {client.error!r}"
        assert "was not completed" in client.error.message and grader.url in client.error.message
    assert all("went away during the request" in client.error.message for client in cut[:2])
    assert all("cannot be reached" in client.error.message for client in cut[2:])

    # The file as the crash left it: intact, and no submission finished without all its simulations.
    with sqlite3.connect(db) as reader:
        assert reader.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        finished = reader.execute(
            "SELECT s.total_reward, s.simulation_count, COUNT(x.idx), SUM(x.reward) FROM submissions s "
            "LEFT JOIN simulations x ON x.submission_id = s.id WHERE s.status = 'finished' GROUP BY s.id"
        ).fetchall()
    assert len(finished) == 4
    for total, count, simulations, summed in finished:
        assert simulations == count == len(seeds) and total == pytest.approx(summed, rel=1e-12)

    with GraderProcess(db, arguments) as restarted:
        grouped = submissions_by_participant(restarted.url)
        for team in (0, 1):  # the scored submissions, with the totals their clients were told
            items = grouped[f"team-{team}"]
            assert [item["status"] for item in items] == ["finished", "finished"]
            assert sorted(item["total_reward"] for item in items) == pytest.approx(
                sorted(told[2 * team:2 * team + 2]), rel=1e-12)
        for team in (2, 3):  # the cut-off ones: unfinished, their first simulation as they saw it
            items = grouped[f"team-{team}"]
            assert [item["status"] for item in items] == ["unfinished", "unfinished"]
            assert all(item["total_reward"] is None and "stopped" in item["reason"] for item in items)
            mine = cut[2 * (team - 2):2 * (team - 2) + 2]
            assert sorted(item["simulations"][0]["reward"] for item in items) == pytest.approx(
                sorted(client.first_simulation_reward for client in mine), rel=1e-12)
            assert all(len(item["simulations"]) == 1 for item in items)
        board = requests.get(restarted.url + "/leaderboard.json", params={"env_id": "L2RunEnv"}, timeout=30).json()
        assert sorted(entry["participant"] for entry in board["entries"]) == ["team-0", "team-1"]
        # The dead server's instance ids are unknown to the new one: a clear 404, not a crash.
        response = requests.post(f"{restarted.url}/v1/envs/{cut[0].client.instance_id}/step/",
                                 data=json.dumps({"action": [0.1] * N_ACTIONS}), timeout=30)
        assert response.status_code == 404 and "unknown instance" in response.json()["message"]
        # New submissions are accepted and scored (that scores are right is the load test's part).
        total = run_submission(Client(restarted.url), tokens[2], "L2RunEnv", SeededPolicy(300))
        (new,) = [item for item in submissions_by_participant(restarted.url)["team-2"]
                  if item["status"] == "finished"]
        assert total is not None and new["total_reward"] == pytest.approx(total, rel=1e-12)
        assert len(new["simulations"]) == len(seeds)

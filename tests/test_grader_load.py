"""Load and faults: 8 concurrent clients on loopback, and a grader killed mid-run and restarted."""
from __future__ import annotations

import concurrent.futures
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pytest
import requests

from osim.http.client import Client, run_submission
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
            # The server answers other requests while the workers simulate.
            latencies = []
            while not all(future.done() for future in futures) and time.monotonic() - started < 240:
                before = time.monotonic()
                assert requests.get(grader.url + "/health", timeout=10).ok
                latencies.append(time.monotonic() - before)
                time.sleep(0.2)
            totals = [future.result(timeout=240) for future in futures]
        elapsed = time.monotonic() - started
        print(f"{clients} clients x {len(seeds)} simulations x {max_steps} steps: {elapsed:.1f} s; "
              f"max /health latency {max(latencies, default=0) * 1000:.0f} ms")
        assert latencies and max(latencies) < 2.0
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


def test_killed_grader_keeps_finished_submissions(tmp_path: Path) -> None:
    seeds, max_steps = (5, 6, 7), 5
    db = tmp_path / "g.sqlite3"
    arguments = ["--env", "L2RunEnv", "--seeds", ",".join(map(str, seeds)), "--max-steps", str(max_steps)]
    grader = GraderProcess(db, arguments).start()
    try:
        token = grader.create_token("alice")
        finished_total = run_submission(Client(grader.url), token, "L2RunEnv", SeededPolicy(1))
        # A second submission: one simulation done, the second one in progress when the server dies.
        client = Client(grader.url)
        policy = SeededPolicy(2)
        observation = client.env_create(token, "L2RunEnv")
        for _ in range(max_steps):
            observation, _, done, _ = client.env_step(policy(observation))
        assert done
        observation = client.env_reset()
        client.env_step(policy(observation))
        workers = [child for child in psutil.Process(grader.process.pid).children(recursive=True)
                   if "spawn_main" in " ".join(child.cmdline())]
        assert len(workers) == 1
    finally:
        grader.kill()
    # The orphaned worker notices that its server is gone and exits.
    _, alive = psutil.wait_procs(workers, timeout=20)
    assert not alive, f"worker processes outlived the killed server: {alive}"

    with GraderProcess(db, arguments) as restarted:
        listed = requests.get(restarted.url + "/v1/submissions", params={"env_id": "L2RunEnv"}, timeout=30).json()
        by_status = {item["status"]: item for item in listed}
        assert len(listed) == 2 and set(by_status) == {"finished", "unfinished"}
        assert by_status["finished"]["total_reward"] == pytest.approx(finished_total, rel=1e-12)
        assert len(by_status["finished"]["simulations"]) == len(seeds)
        cut = by_status["unfinished"]
        assert cut["total_reward"] is None and "stopped" in cut["reason"]
        (first_simulation,) = cut["simulations"]
        expected = replay_locally("L2RunEnv", seeds[:1], max_steps, SeededPolicy(2))
        assert first_simulation["reward"] == pytest.approx(expected[0], rel=1e-12, abs=1e-15)
        board = requests.get(restarted.url + "/leaderboard.json", params={"env_id": "L2RunEnv"}, timeout=30).json()
        assert [entry["total_reward"] for entry in board["entries"]] == pytest.approx([finished_total])
        # The dead server's instance id is unknown to the new one: a clear 404, not a crash.
        response = requests.post(f"{restarted.url}/v1/envs/{client.instance_id}/step/",
                                 data=json.dumps({"action": [0.1] * N_ACTIONS}), timeout=30)
        assert response.status_code == 404 and "unknown instance" in response.json()["message"]
        # Submissions still work after the restart.
        assert run_submission(Client(restarted.url), token, "L2RunEnv", SeededPolicy(3)) is not None

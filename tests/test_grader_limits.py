"""Limits of a grader: instances per token and in total, idle reclaiming, the per-step timeout."""
from __future__ import annotations

import concurrent.futures
import json
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests

from osim.http.testing import GraderProcess


def post(grader: GraderProcess, route: str, body: Any = None) -> requests.Response:
    return requests.post(grader.url + route, data=json.dumps(body), headers={"Content-type": "application/json"},
                         timeout=60)


def create(grader: GraderProcess, token: str) -> requests.Response:
    return post(grader, "/v1/envs/", {"env_id": "L2RunEnv", "token": token})


def workers_of(grader: GraderProcess) -> list[psutil.Process]:
    assert grader.process is not None
    workers = []
    for child in psutil.Process(grader.process.pid).children(recursive=True):
        try:  # spawned workers run multiprocessing's spawn_main (not its resource tracker)
            if child.status() != psutil.STATUS_ZOMBIE and "spawn_main" in " ".join(child.cmdline()):
                workers.append(child)
        except psutil.NoSuchProcess:
            continue
    return workers


def wait_for(condition: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def submissions(grader: GraderProcess) -> list[dict[str, Any]]:
    return requests.get(grader.url + "/v1/submissions", params={"env_id": "L2RunEnv"}, timeout=30).json()


def test_instance_limits_per_token_and_in_total(tmp_path: Path) -> None:
    arguments = ["--env", "L2RunEnv", "--seeds", "1", "--max-instances", "3", "--max-instances-per-token", "2"]
    with GraderProcess(tmp_path / "g.sqlite3", arguments) as grader:
        alice, bob = grader.create_token("alice"), grader.create_token("bob")
        first, second = create(grader, alice), create(grader, alice)
        assert first.status_code == second.status_code == 200
        third = create(grader, alice)
        assert third.status_code == 429 and "at most 2" in third.json()["message"]
        assert create(grader, bob).status_code == 200
        busy = create(grader, bob)
        assert busy.status_code == 429 and "busy" in busy.json()["message"]
        assert len(workers_of(grader)) == 3  # one process per instance
        # Closing frees a slot, and the worker process goes away.
        assert post(grader, f"/v1/envs/{first.json()['instance_id']}/close/").status_code == 204
        assert wait_for(lambda: len(workers_of(grader)) == 2, 20)
        assert create(grader, alice).status_code == 200


def test_concurrent_creations_respect_the_limits(tmp_path: Path) -> None:
    arguments = ["--env", "L2RunEnv", "--seeds", "1", "--max-instances", "3", "--max-instances-per-token", "2"]
    with GraderProcess(tmp_path / "g.sqlite3", arguments) as grader:
        token = grader.create_token("carol")
        with concurrent.futures.ThreadPoolExecutor(5) as pool:
            statuses = sorted(response.status_code for response in pool.map(lambda _: create(grader, token), range(5)))
        assert statuses == [200, 200, 429, 429, 429]
        assert len(workers_of(grader)) == 2


def test_idle_instances_are_reclaimed(tmp_path: Path) -> None:
    arguments = ["--env", "L2RunEnv", "--seeds", "1,2", "--idle-timeout", "1.5", "--max-instances-per-token", "1"]
    with GraderProcess(tmp_path / "g.sqlite3", arguments) as grader:
        token = grader.create_token("alice")
        instance = create(grader, token).json()["instance_id"]
        assert post(grader, f"/v1/envs/{instance}/reset/").status_code == 200
        assert create(grader, token).status_code == 429
        assert wait_for(lambda: requests.get(grader.url + "/health", timeout=10).json()["instances"] == 0, 20)
        response = post(grader, f"/v1/envs/{instance}/step/", {"action": [0.1] * 18})
        assert response.status_code == 410 and "without requests" in response.json()["message"]
        (record,) = submissions(grader)
        assert record["status"] == "unfinished" and "reclaimed" in record["reason"]
        assert wait_for(lambda: not workers_of(grader), 20)
        assert create(grader, token).status_code == 200  # the slot is free again


def test_a_step_over_the_timeout_ends_the_instance(tmp_path: Path) -> None:
    """A step takes ~20 ms of OpenSim; with a 1 ms limit the worker is killed and the submission ends."""
    arguments = ["--env", "L2RunEnv", "--seeds", "1", "--step-timeout", "0.001"]
    with GraderProcess(tmp_path / "g.sqlite3", arguments) as grader:
        token = grader.create_token("alice")
        instance = create(grader, token).json()["instance_id"]
        assert post(grader, f"/v1/envs/{instance}/reset/").status_code == 200
        response = post(grader, f"/v1/envs/{instance}/step/", {"action": [0.1] * 18})
        assert response.status_code == 504 and "longer than 0.001 s" in response.json()["message"]
        assert post(grader, f"/v1/envs/{instance}/step/", {"action": [0.1] * 18}).status_code == 410
        (record,) = submissions(grader)
        assert record["status"] == "unfinished" and "longer than" in record["reason"]
        assert wait_for(lambda: not workers_of(grader), 20)
        assert requests.get(grader.url + "/health", timeout=10).json()["instances"] == 0


def test_bad_server_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="max_steps must be at least 1"):
        GraderProcess(tmp_path / "g.sqlite3", ["--max-steps", "0"]).start()
    with pytest.raises(RuntimeError, match="comma-separated integers"):
        GraderProcess(tmp_path / "g.sqlite3", ["--seeds", "1,x"]).start()

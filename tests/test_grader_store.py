"""The store on SQLite and on PostgreSQL (same code, a URL instead of a file), and the grader on a
real PostgreSQL server.

The test starts Debian's PostgreSQL on a loopback port in a fresh data directory (as the
``postgres`` user when running as root, since PostgreSQL refuses to run as root).
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import requests

from osim.http.client import Client, run_submission
from osim.http.store import Store
from osim.http.testing import GraderProcess, free_port, replay_locally


def postgres_bindir() -> Path:
    pg_config = shutil.which("pg_config")
    if pg_config:
        result = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=True)
        bindir = Path(result.stdout.strip())
        if (bindir / "initdb").exists():
            return bindir
    initdb = shutil.which("initdb")
    if initdb is None:
        pytest.fail("PostgreSQL not found: install Debian's 'postgresql' (and 'libpq-dev' for pg_config)")
    return Path(initdb).resolve().parent


def as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    bindir = postgres_bindir()
    data = Path(tempfile.mkdtemp(prefix="osim-pg-"))
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    port = free_port()
    subprocess.run(as_postgres([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]),
                   capture_output=True, check=True, timeout=120)
    subprocess.run(as_postgres([
        str(bindir / "pg_ctl"), "-D", str(data), "-l", str(data / "server.log"), "-w", "-t", "60", "start",
        "-o", f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off",
    ]), capture_output=True, check=True, timeout=120)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True, timeout=60, check=False)
        shutil.rmtree(data, ignore_errors=True)


class SeededPolicy:
    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def __call__(self, observation: object) -> list[float]:
        return self.rng.random(18).tolist()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_store(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    location = request.getfixturevalue("postgres_url") if backend == "postgresql" else tmp_path / "g.sqlite3"
    store = Store(location)
    try:
        token = store.create_token("pat")
        with pytest.raises(ValueError, match="exists already"):
            store.create_token("pat")
        record = store.authenticate(token)
        assert record is not None and record.name == "pat"
        assert store.authenticate("wrong") is None
        first = store.start_submission("i-1", record.id, "L2RunEnv", [1, 2], 10, "test")
        second = store.start_submission("i-2", record.id, "L2RunEnv", [1, 2], 10, "test")
        store.record_simulation(first, 0, 1, 0.25, 10, 0.5, "max_steps")
        store.record_simulation(first, 1, 2, 0.125, 10, 0.5, "done")
        store.finish_submission(first, 0.375)
        store.record_simulation(second, 0, 1, 1.5, 10, 0.5, "done")
        assert store.abandon_running("restart") == 1
        board = store.leaderboard("L2RunEnv")
        assert [(entry["participant"], entry["total_reward"], entry["mean_reward"], entry["submissions"])
                for entry in board] == [("pat", 0.375, 0.1875, 2)]
        statuses = {item["id"]: (item["status"], len(item["simulations"])) for item in store.submissions()}
        assert statuses == {first: ("finished", 2), second: ("unfinished", 1)}
        assert store.revoke_token("pat") and store.authenticate(token) is None
        store.set_setting("seeds", [4, 5])
        store.set_setting("seeds", [6])
        assert store.setting("seeds") == [6] and store.setting("missing", 3) == 3
        secret = store.create_token("sam")  # only the hash is stored
        tokens = store.list_tokens()
        assert {row["name"] for row in tokens} == {"pat", "sam"}
        assert all(secret not in str(row) for row in tokens)
        sam = store.authenticate(secret)
        for instance, total in (("i-3", 1.0), ("i-4", 0.5), ("i-5", 3.0)):
            submission = store.start_submission(instance, sam.id, "L2RunEnv", [1, 2], 10, None)
            store.finish_submission(submission, total)
        store.start_submission("i-6", sam.id, "Other", [1], 10, None)
        store.abandon_submission(store.submissions(limit=1)[0]["id"], "closed")
        board = store.leaderboard("L2RunEnv")  # best of each participant, by mean reward
        assert [(entry["rank"], entry["participant"], entry["mean_reward"], entry["submissions"])
                for entry in board] == [(1, "sam", 1.5, 3), (2, "pat", 0.1875, 2)]
        assert store.leaderboard("Other") == [] and store.env_ids() == ["L2RunEnv", "Other"]
        if backend == "sqlite":
            with sqlite3.connect(location) as reader:  # a second connection sees committed writes
                assert reader.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
                assert reader.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 6
    finally:
        store.close()


def test_grader_on_postgres_survives_a_kill(postgres_url: str) -> None:
    seeds, max_steps = (2, 3), 4
    arguments = ["--env", "L2RunEnv", "--seeds", "2,3", "--max-steps", str(max_steps)]
    grader = GraderProcess(postgres_url, arguments).start()
    try:
        token = grader.create_token("quinn")
        total = run_submission(Client(grader.url), token, "L2RunEnv", SeededPolicy(4))
        expected = replay_locally("L2RunEnv", seeds, max_steps, SeededPolicy(4))
        assert total == pytest.approx(sum(expected), rel=1e-12, abs=1e-15)
        cut = Client(grader.url)
        cut.env_create(token, "L2RunEnv")
        cut.env_step([0.5] * 18)
    finally:
        grader.kill()
    time.sleep(0.5)
    with GraderProcess(postgres_url, arguments) as restarted:
        listed = requests.get(restarted.url + "/v1/submissions", params={"env_id": "L2RunEnv"}, timeout=30).json()
        mine = [item for item in listed if item["participant"] == "quinn"]
        assert sorted(item["status"] for item in mine) == ["finished", "unfinished"]
        finished = next(item for item in mine if item["status"] == "finished")
        assert [sim["reward"] for sim in finished["simulations"]] == pytest.approx(expected, rel=1e-12, abs=1e-15)
        board = requests.get(restarted.url + "/leaderboard.json", params={"env_id": "L2RunEnv"}, timeout=30).json()
        (entry,) = [entry for entry in board["entries"] if entry["participant"] == "quinn"]
        assert entry["total_reward"] == pytest.approx(total, rel=1e-12)


def test_tokens_are_safe_command_line_arguments(tmp_path: Path) -> None:
    """A token is passed as ``--token TOKEN``: one starting with "-" would be read as an option."""
    store = Store(tmp_path / "g.sqlite3")
    try:
        tokens = [store.create_token(f"participant {index}") for index in range(200)]
    finally:
        store.close()
    assert len(set(tokens)) == len(tokens)
    assert all(len(token) >= 32 and token.isalnum() and not token.startswith("-") for token in tokens)

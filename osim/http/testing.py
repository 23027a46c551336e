"""Run a real grader in a child process on a loopback port: for tests and for trying a setup.

    with GraderProcess(db_path, ["--env", "L2RunEnv", "--seeds", "1,2"]) as grader:
        token = grader.create_token("alice")
        Client(grader.url).env_create(token, "L2RunEnv")
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Self

import requests


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class GraderProcess:
    """``osim serve`` in a child process (``python -m osim.cli serve``).

    Args:
        db: the SQLite database file.
        arguments: further ``serve`` arguments (``--env``, ``--seeds`` ...).
        startup_timeout: seconds to wait for ``/health``.
    """

    def __init__(self, db: str | Path, arguments: Sequence[str] = (), startup_timeout: float = 60.0) -> None:
        self.db = str(db)
        self.arguments = list(arguments)
        self.startup_timeout = startup_timeout
        self.port = 0
        self.process: subprocess.Popen | None = None
        self.log_path = Path(tempfile.mkstemp(prefix="osim-grader-", suffix=".log")[1])

    @property
    def url(self) -> str:
        """The grader's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        """Start ``osim serve`` on a free port and wait until it answers; returns self."""
        self.port = free_port()
        command = [sys.executable, "-m", "osim.cli", "serve", "--db", self.db, "--host", "127.0.0.1",
                   "--port", str(self.port), "--log-level", "warning", *self.arguments]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the grader exited with code {self.process.returncode}:\n{self.log()}")
            try:
                if requests.get(self.url + "/health", timeout=2).ok:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the grader did not answer within {self.startup_timeout} s:\n{self.log()}")

    def log(self) -> str:
        """What the grader process has written so far."""
        return self.log_path.read_text(errors="replace")

    def create_token(self, name: str) -> str:
        """Create a token with ``osim tokens create`` (a second process, as an organiser would)."""
        result = subprocess.run(
            [sys.executable, "-m", "osim.cli", "tokens", "--db", self.db, "create", name],
            capture_output=True, text=True, timeout=60, check=True,
        )
        return result.stdout.strip()

    def kill(self) -> None:
        """SIGKILL, as a crash or an out-of-memory kill would."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(30)

    def stop(self) -> None:
        """Ask the server to stop (SIGTERM), kill it after 20 s."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def replay_locally(env_id: str, seeds: Sequence[int], max_steps: int, policy: Callable[[Any], Any],
                   env_kwargs: dict[str, Any] | None = None, project: bool = True) -> list[float]:
    """What a grader should score: run ``policy`` on a local environment with the grader's rules
    (one simulation per seed, at most ``max_steps`` steps each). Returns the simulation rewards."""
    from osim.http.worker import reset_with_seed, resolve_env

    cls, kwargs = resolve_env(env_id)
    env = cls(**{**kwargs, **(env_kwargs or {}), "visualize": False})
    rewards = []
    try:
        for seed in seeds:
            observation = reset_with_seed(env, seed, project)
            total = 0.0
            for _ in range(max_steps):
                observation, reward, done, _ = env.step(policy(observation), project=project)
                total += reward
                if done:
                    break
            rewards.append(total)
    finally:
        env.close()
    return rewards

"""Persistence of the grader: tokens, submissions, per-simulation results and the leaderboard.

SQLite in WAL mode: a committed write survives the server being killed, and readers (the
leaderboard) never wait for the writer. Writes happen only at the ends of simulations and
submissions, never per step. Tokens are stored as SHA-256 hashes: they are long random strings,
so a fast hash is enough, and the database alone does not let anyone submit.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import secrets
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

#: Status of a submission: still being run, scored, or ended before its last simulation.
RUNNING, FINISHED, UNFINISHED = "running", "finished", "unfinished"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL,
    revoked_at REAL
);
CREATE TABLE IF NOT EXISTS submissions (
    id INTEGER PRIMARY KEY,
    instance_id TEXT NOT NULL UNIQUE,
    token_id INTEGER NOT NULL REFERENCES tokens(id),
    env_id TEXT NOT NULL,
    seeds TEXT NOT NULL,
    max_steps INTEGER NOT NULL,
    client_version TEXT,
    status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'unfinished')),
    reason TEXT,
    total_reward REAL,
    created_at REAL NOT NULL,
    ended_at REAL
);
CREATE INDEX IF NOT EXISTS submissions_by_env ON submissions(env_id, status);
CREATE TABLE IF NOT EXISTS simulations (
    submission_id INTEGER NOT NULL REFERENCES submissions(id),
    idx INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    reward REAL NOT NULL,
    steps INTEGER NOT NULL,
    seconds REAL NOT NULL,
    ended_by TEXT NOT NULL,
    PRIMARY KEY (submission_id, idx)
);
CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


def hash_token(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclasses.dataclass(frozen=True)
class TokenRecord:
    """A participant's token (the secret itself is never stored)."""

    id: int
    name: str
    created_at: float
    revoked_at: float | None


class Store:
    """The grader's database (one SQLite file; thread-safe through one lock).

    Args:
        path: the SQLite file (created with its folder if missing), or ``":memory:"``.
    """

    def __init__(self, path: str | Path) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = str(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # in WAL mode: durable across process kills
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA busy_timeout=5000")
        with self._lock:
            self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _execute(self, sql: str, parameters: tuple = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._db.execute(sql, parameters)

    def _query(self, sql: str, parameters: tuple = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, parameters).fetchall()

    # -- settings ---------------------------------------------------------------------------------

    def setting(self, key: str, default: Any = None) -> Any:
        rows = self._query("SELECT value FROM settings WHERE key = ?", (key,))
        return json.loads(rows[0]["value"]) if rows else default

    def set_setting(self, key: str, value: Any) -> None:
        self._execute(
            "INSERT INTO settings(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value)),
        )

    # -- tokens -----------------------------------------------------------------------------------

    def create_token(self, name: str) -> str:
        """Create a token for participant ``name``; returns the secret (shown only this once)."""
        name = name.strip()
        if not name:
            raise ValueError("a token needs a non-empty participant name")
        token = secrets.token_urlsafe(24)
        try:
            self._execute(
                "INSERT INTO tokens(name, token_hash, created_at) VALUES (?, ?, ?)",
                (name, hash_token(token), time.time()),
            )
        except sqlite3.IntegrityError:
            raise ValueError(f"a token named {name!r} exists already") from None
        return token

    def authenticate(self, token: str) -> TokenRecord | None:
        """The token's record if it exists and is not revoked."""
        rows = self._query(
            "SELECT id, name, created_at, revoked_at FROM tokens "
            "WHERE token_hash = ? AND revoked_at IS NULL",
            (hash_token(token),),
        )
        return TokenRecord(**dict(rows[0])) if rows else None

    def list_tokens(self) -> list[dict[str, Any]]:
        rows = self._query(
            "SELECT t.id, t.name, t.created_at, t.revoked_at, COUNT(s.id) AS submissions "
            "FROM tokens t LEFT JOIN submissions s ON s.token_id = t.id GROUP BY t.id ORDER BY t.id"
        )
        return [dict(row) for row in rows]

    def revoke_token(self, name_or_id: str) -> bool:
        """Revoke by participant name or numeric id; False if no active token matched."""
        cursor = self._execute(
            "UPDATE tokens SET revoked_at = ? WHERE revoked_at IS NULL AND (name = ? OR CAST(id AS TEXT) = ?)",
            (time.time(), name_or_id, name_or_id),
        )
        return cursor.rowcount > 0

    # -- submissions ------------------------------------------------------------------------------

    def start_submission(
        self, instance_id: str, token_id: int, env_id: str, seeds: list[int], max_steps: int,
        client_version: str | None,
    ) -> int:
        cursor = self._execute(
            "INSERT INTO submissions(instance_id, token_id, env_id, seeds, max_steps, client_version, "
            "status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (instance_id, token_id, env_id, json.dumps(seeds), max_steps, client_version, RUNNING,
             time.time()),
        )
        return int(cursor.lastrowid)

    def record_simulation(
        self, submission_id: int, index: int, seed: int, reward: float, steps: int, seconds: float,
        ended_by: str,
    ) -> None:
        self._execute(
            "INSERT INTO simulations(submission_id, idx, seed, reward, steps, seconds, ended_by) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (submission_id, index, seed, reward, steps, seconds, ended_by),
        )

    def finish_submission(self, submission_id: int, total_reward: float) -> None:
        self._execute(
            "UPDATE submissions SET status = ?, total_reward = ?, ended_at = ? WHERE id = ? AND status = ?",
            (FINISHED, total_reward, time.time(), submission_id, RUNNING),
        )

    def abandon_submission(self, submission_id: int, reason: str) -> None:
        """Mark a running submission unfinished (its finished simulations stay recorded)."""
        self._execute(
            "UPDATE submissions SET status = ?, reason = ?, ended_at = ? WHERE id = ? AND status = ?",
            (UNFINISHED, reason, time.time(), submission_id, RUNNING),
        )

    def abandon_running(self, reason: str) -> int:
        """At start-up: every submission still 'running' was cut off by the previous server's end."""
        cursor = self._execute(
            "UPDATE submissions SET status = ?, reason = ?, ended_at = ? WHERE status = ?",
            (UNFINISHED, reason, time.time(), RUNNING),
        )
        return cursor.rowcount

    def submission(self, submission_id: int) -> dict[str, Any] | None:
        found = self.submissions(submission_id=submission_id)
        return found[0] if found else None

    def submissions(
        self, env_id: str | None = None, submission_id: int | None = None, limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Submissions, newest first, each with its simulations."""
        where, parameters = [], []
        if env_id is not None:
            where.append("s.env_id = ?")
            parameters.append(env_id)
        if submission_id is not None:
            where.append("s.id = ?")
            parameters.append(submission_id)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self._query(
            "SELECT s.id, t.name AS participant, s.env_id, s.seeds, s.max_steps, s.client_version, "
            "s.status, s.reason, s.total_reward, s.created_at, s.ended_at "
            f"FROM submissions s JOIN tokens t ON t.id = s.token_id {clause} "
            "ORDER BY s.id DESC LIMIT ?",
            (*parameters, limit),
        )
        result = []
        for row in rows:
            item = dict(row)
            item["seeds"] = json.loads(item["seeds"])
            item["simulations"] = [
                dict(sim) for sim in self._query(
                    "SELECT idx, seed, reward, steps, seconds, ended_by FROM simulations "
                    "WHERE submission_id = ? ORDER BY idx", (item["id"],),
                )
            ]
            n = len(item["seeds"])
            item["mean_reward"] = item["total_reward"] / n if item["total_reward"] is not None and n else None
            result.append(item)
        return result

    def env_ids(self) -> list[str]:
        return [row["env_id"] for row in self._query("SELECT DISTINCT env_id FROM submissions ORDER BY env_id")]

    def leaderboard(self, env_id: str) -> list[dict[str, Any]]:
        """Best finished submission of each participant for ``env_id``, by mean reward per simulation."""
        rows = self._query(
            """
            WITH scored AS (
                SELECT s.id, s.token_id, s.total_reward, s.ended_at, s.seeds,
                       s.total_reward / json_array_length(s.seeds) AS mean_reward,
                       ROW_NUMBER() OVER (PARTITION BY s.token_id
                           ORDER BY s.total_reward / json_array_length(s.seeds) DESC, s.id) AS place
                FROM submissions s WHERE s.env_id = ? AND s.status = 'finished'
            )
            SELECT t.name AS participant, sc.id AS submission_id, sc.mean_reward, sc.total_reward,
                   json_array_length(sc.seeds) AS simulations, sc.ended_at,
                   (SELECT COUNT(*) FROM submissions x WHERE x.token_id = sc.token_id AND x.env_id = ?)
                       AS submissions
            FROM scored sc JOIN tokens t ON t.id = sc.token_id
            WHERE sc.place = 1
            ORDER BY sc.mean_reward DESC, sc.ended_at
            """,
            (env_id, env_id),
        )
        return [{"rank": i + 1, **dict(row)} for i, row in enumerate(rows)]

"""The grader speaks the original protocol: a real server process, real OpenSim environments.

Scores are checked against a local replay of the same seeds and actions (osim.http.testing).
"""
from __future__ import annotations

import json
import math
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests

from osim.http.client import Client, ServerError, run_submission
from osim.http.testing import GraderProcess, replay_locally

REPO_ROOT = Path(__file__).resolve().parent.parent
SEEDS = (3, 7)
MAX_STEPS = 6
L2RUN_ACTIONS = 18
L2M_ACTIONS = 22


class SeededPolicy:
    """Random excitations from a fixed seed: the same sequence on the server and in a replay."""

    def __init__(self, seed: int, size: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.size = size

    def __call__(self, observation: Any) -> list[float]:
        assert observation, "the policy got an empty observation"
        return self.rng.random(self.size).tolist()


@pytest.fixture(scope="module")
def grader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GraderProcess]:
    db = tmp_path_factory.mktemp("grader") / "grader.sqlite3"
    arguments = ["--env", "L2RunEnv", "--env", "L2M2019Env", "--seeds", ",".join(map(str, SEEDS)),
                 "--max-steps", str(MAX_STEPS), "--max-instances-per-token", "4"]
    with GraderProcess(db, arguments) as process:
        yield process


@pytest.fixture(scope="module")
def token(grader: GraderProcess) -> str:
    return grader.create_token("alice")


def post(grader: GraderProcess, route: str, body: Any = None, raw: bytes | None = None) -> requests.Response:
    data = raw if raw is not None else json.dumps(body).encode()
    return requests.post(grader.url + route, data=data, headers={"Content-type": "application/json"}, timeout=60)


def new_instance(grader: GraderProcess, token: str, env_id: str = "L2RunEnv") -> str:
    response = post(grader, "/v1/envs/", {"env_id": env_id, "token": token, "version": "test"})
    assert response.status_code == 200, response.text
    return response.json()["instance_id"]


def test_original_client_flow_scores_like_a_local_replay(grader: GraderProcess, token: str) -> None:
    client = Client(grader.url)
    observation = client.env_create(token, "L2RunEnv")
    assert isinstance(observation, list) and len(observation) == 43
    policy = SeededPolicy(11, L2RUN_ACTIONS)
    steps, simulations = 0, 1
    while True:
        observation, reward, done, info = client.env_step(policy(observation))
        steps += 1
        assert isinstance(reward, float) and isinstance(done, bool) and isinstance(info, dict)
        if done:
            observation = client.env_reset()
            if not observation:
                break
            simulations += 1
        assert steps <= 10 * MAX_STEPS, "the grader never ended the submission"
    assert observation is None
    assert simulations == len(SEEDS)
    assert steps == MAX_STEPS * len(SEEDS)  # standing still never falls within 6 steps
    total = client.submit()
    expected = replay_locally("L2RunEnv", SEEDS, MAX_STEPS, SeededPolicy(11, L2RUN_ACTIONS))
    assert total == pytest.approx(sum(expected), rel=1e-12, abs=1e-15)
    result = client.last_submission
    assert result["simulation_rewards"] == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert result["mean_reward"] == pytest.approx(sum(expected) / len(SEEDS), rel=1e-12, abs=1e-15)

    board = requests.get(grader.url + "/leaderboard.json", params={"env_id": "L2RunEnv"}, timeout=30).json()
    mine = [entry for entry in board["entries"] if entry["submission_id"] == result["submission_id"]]
    assert mine and mine[0]["participant"] == "alice"
    recorded = requests.get(f"{grader.url}/v1/submissions/{result['submission_id']}", timeout=30).json()
    assert recorded["status"] == "finished"
    assert [sim["reward"] for sim in recorded["simulations"]] == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert [sim["steps"] for sim in recorded["simulations"]] == [MAX_STEPS] * len(SEEDS)
    assert "seeds" not in recorded and all("seed" not in sim for sim in recorded["simulations"])
    # The instance was closed by submit(): replaying a request now gets "gone".
    with pytest.raises(ServerError) as gone:
        client.env_step([0.0] * L2RUN_ACTIONS)
    assert gone.value.status_code == 410


def test_l2m2019_dict_observations_and_seeded_targets(grader: GraderProcess, token: str) -> None:
    """The 2019 environment: nested dict observations pass through JSON; seeds change the target."""
    client = Client(grader.url)
    first = client.env_create(token, "L2M2019Env")
    assert isinstance(first, dict) and "v_tgt_field" in first and "pelvis" in first
    policy = SeededPolicy(5, L2M_ACTIONS)
    observations = [first]
    for _ in range(len(SEEDS)):
        done = False
        for _ in range(MAX_STEPS):
            _, _, done, _ = client.env_step(policy(observations[-1]))
            if done:
                break
        assert done
        observations.append(client.env_reset())
    assert observations[-1] is None
    assert observations[0]["v_tgt_field"] != observations[1]["v_tgt_field"], "both seeds gave the same target"
    total = client.submit()
    expected = replay_locally("L2M2019Env", SEEDS, MAX_STEPS, SeededPolicy(5, L2M_ACTIONS))
    assert total == pytest.approx(sum(expected), rel=1e-12, abs=1e-15)


def test_rules_of_a_submission(grader: GraderProcess, token: str) -> None:
    instance = new_instance(grader, token)
    base = f"/v1/envs/{instance}"
    step = {"action": [0.1] * L2RUN_ACTIONS, "render": False}
    assert post(grader, base + "/monitor/start/", {"directory": "tmp", "force": True}).status_code == 204
    assert post(grader, base + "/step/", step).status_code == 409  # no reset yet
    assert post(grader, base + "/reset/").json()["observation"]
    assert post(grader, base + "/monitor/start/", {"directory": "tmp"}).status_code == 409  # no restart
    response = post(grader, base + "/reset/")
    assert response.status_code == 409 and "not done" in response.json()["message"]
    too_early = post(grader, base + "/monitor/close/")
    assert too_early.status_code == 409 and "incomplete" in too_early.json()["message"]
    for i in range(MAX_STEPS):
        result = post(grader, base + "/step/", step).json()
        assert result["done"] == (i == MAX_STEPS - 1)
    assert result["info"].get("max_steps_reached") is True
    after_done = post(grader, base + "/step/", step)
    assert after_done.status_code == 409 and "done" in after_done.json()["message"]
    # Unfinished on close: the first simulation stays recorded.
    assert post(grader, base + "/close/").status_code == 204
    assert post(grader, base + "/close/").status_code == 410  # replayed close
    submissions = requests.get(grader.url + "/v1/submissions", params={"env_id": "L2RunEnv"}, timeout=30).json()
    record = next(item for item in submissions
                  if item["status"] == "unfinished" and "closed by the client" in item["reason"])
    assert len(record["simulations"]) == 1 and record["simulations"][0]["steps"] == MAX_STEPS


def test_replayed_submit_is_refused(grader: GraderProcess, token: str) -> None:
    instance = new_instance(grader, token)
    base = f"/v1/envs/{instance}"
    observation = post(grader, base + "/reset/").json()["observation"]
    while observation:
        for _ in range(MAX_STEPS):
            if post(grader, base + "/step/", {"action": [0.0] * L2RUN_ACTIONS}).json()["done"]:
                break
        observation = post(grader, base + "/reset/").json()["observation"]
    first = post(grader, base + "/monitor/close/")
    assert first.status_code == 200 and math.isfinite(first.json()["reward"])
    again = post(grader, base + "/monitor/close/")
    assert again.status_code == 409 and "already scored" in again.json()["message"]
    assert post(grader, base + "/step/", {"action": [0.0] * L2RUN_ACTIONS}).status_code == 409
    assert post(grader, base + "/reset/").json()["observation"] is None
    assert post(grader, base + "/close/").status_code == 204


@pytest.mark.parametrize(
    ("raw", "status", "expected_words"),
    [
        (b'{"action": [0.5, ', 422, "json"),  # malformed JSON
        (b'{"action": "half"}', 422, "list"),  # wrong type
        (b'{"action": [0.5, "x"]}', 422, "number"),
        (b'{"action": [true, false]}', 422, "number"),
        (b'{}', 422, "action"),
        (b'null', 422, "action"),
        (json.dumps({"action": [0.5] * 17}).encode(), 400, "shape (18,)"),  # wrong length
        (json.dumps({"action": [[0.5] * 18] * 2}).encode(), 422, "number"),
        (b'{"action": [' + b"NaN, " * 17 + b"0.5]}", 400, "non-finite"),
        (b'{"action": [' + b"0.5, " * 17 + b"Infinity]}", 400, "non-finite"),
        (b'{"action": [' + b"0.5, " * 17 + b"1e999]}", 400, "non-finite"),
        (b'{"action": [' + b"0, " * 5000 + b"0]}", 422, "1000"),  # absurdly long
    ],
)
def test_bad_actions_get_a_4xx_message(grader: GraderProcess, token: str, raw: bytes, status: int,
                                       expected_words: str) -> None:
    instance = new_instance(grader, token)
    base = f"/v1/envs/{instance}"
    assert post(grader, base + "/reset/").status_code == 200
    response = post(grader, base + "/step/", raw=raw)
    assert response.status_code == status, response.text
    assert expected_words.lower() in response.json()["message"].lower()
    # The instance is still usable after the refusal, and the refused step was not counted.
    result = post(grader, base + "/step/", {"action": [0.2] * L2RUN_ACTIONS})
    assert result.status_code == 200 and result.json()["done"] is False
    assert post(grader, base + "/close/").status_code == 204


def test_bad_requests_get_a_4xx_message(grader: GraderProcess, token: str) -> None:
    cases = [
        ("/v1/envs/", {"env_id": "L2RunEnv", "token": "not-a-token"}, 401, "token"),
        ("/v1/envs/", {"env_id": "L2RunEnv"}, 422, "token"),
        ("/v1/envs/", {"env_id": "NoSuchEnv", "token": token}, 400, "does not serve"),
        ("/v1/envs/", {"env_id": 7, "token": token}, 422, "string"),
        ("/v1/envs/", "just a string", 422, "invalid"),
        ("/v1/envs/unknown-instance/reset/", None, 404, "unknown instance"),
        ("/v1/envs/unknown-instance/step/", {"action": [0.1] * 18}, 404, "unknown instance"),
        ("/v1/envs/unknown-instance/monitor/close/", None, 404, "unknown instance"),
        ("/v1/nothing-here", None, 404, "not found"),
    ]
    for route, body, status, words in cases:
        response = post(grader, route, body)
        assert response.status_code == status, (route, body, response.text)
        assert words in response.json()["message"].lower(), (route, response.json())
    big = post(grader, "/v1/envs/", raw=b'{"token": "' + b"x" * 300_000 + b'"}')
    assert big.status_code == 413 and "too large" in big.json()["message"]
    assert requests.get(grader.url + "/v1/envs/", timeout=30).status_code == 405
    # The original client exits with the grader's message on a bad token.
    with pytest.raises(SystemExit) as exit_info:
        Client(grader.url).env_create("not-a-token", "L2RunEnv")
    assert "token" in str(exit_info.value.code)
    assert requests.get(grader.url + "/health", timeout=30).json()["status"] == "ok"


def test_unavailable_environment_is_a_clear_4xx(tmp_path: Path) -> None:
    """An id the grader is configured for but this installation lacks: 400 naming what exists."""
    with GraderProcess(tmp_path / "g.sqlite3", ["--env", "NoSuchEnv", "--seeds", "1"]) as process:
        token = process.create_token("bob")
        response = post(process, "/v1/envs/", {"env_id": "NoSuchEnv", "token": token})
        assert response.status_code == 400
        assert "not available" in response.json()["message"] and "L2RunEnv" in response.json()["message"]
        assert requests.get(process.url + "/health", timeout=30).json()["instances"] == 0


def test_raw_observations(tmp_path: Path) -> None:
    """--raw-observations sends the state dictionary (project=False), as the 2018/2019 graders did."""
    with GraderProcess(tmp_path / "g.sqlite3", ["--env", "L2RunEnv", "--seeds", "1", "--raw-observations"]) as process:
        client = Client(process.url)
        observation = client.env_create(process.create_token("erin"), "L2RunEnv")
        assert set(observation) >= {"body_pos", "joint_pos", "misc"}
        assert len(observation["body_pos"]["pelvis"]) == 3
        observation, _, _, _ = client.env_step([0.5] * L2RUN_ACTIONS)
        assert "body_pos" in observation


def test_osim_command_registers_serve_and_tokens(grader: GraderProcess, token: str,
                                                 capsys: pytest.CaptureFixture) -> None:
    from osim.cli import main

    assert main(["tokens", "--db", grader.db, "list"]) == 0
    assert "alice" in capsys.readouterr().out
    with pytest.raises(SystemExit) as help_exit:
        main(["serve", "--help"])
    assert help_exit.value.code == 0 and "--max-instances-per-token" in capsys.readouterr().out


def test_tokens_are_stored_hashed_and_can_be_revoked(grader: GraderProcess) -> None:
    secret = grader.create_token("carol")
    with sqlite3.connect(grader.db) as db:
        stored = [row[0] for row in db.execute("SELECT token_hash FROM tokens")]
        names = [row[0] for row in db.execute("SELECT name FROM tokens")]
    assert "carol" in names and secret not in stored and len(stored) == len(names)
    listing = subprocess.run([sys.executable, "-m", "osim.cli", "tokens", "--db", grader.db, "list"],
                             capture_output=True, text=True, timeout=60, check=True).stdout
    assert "carol" in listing and secret not in listing
    revoke = subprocess.run([sys.executable, "-m", "osim.cli", "tokens", "--db", grader.db, "revoke", "carol"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert revoke.returncode == 0
    response = post(grader, "/v1/envs/", {"env_id": "L2RunEnv", "token": secret})
    assert response.status_code == 401 and "revoked" in response.json()["message"]
    duplicate = subprocess.run([sys.executable, "-m", "osim.cli", "tokens", "--db", grader.db, "create", "alice"],
                               capture_output=True, text=True, timeout=60, check=False)
    assert duplicate.returncode == 1 and "exists already" in duplicate.stderr


def test_submit_script(grader: GraderProcess, tmp_path: Path) -> None:
    """examples/submit.py: random actions by default, a policy file with --model."""
    token = grader.create_token("dave")
    script = REPO_ROOT / "examples" / "submit.py"
    result = subprocess.run(
        [sys.executable, str(script), "--token", token, "--remote", grader.url, "--env-id", "L2RunEnv"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Your total reward from this submission" in result.stdout
    model = tmp_path / "constant.py"
    model.write_text("def policy(observation):\n    return [0.25] * 18\n")
    result = subprocess.run(
        [sys.executable, str(script), "--token", token, "--remote", grader.url, "--env-id", "L2RunEnv",
         "--model", str(model)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr
    expected = sum(replay_locally("L2RunEnv", SEEDS, MAX_STEPS, lambda _: [0.25] * 18))
    reported = float(result.stdout.strip().rsplit(":", 1)[1])
    assert reported == pytest.approx(expected, abs=1e-6)  # printed with %f
    refused = subprocess.run(
        [sys.executable, str(script), "--token", "wrong", "--remote", grader.url, "--env-id", "L2RunEnv"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert refused.returncode != 0 and "token" in refused.stderr


def test_run_submission_helper(grader: GraderProcess, token: str) -> None:
    total = run_submission(Client(grader.url), token, "L2RunEnv", SeededPolicy(2, L2RUN_ACTIONS))
    assert total == pytest.approx(sum(replay_locally("L2RunEnv", SEEDS, MAX_STEPS, SeededPolicy(2, L2RUN_ACTIONS))),
                                  rel=1e-12, abs=1e-15)

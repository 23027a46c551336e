"""Fuzzing the grader's OpenAPI schema with schemathesis: no 5xx, responses as documented.

Every other generated request targets real state: a live instance (reset, so that steps reach
OpenSim) with actions of the right length, or the real token; the rest keep random ids and tokens;
positive (valid by the schema) and negative (invalid) requests. The number of examples is bounded
to keep CI quick.
"""
from __future__ import annotations

import collections
import json
from collections.abc import Iterator

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from osim.http.testing import GraderProcess

EXAMPLES_PER_OPERATION = 10
N_ACTIONS = 18  # L2RunEnv
#: Operations without any input: nothing to make invalid in negative mode.
WITHOUT_INPUT = {"/health", "/leaderboard"}


class LiveInstance:
    """A reset instance of the fuzzed grader, recreated whenever the fuzzer closes or ends it."""

    def __init__(self, grader: GraderProcess) -> None:
        self.grader = grader
        self.token = grader.create_token("fuzzer")
        self.instance_id = ""
        self.statuses: collections.Counter[int] = collections.Counter()
        self._turn = False
        self.renew()

    def alternate(self) -> bool:
        """True every other call."""
        self._turn = not self._turn
        return self._turn

    def renew(self) -> None:
        if self.instance_id:
            requests.post(f"{self.grader.url}/v1/envs/{self.instance_id}/close/", timeout=30)
        created = requests.post(self.grader.url + "/v1/envs/", timeout=60,
                                data=json.dumps({"env_id": "L2RunEnv", "token": self.token}))
        assert created.status_code == 200, created.text
        self.instance_id = created.json()["instance_id"]
        assert requests.post(f"{self.grader.url}/v1/envs/{self.instance_id}/reset/", timeout=60).ok


@pytest.fixture(scope="module")
def grader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GraderProcess]:
    db = tmp_path_factory.mktemp("fuzz") / "grader.sqlite3"
    # Long simulations: fuzzed steps rarely end one, so the live instance is seldom rebuilt.
    arguments = ["--env", "L2RunEnv", "--seeds", "1,2", "--max-instances-per-token", "3"]
    with GraderProcess(db, arguments) as process:
        yield process


@pytest.fixture(scope="module")
def live(grader: GraderProcess) -> Iterator[LiveInstance]:
    instance = LiveInstance(grader)
    yield instance
    # Every operation answered, and both accepted and refused requests were generated.
    assert any(200 <= status < 300 for status in instance.statuses), instance.statuses
    assert any(400 <= status < 500 for status in instance.statuses), instance.statuses
    assert not any(status >= 500 for status in instance.statuses), instance.statuses


def fuzz_operation(operation: schemathesis.APIOperation, mode: schemathesis.GenerationMode,
                   live: LiveInstance, grader: GraderProcess) -> None:
    """Send ``EXAMPLES_PER_OPERATION`` generated requests of one operation and check each answer."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def send(case: schemathesis.Case) -> None:
        parameters = case.path_parameters or {}
        if live.alternate():
            # Aim at real state: the live instance, an action of the right length, the real token.
            if "instance_id" in parameters:
                parameters["instance_id"] = live.instance_id
            body = case.body if isinstance(case.body, dict) else None
            if body is not None and isinstance(body.get("action"), list):
                body["action"] = (body["action"] * N_ACTIONS)[:N_ACTIONS] or [0.5] * N_ACTIONS
            if body is not None and "token" in body:
                body["token"] = live.token
        response = case.call_and_validate(
            base_url=grader.url,
            checks=[not_a_server_error, status_code_conformance, content_type_conformance,
                    response_schema_conformance],
        )
        live.statuses[response.status_code] += 1
        if parameters.get("instance_id") == live.instance_id and (
            case.path.endswith("/close/") or response.status_code == 410
            or (case.path.endswith("/step/") and response.status_code == 409)
        ):
            live.renew()

    send()


@pytest.mark.parametrize("mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
                         ids=["positive", "negative"])
def test_fuzzed_requests_never_fail_the_server(mode: schemathesis.GenerationMode, live: LiveInstance,
                                              grader: GraderProcess) -> None:
    api = schemathesis.openapi.from_url(grader.url + "/openapi.json")
    operations = [result.ok() for result in api.get_all_operations()]
    assert {operation.path for operation in operations} >= {
        "/v1/envs/", "/v1/envs/{instance_id}/step/", "/v1/envs/{instance_id}/reset/",
        "/v1/envs/{instance_id}/monitor/start/", "/v1/envs/{instance_id}/monitor/close/",
        "/v1/envs/{instance_id}/close/", "/leaderboard.json",
    }
    for operation in operations:
        if mode == schemathesis.GenerationMode.NEGATIVE and operation.path in WITHOUT_INPUT:
            continue
        fuzz_operation(operation, mode, live, grader)
        assert requests.get(grader.url + "/health", timeout=30).ok

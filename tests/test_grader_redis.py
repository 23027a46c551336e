"""The 2019 Redis protocol against a real redis-server (Debian's) on a loopback port."""
from __future__ import annotations

import concurrent.futures
import shutil
import subprocess
import time
from collections.abc import Iterator

import numpy as np
import pytest
import redis

from osim.http.testing import free_port, replay_locally
from osim.redis import wire
from osim.redis.client import Client, RedisProtocolError, run_submission
from osim.redis.messages import OSIM_RL
from osim.redis.service import OsimRlRedisService

SEEDS = (3, 4)
MAX_STEPS = 5


@pytest.fixture(scope="module")
def redis_port() -> Iterator[int]:
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("redis-server not found: install Debian's 'redis-server' package")
    port = free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if redis.Redis(port=port).ping():
                    break
            except redis.ConnectionError:
                time.sleep(0.05)
        else:
            pytest.fail("redis-server did not start within 20 s")
        yield port
    finally:
        process.terminate()
        process.wait(20)


def start_service(port: int,
                  service_id: str) -> tuple[concurrent.futures.ThreadPoolExecutor, concurrent.futures.Future]:
    service = OsimRlRedisService(service_id, ",".join(map(str, SEEDS)), MAX_STEPS, remote_port=port,
                                 env_id="L2RunEnv", step_timeout=60)
    pool = concurrent.futures.ThreadPoolExecutor(1)
    return pool, pool.submit(service.run)


class SeededPolicy:
    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def __call__(self, observation: object) -> list[float]:
        return self.rng.random(18).tolist()


def test_client_and_service_score_like_a_local_replay(redis_port: int) -> None:
    pool, result = start_service(redis_port, "scoring")
    with pool:
        client = Client(remote_port=redis_port, service_id="scoring", response_timeout=60)
        policy = SeededPolicy(8)
        observation = client.env_create()
        assert isinstance(observation, dict) and "body_pos" in observation  # raw state, as in 2019
        simulations, steps = 1, 0
        while True:
            observation, reward, done, info = client.env_step(np.array(policy(observation)))
            steps += 1
            assert isinstance(reward, float) and isinstance(info, dict)
            if done:
                observation = client.env_reset()
                if not observation:
                    break
                simulations += 1
            assert steps <= 10 * MAX_STEPS
        assert observation is False and simulations == len(SEEDS)
        submitted = client.submit()
        served = result.result(timeout=60)
    expected = replay_locally("L2RunEnv", SEEDS, MAX_STEPS, SeededPolicy(8), project=False)
    assert submitted == served
    assert submitted["simulation_rewards"] == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert submitted["mean_reward"] == pytest.approx(sum(expected) / len(SEEDS), rel=1e-12, abs=1e-15)
    assert len(submitted["simulation_times"]) == len(SEEDS)



def test_run_submission_plays_the_standard_loop_and_returns_the_scores(redis_port: int) -> None:
    """The loop shared with the HTTP client (osim.submission) scores what the hand-written loop scores."""
    pool, result = start_service(redis_port, "loop")
    with pool:
        client = Client(remote_port=redis_port, service_id="loop", response_timeout=60)
        submitted = run_submission(client, SeededPolicy(8))
        served = result.result(timeout=60)
    expected = replay_locally("L2RunEnv", SEEDS, MAX_STEPS, SeededPolicy(8), project=False)
    assert submitted == served
    assert submitted["simulation_rewards"] == pytest.approx(expected, rel=1e-12, abs=1e-15)

def test_bad_requests_get_error_answers_and_the_service_goes_on(redis_port: int) -> None:
    pool, result = start_service(redis_port, "errors")
    with pool:
        client = Client(remote_port=redis_port, service_id="errors", response_timeout=60)
        with pytest.raises(RedisProtocolError, match="ENV_CREATE first"):
            client.env_step([0.1] * 18)
        client.env_create()
        with pytest.raises(RedisProtocolError, match="exists already"):
            client.env_create()
        with pytest.raises(RedisProtocolError, match=r"shape \(18,\)"):
            client.env_step([0.1] * 3)
        with pytest.raises(RedisProtocolError, match="non-finite"):
            client.env_step([float("nan")] * 18)
        with pytest.raises(RedisProtocolError, match="not done"):
            client.env_reset()
        with pytest.raises(RedisProtocolError, match="incomplete"):
            client.submit()
        connection = redis.Redis(port=redis_port)
        channel = wire.new_response_channel("errors")
        connection.lpush(wire.commands_key("errors"),
                         wire.pack({"type": "OSIM_RL.NONSENSE", "payload": {}, "response_channel": channel}))
        answer = wire.unpack(connection.blpop(channel, timeout=60)[1])
        assert answer["type"] == OSIM_RL.ERROR and "UNKNOWN_REQUEST" in answer["payload"]
        for _ in range(len(SEEDS)):
            for _ in range(MAX_STEPS):
                _, _, done, _ = client.env_step([0.2] * 18)
            assert done
            with pytest.raises(RedisProtocolError, match="after max_steps"):
                client.env_step([0.2] * 18)
            client.env_reset()
        assert client.submit()["simulation_rewards"] == pytest.approx(
            replay_locally("L2RunEnv", SEEDS, MAX_STEPS, lambda _: [0.2] * 18, project=False), rel=1e-12, abs=1e-15)
        result.result(timeout=60)


def test_client_without_a_service_times_out(redis_port: int) -> None:
    with pytest.raises(RedisProtocolError, match="no answer"):
        Client(remote_port=redis_port, service_id="nobody-listens", response_timeout=1)


def test_client_without_a_redis_server_gets_a_clear_error() -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(RedisProtocolError, match=f"Redis server at 127.0.0.1:{port} cannot be reached"):
        Client(remote_port=port, response_timeout=1)

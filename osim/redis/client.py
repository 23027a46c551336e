"""Participant side of the Redis protocol, with the original ``Client`` API (spec §4.2).

    client = Client()                       # host/port of the evaluator's Redis; PING-PONG at once
    print(run_submission(client, policy))   # {"mean_reward", "simulation_rewards", "simulation_times"}

:func:`run_submission` is the original examples' loop (:mod:`osim.submission`, shared with the HTTP
client), from ``client.env_create()`` to ``client.submit()``.
"""
from __future__ import annotations

import os
import time
from typing import Any

import numpy as np
import redis

from osim.redis import wire
from osim.redis.messages import OSIM_RL
from osim.submission import play_submission


class RedisProtocolError(Exception):
    """The service answered with an ERROR message, did not answer in time, or the Redis server
    between the two cannot be reached."""


class Client:
    """Talk to an ``OsimRlRedisService`` through the Redis server at ``remote_host:remote_port``.

    Args:
        remote_host, remote_port, remote_db, remote_password: the Redis server.
        verbose: print each request and response.
        service_id: the service's id (default: ``$osim_rl_redis_service_id`` or the original default).
        response_timeout: seconds to wait for each answer (keyword only; ``None`` waits forever, as
            the original did).
    """

    def __init__(self, remote_host: str = "127.0.0.1", remote_port: int = 6379, remote_db: int = 0,
                 remote_password: str | None = None, verbose: bool = False, *,
                 service_id: str | None = None, response_timeout: float | None = None) -> None:
        self.remote_host, self.remote_port = remote_host, remote_port
        self.remote_db, self.remote_password = remote_db, remote_password
        self.verbose = verbose
        self.service_id = service_id or wire.default_service_id()
        self.command_channel = wire.commands_key(self.service_id)
        self.response_timeout = response_timeout
        self.redis_pool = redis.ConnectionPool(host=remote_host, port=remote_port, db=remote_db,
                                               password=remote_password)
        self.ping_pong()

    def get_redis_connection(self) -> redis.Redis:
        """A connection from the client's pool."""
        return redis.Redis(connection_pool=self.redis_pool)

    def _request(self, message_type: str, payload: dict[str, Any]) -> dict[str, Any]:
        connection = self.get_redis_connection()
        channel = wire.new_response_channel(self.service_id)
        request = {"type": message_type, "payload": payload, "response_channel": channel}
        if self.verbose:
            print("Request:", request)
        timeout = wire.blocking_seconds(self.response_timeout)
        try:
            connection.lpush(self.command_channel, wire.pack(request))
            answer = connection.blpop(channel, timeout=timeout)
        except (redis.ConnectionError, redis.TimeoutError) as error:
            raise RedisProtocolError(
                f"the Redis server at {self.remote_host}:{self.remote_port} cannot be reached or went away "
                f"during {message_type} ({error}); the submission in progress was not completed"
            ) from error
        if answer is None:
            raise RedisProtocolError(f"no answer to {message_type} within {timeout} s from service "
                                     f"{self.service_id!r} at {self.remote_host}:{self.remote_port}")
        try:
            response = wire.unpack_popped(answer, "an answer")
        except TypeError as error:
            raise RedisProtocolError(str(error)) from None
        if self.verbose:
            print("Response:", response)
        if response["type"] == OSIM_RL.ERROR:
            raise RedisProtocolError(str(response["payload"]))
        return response

    def ping_pong(self) -> bool:
        """Check that the service answers PING with PONG; returns True."""
        response = self._request(OSIM_RL.PING, {})
        if response["type"] != OSIM_RL.PONG:
            raise RedisProtocolError(f"expected {OSIM_RL.PONG} in answer to PING, got {response['type']}")
        return True

    def env_create(self) -> Any:
        """Create the environment; returns its first observation."""
        return self._request(OSIM_RL.ENV_CREATE, {})["payload"]["observation"]

    def env_reset(self) -> Any:
        """The next simulation's first observation; ``False`` when all simulations have run."""
        return self._request(OSIM_RL.ENV_RESET, {})["payload"]["observation"]

    def env_step(self, action: Any, render: bool = False) -> list:
        """Step with ``action``; returns [observation, reward, done, info]."""
        action = np.asarray(action).tolist()
        payload = self._request(OSIM_RL.ENV_STEP, {"action": action, "render": render})["payload"]
        return [payload["observation"], payload["reward"], payload["done"], payload["info"]]

    def submit(self) -> dict[str, Any]:
        """Submit the results; returns the service's payload (the scores)."""
        payload = self._request(OSIM_RL.ENV_SUBMIT, {})["payload"]
        if os.environ.get("CROWDAI_BLOCKING_SUBMIT"):
            # The evaluation platforms waited for the container to be stopped from outside.
            while True:
                time.sleep(10)
        return payload


def run_submission(client: Client, policy: Any, *, max_requests: int = 10**7) -> dict[str, Any]:
    """The standard loop: create, step with ``policy(observation)`` until the service's reset returns
    nothing, submit. Returns the service's scores (``mean_reward``, ``simulation_rewards``,
    ``simulation_times``); ``max_requests`` bounds the loop against a service that never ends one."""
    scores: dict[str, Any] = play_submission(client, client.env_create(), policy, max_requests=max_requests,
                                             error=RedisProtocolError)
    return scores

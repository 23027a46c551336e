"""Grader side of the Redis protocol: ``OsimRlRedisService`` (spec §4.2).

The service waits for commands on ``osim-rl::{service_id}::commands``, runs one environment, and
answers on each request's response channel. One simulation per seed of ``seed_map``; a simulation
ends when the environment says ``done`` or after ``max_steps`` steps; ``ENV_SUBMIT`` ends the
service and returns ``{"mean_reward", "simulation_rewards", "simulation_times"}``.

Differences from the original, for robustness: a bad request (wrong action, step after done,
unknown type) gets an ERROR answer and the service keeps serving; the environment is any id of
:func:`osim.http.worker.resolve_env` (default ``L2M2019Env``, the 2019 service's).

Command line: ``python -m osim.redis.service --port 6379 --seed_map 11,22,33 [--env L2RunEnv]``.
"""
from __future__ import annotations

import argparse
import inspect
import random
import sys
import time
from typing import Any

import numpy as np
import redis

from osim.http.worker import reset_with_seed, resolve_env
from osim.redis import wire
from osim.redis.messages import OSIM_RL

#: Seconds the service waits for the participant's next command (the original's 20 minutes).
PER_STEP_TIMEOUT = 20 * 60


class ServiceError(Exception):
    """A request the service refuses; the message goes back to the participant as ERROR."""


class OsimRlRedisService:
    """Args (the original's, plus ``env_id``, ``project`` and ``step_timeout``):
        osim_rl_redis_service_id: the service id (the Redis key prefix).
        seed_map: comma-separated seeds, one simulation each (default: one random seed).
        max_steps: steps per simulation at most.
        remote_host, remote_port, remote_db, remote_password: the Redis server.
        difficulty, max_obstacles, visualize, report: environment arguments where it takes them.
        env_id: which environment (default ``"L2M2019Env"``).
        project: ``False`` (default, as in 2018/2019) sends state dictionaries.
        step_timeout: seconds to wait for a command before giving up.
    """

    def __init__(self, osim_rl_redis_service_id: str = wire.DEFAULT_SERVICE_ID, seed_map: str | bool = False,
                 max_steps: int = 1000, remote_host: str = "127.0.0.1", remote_port: int = 6379,
                 remote_db: int = 0, remote_password: str | None = None, difficulty: int = 1,
                 max_obstacles: int = 10, visualize: bool = False, report: str | None = None,
                 verbose: bool = False, *, env_id: str = "L2M2019Env", project: bool = False,
                 step_timeout: float = PER_STEP_TIMEOUT) -> None:
        self.service_id = osim_rl_redis_service_id
        self.command_channel = wire.commands_key(self.service_id)
        if seed_map:
            try:
                self.seed_map = [int(part) for part in str(seed_map).split(",") if part.strip()]
            except ValueError:
                raise ValueError(f"seed_map must be comma-separated integers, got {seed_map!r}") from None
        else:
            self.seed_map = [random.randrange(10**10)]
        if not self.seed_map:
            raise ValueError("seed_map needs at least one seed")
        self.max_steps = max_steps
        self.env_id, self.project, self.step_timeout = env_id, project, step_timeout
        self.env_arguments = {"difficulty": difficulty, "max_obstacles": max_obstacles,
                              "visualize": visualize, "report": report}
        self.verbose = verbose
        self.redis_pool = redis.ConnectionPool(host=remote_host, port=remote_port, db=remote_db,
                                               password=remote_password)
        self.env: Any = None
        self.simulation_count = 0
        self.simulation_rewards: list[float] = []
        self.simulation_times: list[float] = []
        self.current_step = 0
        self.env_available = False
        self.begin = 0.0

    def get_redis_connection(self) -> redis.Redis:
        """A connection from the service's pool."""
        return redis.Redis(connection_pool=self.redis_pool)

    # -- commands ---------------------------------------------------------------------------------

    def _build_env(self) -> Any:
        cls, kwargs = resolve_env(self.env_id)
        accepted = inspect.signature(cls).parameters  # the constructor's
        for name, value in self.env_arguments.items():
            if name in accepted:
                kwargs[name] = value
        if "seed" in accepted:
            kwargs["seed"] = self.seed_map[0]
        return cls(**kwargs)

    def _start_simulation(self) -> Any:
        observation = reset_with_seed(self.env, self.seed_map[self.simulation_count], self.project)
        self.simulation_rewards.append(0.0)
        self.current_step = 0
        self.env_available = True
        self.begin = time.monotonic()
        return observation

    def handle(self, message_type: str, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """Answer one command: (response type, response payload). Raises ``ServiceError``."""
        if message_type == OSIM_RL.PING:
            return OSIM_RL.PONG, {}
        if message_type == OSIM_RL.ENV_CREATE:
            if self.env is not None:
                raise ServiceError("the environment exists already: ENV_CREATE may be sent only once")
            self.env = self._build_env()
            return OSIM_RL.ENV_CREATE_RESPONSE, {"observation": self._start_simulation()}
        if self.env is None:
            raise ServiceError(f"{message_type}: send ENV_CREATE first")
        if message_type == OSIM_RL.ENV_RESET:
            if self.env_available:
                raise ServiceError(f"simulation {self.simulation_count + 1} is not done: step until done, then reset")
            if self.simulation_count + 1 >= len(self.seed_map):
                return OSIM_RL.ENV_RESET_RESPONSE, {"observation": False}
            self.simulation_count += 1
            return OSIM_RL.ENV_RESET_RESPONSE, {"observation": self._start_simulation()}
        if message_type == OSIM_RL.ENV_STEP:
            return OSIM_RL.ENV_STEP_RESPONSE, self._step(payload.get("action"))
        if message_type == OSIM_RL.ENV_SUBMIT:
            if self.env_available or self.simulation_count + 1 < len(self.seed_map):
                raise ServiceError(f"the submission is incomplete: {len(self.simulation_times)} of "
                                   f"{len(self.seed_map)} simulations finished")
            total = float(sum(self.simulation_rewards))
            return OSIM_RL.ENV_SUBMIT_RESPONSE, {
                "mean_reward": total / len(self.seed_map),
                "simulation_rewards": list(self.simulation_rewards),
                "simulation_times": list(self.simulation_times),
            }
        raise ServiceError(f"UNKNOWN_REQUEST:{message_type!r}")

    def _step(self, action: Any) -> dict[str, Any]:
        if not self.env_available:
            raise ServiceError(f"Attempt to call `step` function after max_steps={self.max_steps} timesteps "
                               "or after the simulation ended: call reset")
        try:
            observation, reward, done, info = self.env.step(np.asarray(action, dtype=np.float64),
                                                            project=self.project)
        except (ValueError, TypeError) as error:
            raise ServiceError(str(error)) from None
        self.current_step += 1
        self.simulation_rewards[-1] += reward
        if self.current_step >= self.max_steps:
            done = True
        if done:
            self.env_available = False
            self.simulation_times.append(time.monotonic() - self.begin)
        return {"observation": observation, "reward": float(reward), "done": bool(done), "info": info}

    # -- loop -------------------------------------------------------------------------------------

    def get_next_command(self, connection: redis.Redis) -> dict[str, Any]:
        """Wait for the next command (at most ``step_timeout`` s); returns it decoded."""
        answer = connection.brpop(self.command_channel, timeout=wire.blocking_seconds(self.step_timeout))
        if answer is None:
            raise TimeoutError(f"Timeout in step {self.current_step} of simulation {self.simulation_count}: "
                               f"no command for {self.step_timeout:g} s")
        return wire.unpack_popped(answer, "a command")

    def run(self) -> dict[str, Any]:
        """Serve until ``ENV_SUBMIT``; returns the submission's result."""
        connection = self.get_redis_connection()
        while True:
            command = self.get_next_command(connection)
            if self.verbose:
                print("Command:", command.get("type"))
            channel = command.get("response_channel")
            payload: dict[str, Any] | str
            try:
                response_type, payload = self.handle(str(command.get("type")), command.get("payload") or {})
            except ServiceError as error:
                response_type, payload = OSIM_RL.ERROR, str(error)
            if channel:
                connection.rpush(channel, wire.pack({"type": response_type, "payload": payload}))
            if response_type == OSIM_RL.ENV_SUBMIT_RESPONSE:
                assert isinstance(payload, dict)  # errors are ERROR responses
                return payload


def main(argv: list[str] | None = None) -> int:
    """``python -m osim.redis.service``: serve until the client submits, print the results; returns 0."""
    parser = argparse.ArgumentParser(description="osim-rl Redis evaluation service")
    parser.add_argument("--port", type=int, required=True, help="Redis port")
    parser.add_argument("--host", default="127.0.0.1", help="Redis host")
    parser.add_argument("--service_id", default=wire.DEFAULT_SERVICE_ID)
    parser.add_argument("--seed_map", default="11,22,33")
    parser.add_argument("--max_steps", type=int, default=1000)
    parser.add_argument("--env", default="L2M2019Env", help="environment id (default L2M2019Env)")
    parser.add_argument("--difficulty", type=int, default=1)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    service = OsimRlRedisService(args.service_id, args.seed_map, args.max_steps, args.host, args.port,
                                 difficulty=args.difficulty, verbose=args.verbose, env_id=args.env)
    print("Results :", service.run())
    return 0


if __name__ == "__main__":
    sys.exit(main())

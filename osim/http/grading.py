"""Submissions: the grader's rules, independent of HTTP.

A submission is one environment instance created with a token. It runs one simulation per seed of
the grader's seed list, in order: ``reset`` starts the next simulation (and returns ``None`` once
all have run), ``step`` advances the current one until it is done (the environment's own end or
``max_steps``), ``monitor_close`` scores a submission whose simulations have all ended. Each
finished simulation is written to the store at once, so a server killed mid-run loses at most the
simulation in progress; the submission is then reported as unfinished.

Every rule violation raises :class:`GraderError` with an HTTP status (4xx for the caller's mistakes)
and a message that says what was expected.
"""
from __future__ import annotations

import asyncio
import collections
import dataclasses
import logging
import secrets
import time
from typing import Any

import anyio.to_thread

from osim.engine.registry import DEFAULT_ENGINE, ENGINES
from osim.http.store import Store, TokenRecord
from osim.http.worker import EnvWorker, WorkerError

log = logging.getLogger(__name__)

#: How many ids of ended instances are remembered to answer "gone" instead of "unknown".
_REMEMBERED_GONE = 10_000


class GraderError(Exception):
    """A request the grader refuses: ``status`` is the HTTP status, ``message`` says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclasses.dataclass(frozen=True)
class GraderConfig:
    """What a grader serves and its limits.

    Attributes:
        env_ids: environment ids clients may ask for (class names of :mod:`osim.env`, ``"Run"``,
            or Gymnasium ids); the first is the grader's main challenge (leaderboard default).
        seeds: one simulation per seed, in this order, for every submission.
        max_steps: steps after which a simulation ends even if the environment has not.
        max_instances: instances alive at once, all tokens together.
        max_instances_per_token: instances alive at once for one token.
        step_timeout: seconds one step (or reset) may take before its instance is stopped.
        create_timeout: seconds building an environment may take.
        idle_timeout: seconds without a request after which an instance is reclaimed.
        env_kwargs: constructor arguments of the environments (``{"difficulty": 2}``).
        project: ``False`` sends raw state dictionaries, as the 2018 and 2019 graders did.
        engine: the physics engine every environment of this grader runs on (``"opensim"`` or
            ``"mujoco"``, :data:`osim.engine.registry.ENGINES`); stored with each submission and
            shown with each score. A challenge on both engines runs one grader per engine.
    """

    env_ids: tuple[str, ...] = ("L2M2019Env",)
    seeds: tuple[int, ...] = (11, 22, 33)
    max_steps: int = 1000
    max_instances: int = 8
    max_instances_per_token: int = 2
    step_timeout: float = 30.0
    create_timeout: float = 120.0
    idle_timeout: float = 600.0
    env_kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)
    project: bool = True
    engine: str = DEFAULT_ENGINE

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(f"engine must be one of {sorted(ENGINES)}, got {self.engine!r}")
        if "engine" in self.env_kwargs:
            raise ValueError("give the grader's engine as its engine setting (osim serve --engine), "
                             "not in the environments' constructor arguments")
        if not self.env_ids:
            raise ValueError("a grader needs at least one environment id")
        if not self.seeds:
            raise ValueError("a grader needs at least one seed (one simulation per seed)")
        for name in ("max_steps", "max_instances", "max_instances_per_token"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("step_timeout", "create_timeout", "idle_timeout"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be a positive number of seconds, got {getattr(self, name)}")


@dataclasses.dataclass
class _Instance:
    """One live submission."""

    id: str
    token: TokenRecord
    env_id: str
    submission_id: int
    worker: EnvWorker | None = None
    lock: asyncio.Lock = dataclasses.field(default_factory=asyncio.Lock)
    last_request: float = dataclasses.field(default_factory=time.monotonic)
    index: int = -1  # current simulation (-1: none started)
    running: bool = False  # the current simulation can be stepped
    reward: float = 0.0  # of the current simulation
    steps: int = 0
    started: float = 0.0
    rewards: list[float] = dataclasses.field(default_factory=list)
    seconds: list[float] = dataclasses.field(default_factory=list)
    submitted: bool = False
    total: float | None = None


class Grader:
    """Live instances, their limits, and their records in the store."""

    def __init__(self, config: GraderConfig, store: Store) -> None:
        self.config = config
        self.store = store
        self._instances: dict[str, _Instance] = {}
        self._gone: collections.OrderedDict[str, str] = collections.OrderedDict()
        interrupted = store.abandon_running("the grader stopped before the submission ended")
        if interrupted:
            log.warning("%d submissions were cut off by the previous server's end", interrupted)

    @property
    def env_kwargs(self) -> dict[str, Any]:
        """The environments' constructor arguments, with the grader's engine."""
        if self.config.engine == DEFAULT_ENGINE:
            return dict(self.config.env_kwargs)  # what graders passed before engines existed
        return {**self.config.env_kwargs, "engine": self.config.engine}

    @property
    def simulations(self) -> int:
        """Number of simulations in a submission (one per seed)."""
        return len(self.config.seeds)

    def instance_count(self) -> int:
        """Number of live instances."""
        return len(self._instances)

    # -- lookup -----------------------------------------------------------------------------------

    def _instance(self, instance_id: str) -> _Instance:
        instance = self._instances.get(instance_id)
        if instance is None:
            reason = self._gone.get(instance_id)
            if reason is not None:
                raise GraderError(410, f"instance {instance_id!r} no longer exists: {reason}")
            raise GraderError(404, f"unknown instance {instance_id!r}: create one with POST /v1/envs/")
        instance.last_request = time.monotonic()
        return instance

    def _forget(self, instance: _Instance, reason: str) -> None:
        self._instances.pop(instance.id, None)
        self._gone[instance.id] = reason
        while len(self._gone) > _REMEMBERED_GONE:
            self._gone.popitem(last=False)

    async def _end(self, instance: _Instance, reason: str) -> None:
        """Remove an instance, stop its worker, and mark an unscored submission unfinished."""
        self._forget(instance, reason)
        if not instance.submitted:
            await anyio.to_thread.run_sync(self.store.abandon_submission, instance.submission_id, reason)
        if instance.worker is not None:
            await anyio.to_thread.run_sync(instance.worker.close)

    async def _call(self, instance: _Instance, request: tuple, timeout: float, what: str) -> Any:
        """Send a request to the instance's worker; a timeout or crash ends the instance."""
        assert instance.worker is not None
        try:
            result = await anyio.to_thread.run_sync(instance.worker.call, request, timeout, what)
            instance.last_request = time.monotonic()  # a slow step is not idle time
            return result
        except WorkerError as error:
            instance.last_request = time.monotonic()
            if error.kind == "bad_request":
                raise GraderError(400, error.message) from None
            if error.kind == "conflict":
                raise GraderError(409, error.message) from None
            await self._end(instance, error.message)
            status = 504 if error.kind == "timeout" else 502
            raise GraderError(status, error.message) from None

    # -- protocol ---------------------------------------------------------------------------------

    async def create(self, token: str, env_id: str, client_version: str | None) -> str:
        """Authenticate, check the limits, start the environment; returns the instance id."""
        record = await anyio.to_thread.run_sync(self.store.authenticate, token)
        if record is None:
            raise GraderError(401, "invalid or revoked token: ask the organisers for a valid one")
        if env_id not in self.config.env_ids:
            raise GraderError(
                400, f"this grader does not serve {env_id!r}; it serves {list(self.config.env_ids)}"
            )
        if len(self._instances) >= self.config.max_instances:
            raise GraderError(
                429, f"the grader is busy ({self.config.max_instances} instances running); retry later"
            )
        mine = sum(1 for item in self._instances.values() if item.token.id == record.id)
        if mine >= self.config.max_instances_per_token:
            raise GraderError(
                429, f"this token has {mine} instances open (at most "
                f"{self.config.max_instances_per_token}); submit or close one first",
            )
        instance_id = secrets.token_hex(12)
        instance = _Instance(id=instance_id, token=record, env_id=env_id, submission_id=-1)
        # Registered before the first await, so concurrent creations count against the limits.
        self._instances[instance_id] = instance
        async with instance.lock:
            try:
                instance.submission_id = await anyio.to_thread.run_sync(
                    self.store.start_submission, instance_id, record.id, env_id, list(self.config.seeds),
                    self.config.max_steps, client_version, self.config.engine,
                )
            except BaseException:
                self._instances.pop(instance_id, None)
                raise
            try:
                instance.worker = EnvWorker(env_id, self.env_kwargs, self.config.project)
                await anyio.to_thread.run_sync(instance.worker.wait_ready, self.config.create_timeout)
            except WorkerError as error:
                await self._end(instance, error.message)
                status = 400 if error.kind == "unavailable" else 503
                raise GraderError(status, error.message) from None
        instance.last_request = time.monotonic()  # idle time counts from the answer
        return instance_id

    async def monitor_start(self, instance_id: str) -> None:
        """Accepted before the first reset (the original client starts the monitor right away)."""
        instance = self._instance(instance_id)
        if instance.index >= 0:
            raise GraderError(
                409, "the monitor can only be started before the first reset: a submission cannot be restarted"
            )

    async def reset(self, instance_id: str) -> Any:
        """Start the next simulation and return its first observation, or ``None`` after the last."""
        instance = self._instance(instance_id)
        async with instance.lock:
            self._check_alive(instance)
            if instance.running:
                raise GraderError(
                    409, f"simulation {instance.index + 1} of {self.simulations} is not done yet: "
                    "step until done is true, then reset",
                )
            if instance.index + 1 >= self.simulations:
                instance.index = self.simulations
                return None
            instance.index += 1
            seed = self.config.seeds[instance.index]
            observation = await self._call(
                instance, ("reset", seed), self.config.create_timeout, f"reset of simulation {instance.index + 1}"
            )
            instance.running, instance.reward, instance.steps = True, 0.0, 0
            instance.started = time.monotonic()
            return observation

    async def step(self, instance_id: str, action: list[float]) -> dict[str, Any]:
        """Step instance ``instance_id``'s simulation with ``action``; returns the step's response."""
        instance = self._instance(instance_id)
        async with instance.lock:
            self._check_alive(instance)
            if instance.submitted:
                raise GraderError(409, "this submission was already scored; create a new instance")
            if instance.index < 0:
                raise GraderError(409, "no simulation is running: call reset first")
            if not instance.running:
                raise GraderError(
                    409, f"simulation {min(instance.index, self.simulations - 1) + 1} is done: "
                    "call reset to start the next one (step after done is not allowed)",
                )
            observation, reward, done, info = await self._call(
                instance, ("step", action), self.config.step_timeout, f"step {instance.steps + 1}"
            )
            instance.steps += 1
            if reward is None:
                # NaN/inf (sent as null): the simulation broke down; it ends, and the step scores 0.
                done, info = True, {**info, "invalid_reward": True}
                await self._end_simulation(instance, "invalid_reward")
                return {"observation": observation, "reward": None, "done": True, "info": info}
            instance.reward += reward
            if instance.steps >= self.config.max_steps and not done:
                done = True
                info = {**info, "max_steps_reached": True}
                await self._end_simulation(instance, "max_steps")
            elif done:
                await self._end_simulation(instance, "done")
            return {"observation": observation, "reward": reward, "done": done, "info": info}

    async def _end_simulation(self, instance: _Instance, ended_by: str) -> None:
        instance.running = False
        seconds = time.monotonic() - instance.started
        instance.rewards.append(instance.reward)
        instance.seconds.append(seconds)
        await anyio.to_thread.run_sync(
            self.store.record_simulation, instance.submission_id, instance.index,
            self.config.seeds[instance.index], instance.reward, instance.steps, seconds, ended_by,
        )

    async def monitor_close(self, instance_id: str) -> dict[str, Any]:
        """Score the submission: the total reward over all simulations."""
        instance = self._instance(instance_id)
        async with instance.lock:
            self._check_alive(instance)
            if instance.submitted:
                raise GraderError(409, f"this submission was already scored (total reward {instance.total})")
            finished = len(instance.rewards)
            if finished < self.simulations:
                raise GraderError(
                    409, f"the submission is incomplete: {finished} of {self.simulations} simulations "
                    "finished; step until done and reset until reset returns null, then submit",
                )
            total = float(sum(instance.rewards))
            await anyio.to_thread.run_sync(self.store.finish_submission, instance.submission_id, total)
            instance.submitted, instance.total = True, total
            return {
                "reward": total,
                "mean_reward": total / self.simulations,
                "simulation_rewards": list(instance.rewards),
                "simulation_times": list(instance.seconds),
                "submission_id": instance.submission_id,
                "engine": self.config.engine,
            }

    async def close(self, instance_id: str) -> None:
        """End instance ``instance_id`` at the client's request (unscored if not submitted)."""
        instance = self._instance(instance_id)
        async with instance.lock:
            self._check_alive(instance)
            reason = "closed by the client"
            if not instance.submitted:
                reason += f" after {len(instance.rewards)} of {self.simulations} simulations, before submitting"
            await self._end(instance, reason)

    def _check_alive(self, instance: _Instance) -> None:
        """Raise if the instance ended while this request waited for its lock."""
        if instance.id not in self._instances:
            raise GraderError(410, f"instance {instance.id!r} no longer exists: {self._gone.get(instance.id)}")

    # -- housekeeping -----------------------------------------------------------------------------

    async def reclaim_idle(self) -> list[str]:
        """End instances without a request for ``idle_timeout`` seconds; returns their ids."""
        now = time.monotonic()
        idle = [
            item for item in list(self._instances.values())
            if not item.lock.locked() and now - item.last_request > self.config.idle_timeout
        ]
        for instance in idle:
            await self._end(
                instance, f"reclaimed after {self.config.idle_timeout:g} s without requests",
            )
        return [item.id for item in idle]

    async def shutdown(self) -> None:
        """End every live instance (the grader is stopping)."""
        for instance in list(self._instances.values()):
            await self._end(instance, "the grader shut down before the submission ended")

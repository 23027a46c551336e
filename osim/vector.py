"""Parallel stepping: environments in worker processes, stepped together (:class:`OsimVectorEnv`)
or each as soon as it is ready (:class:`EnvPool`).

``gymnasium.make_vec("osim/L2Run-v0", num_envs=4)`` (no ``vectorization_mode``, so every osim id's
vector entry point) gives an :class:`OsimVectorEnv`: Gymnasium's ``AsyncVectorEnv`` with one change,
in how a worker waits for its next command. Gymnasium's worker blocks on its pipe at once; ours
polls it for up to ``wait_spin_seconds`` first, then blocks.

Why: the envs of a vector env step in lockstep, so every step each worker but the slowest waits
for the others, and then for the parent's next actions. A worker that blocks lets its core go
idle. On a virtual machine an idle virtual CPU is handed back to the host, and getting it back (and
re-warming the caches someone else used meanwhile) costs time on every step. Measured on a
2-core VM with 2 workers (``python benchmarks/run_suite.py vector``, docs/performance.md): with
Gymnasium's worker 11 % of the workers' time went idle and the vector env reached 0.86 of the
throughput of the same envs in independent processes; with polling, 1-2 % and 0.90-0.95 (two
runs). On dedicated
cores, where waking an idle core costs little, the gain should be smaller (not measured here).

:class:`EnvPool` goes further for loops that do not need lockstep: its ``recv`` returns the first
envs that are ready, and only those get new actions.

Polling is only worth it while every worker has a core of its own: by default it is on (20 ms)
when ``num_envs`` is at most the number of CPUs this process may run on, and off otherwise. While
polling, a worker yields its CPU to any other runnable process, so the parent (computing the next
actions) is not crowded out.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, Self, SupportsFloat

import gymnasium
from gymnasium.vector import AsyncVectorEnv

#: how long an idle worker polls its pipe before blocking, when every worker has a core of its own
DEFAULT_WAIT_SPIN_SECONDS = 0.02


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _wait_spin(wait_spin_seconds: float | None, num_envs: int) -> float:
    """``wait_spin_seconds`` checked, or (None) the default for ``num_envs`` workers: poll only while
    every worker has a CPU of its own."""
    if wait_spin_seconds is None:
        return DEFAULT_WAIT_SPIN_SECONDS if num_envs <= usable_cpus() else 0.0
    if not wait_spin_seconds >= 0:  # also refuses NaN
        raise ValueError(f"wait_spin_seconds must be a number of seconds >= 0, got {wait_spin_seconds!r}")
    return float(wait_spin_seconds)


class _PollingConnection:
    """A worker's end of its pipe, whose ``recv`` polls for up to ``spin_seconds`` before blocking."""

    __slots__ = ("_connection", "_spin_seconds")

    def __init__(self, connection: Any, spin_seconds: float) -> None:
        self._connection = connection
        self._spin_seconds = spin_seconds

    def recv(self) -> Any:
        connection = self._connection
        if not connection.poll(0):
            deadline = time.perf_counter() + self._spin_seconds
            while not connection.poll(0) and time.perf_counter() < deadline:
                os.sched_yield()  # let a runnable process (the parent) have this CPU meanwhile
        return connection.recv()

    def __getattr__(self, name: str) -> Any:  # send, close, poll, ...: the pipe's own
        return getattr(self._connection, name)


class PollingWorker:
    """An ``AsyncVectorEnv`` worker: Gymnasium's own worker loop, reading commands through a
    :class:`_PollingConnection`. A picklable object, so that it works with every start method."""

    def __init__(self, spin_seconds: float) -> None:
        self.spin_seconds = spin_seconds

    def __call__(self, index: int, env_fn: Callable[[], gymnasium.Env], pipe: Any, parent_pipe: Any,
                 shared_memory: Any, error_queue: Any, *args: Any) -> None:
        # The worker loop is Gymnasium's (the protocol with the parent is its business); its extra
        # arguments (the autoreset mode in 1.x) pass through unchanged.
        """Run gymnasium's worker loop on a pipe end whose ``recv`` polls first."""
        from gymnasium.vector.async_vector_env import _async_worker

        # A Connection by duck typing (recv polls first, the rest delegates); gymnasium annotates the
        # parameter with the concrete class.
        _async_worker(index, env_fn, _PollingConnection(pipe, self.spin_seconds),  # type: ignore[arg-type]
                      parent_pipe, shared_memory, error_queue, *args)


class OsimVectorEnv(AsyncVectorEnv):
    """``AsyncVectorEnv`` whose idle workers poll before blocking (see the module docstring).

    Args:
        env_fns: one function per env that builds it (in the worker process).
        wait_spin_seconds: how long an idle worker polls its pipe before blocking; ``0`` is
            Gymnasium's behaviour; ``None`` (default): :data:`DEFAULT_WAIT_SPIN_SECONDS` when
            ``len(env_fns)`` is at most :func:`usable_cpus`, else 0.
        **kwargs: ``AsyncVectorEnv``'s (``shared_memory``, ``context``, ``autoreset_mode``, ...),
            except ``worker``.
    """

    def __init__(self, env_fns: Sequence[Callable[[], gymnasium.Env]], wait_spin_seconds: float | None = None,
                 **kwargs: Any) -> None:
        if "worker" in kwargs:
            raise TypeError("OsimVectorEnv brings its own worker; use gymnasium.vector.AsyncVectorEnv for another")
        self.wait_spin_seconds = _wait_spin(wait_spin_seconds, len(env_fns))
        worker = PollingWorker(self.wait_spin_seconds) if self.wait_spin_seconds > 0 else None
        super().__init__(env_fns, worker=worker, **kwargs)


def _time_limited(env_fn: Callable[[], gymnasium.Env], max_episode_steps: int) -> gymnasium.Env:
    return gymnasium.wrappers.TimeLimit(env_fn(), max_episode_steps=max_episode_steps)


def make_vector_env(num_envs: int, wait_spin_seconds: float | None = None,
                    vector_options: dict[str, Any] | None = None, **env_kwargs: Any) -> OsimVectorEnv:
    """The vector entry point of every osim id (``gymnasium.make_vec(id, num_envs, **kwargs)``).

    ``env_kwargs`` are the id's registered keyword arguments plus the caller's, as for
    ``gymnasium.make``; ``vector_options`` go to :class:`OsimVectorEnv` (``context``,
    ``shared_memory``, ...)."""
    from osim.env.gym_adapter import OsimGymEnv

    if not isinstance(num_envs, int) or num_envs < 1:
        raise ValueError(f"num_envs must be a positive number of environments, got {num_envs!r}")
    max_episode_steps = env_kwargs.pop("max_episode_steps", None)  # the id's (registration) or the caller's
    env_fn: Callable[[], gymnasium.Env] = partial(OsimGymEnv, **env_kwargs)
    if max_episode_steps is not None:
        env_fn = partial(_time_limited, env_fn, max_episode_steps)
    return OsimVectorEnv([env_fn] * num_envs, wait_spin_seconds=wait_spin_seconds, **(vector_options or {}))


def _pool_worker(env_fn: Callable[[], gymnasium.Env], connection: Any, spin_seconds: float) -> None:
    """An :class:`EnvPool` worker: reset on ("reset", seed), step on ("step", action) with next-step
    autoreset, stop on ("close", None); every reply is ("ok", (observation, reward, terminated,
    truncated, info)) or ("error", traceback text)."""
    import traceback

    pipe = _PollingConnection(connection, spin_seconds) if spin_seconds > 0 else connection
    env, needs_reset = None, False
    reward: SupportsFloat
    try:
        env = env_fn()
        while True:
            command, data = pipe.recv()
            if command == "close":
                break
            try:
                if command == "reset" or needs_reset:
                    observation, info = env.reset(seed=data) if command == "reset" else env.reset()
                    reward, terminated, truncated = 0.0, False, False
                else:
                    observation, reward, terminated, truncated, info = env.step(data)
                needs_reset = terminated or truncated
                pipe.send(("ok", (observation, float(reward), bool(terminated), bool(truncated), info)))
            except Exception:  # noqa: BLE001  (any env error goes to the parent, which raises it naming the env)
                pipe.send(("error", traceback.format_exc()))
    except (EOFError, KeyboardInterrupt):  # the parent went away
        pass
    finally:
        if env is not None:
            env.close()
        connection.close()


class EnvPool:
    """``num_envs`` environments in worker processes that never wait for each other.

    A vector env steps all its envs together, so each step lasts as long as its slowest env. Here
    :meth:`recv` returns the first ``batch_size`` envs that are ready and :meth:`send` gives actions
    to those envs only (the asynchronous interface of EnvPool, the C++ library): with
    ``batch_size < num_envs`` the rest keep stepping meanwhile. Each env follows Gymnasium's
    next-step autoreset: the action sent after an episode ended is not used, the env resets.

    Usage::

        pool = EnvPool("osim/L2Run-v0", num_envs=4, batch_size=2)
        pool.async_reset(seed=0)                  # env i is seeded with seed + i
        for _ in range(1000):
            observations, rewards, terminated, truncated, info = pool.recv()
            pool.send(policy(observations), info["env_id"])
        pool.close()

    Args:
        env_id: a registered id (``gymnasium.make(env_id, **env_kwargs)`` in each worker).
        num_envs: worker processes, one env each.
        batch_size: envs per :meth:`recv` (default ``num_envs``, i.e. lockstep).
        wait_spin_seconds: as for :class:`OsimVectorEnv`.
        context: multiprocessing start method (default: the platform's).
        **env_kwargs: keyword arguments of ``gymnasium.make``.
    """

    def __init__(self, env_id: str, num_envs: int, batch_size: int | None = None,
                 wait_spin_seconds: float | None = None, context: str | None = None, **env_kwargs: Any) -> None:
        import multiprocessing

        if not isinstance(num_envs, int) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive number of environments, got {num_envs!r}")
        batch_size = num_envs if batch_size is None else batch_size
        if not isinstance(batch_size, int) or not 1 <= batch_size <= num_envs:
            raise ValueError(f"batch_size must be a number of envs from 1 to num_envs={num_envs}, got {batch_size!r}")
        spin_seconds = _wait_spin(wait_spin_seconds, num_envs)
        probe = gymnasium.make(env_id, **env_kwargs)  # fails here, clearly, on a bad id or argument
        self.single_observation_space, self.single_action_space = probe.observation_space, probe.action_space
        probe.close()
        self.num_envs, self.batch_size = num_envs, batch_size
        multiprocessing_context = multiprocessing.get_context(context)
        self._connections, self._processes = [], []
        for _ in range(num_envs):
            parent_end, worker_end = multiprocessing_context.Pipe()
            # typeshed's BaseContext lacks Process, which every concrete context has.
            process = multiprocessing_context.Process(  # type: ignore[attr-defined]
                target=_pool_worker, args=(partial(gymnasium.make, env_id, **env_kwargs), worker_end, spin_seconds),
                daemon=True)
            process.start()
            worker_end.close()
            self._connections.append(parent_end)
            self._processes.append(process)
        self._env_of: dict[object, int] = {connection: index for index, connection in enumerate(self._connections)}
        self._busy: set[int] = set()  # envs with a command in flight
        self._ready: list[tuple[int, tuple[Any, ...]]] = []  # replies received, not yet returned
        self._closed = False

    @property
    def worker_pids(self) -> list[int]:
        """Process ids of the workers, env 0 first."""
        return [process.pid for process in self._processes]

    def async_reset(self, seed: int | Sequence[int] | None = None) -> None:
        """Reset every env (env ``i`` with ``seed + i``, or with ``seed[i]`` given one per env); their
        first observations come from :meth:`recv`."""
        self._check_open()
        if seed is None or isinstance(seed, int):
            seeds: list[int | None] = [None if seed is None else seed + index for index in range(self.num_envs)]
        else:
            seeds = list(seed)
            if len(seeds) != self.num_envs:
                raise ValueError(f"expected one seed per env ({self.num_envs}), got {len(seeds)}")
        if self._busy or self._ready:
            raise RuntimeError("async_reset expects every env idle: recv the replies still in flight first")
        for index, env_seed in enumerate(seeds):
            self._send(index, "reset", env_seed)

    def send(self, actions: Any, env_ids: Any) -> None:
        """Give ``actions[k]`` to env ``env_ids[k]``; those envs must have been returned by :meth:`recv`."""
        import numpy as np

        self._check_open()
        ids = [int(index) for index in np.asarray(env_ids).reshape(-1)]
        actions = list(actions)  # one per env; each env checks its own
        if len(actions) != len(ids):
            raise ValueError(f"expected one action per env id, got {len(actions)} actions for {len(ids)} ids")
        for index in ids:
            if not 0 <= index < self.num_envs or index in self._busy or any(index == i for i, _ in self._ready):
                raise ValueError(f"env {index} is not waiting for an action: send to the env ids recv returned")
        for index, action in zip(ids, actions):
            self._send(index, "step", action)

    def recv(self) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        """The first ``batch_size`` envs to be ready: observations, rewards, terminated, truncated
        (arrays, one row per env) and ``{"env_id": ids, "env_info": [info, ...]}``."""
        from multiprocessing.connection import wait

        import numpy as np

        self._check_open()
        if len(self._ready) + len(self._busy) < self.batch_size:
            raise RuntimeError(f"recv expects at least batch_size={self.batch_size} envs stepping; "
                               f"{len(self._busy)} are: send actions to the envs recv returned")
        while len(self._ready) < self.batch_size:
            for ready in wait([self._connections[index] for index in self._busy]):
                index = self._env_of[ready]
                connection = self._connections[index]
                try:
                    status, payload = connection.recv()
                except EOFError:  # the worker process is gone (killed, or crashed in native code)
                    self._busy.discard(index)
                    raise RuntimeError(f"env {index}'s worker process exited (exit code "
                                       f"{self._processes[index].exitcode}); close this pool") from None
                self._busy.discard(index)
                if status == "error":
                    raise RuntimeError(f"env {index} failed in its worker:\n{payload}")
                self._ready.append((index, payload))
        batch, self._ready = self._ready[:self.batch_size], self._ready[self.batch_size:]
        ids = np.array([index for index, _ in batch])
        observations, rewards, terminated, truncated, infos = zip(*(reply for _, reply in batch))
        return (np.stack(observations), np.array(rewards), np.array(terminated), np.array(truncated),
                {"env_id": ids, "env_info": list(infos)})

    def step(self, actions: Any, env_ids: Any) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        """:meth:`send` then :meth:`recv`."""
        self.send(actions, env_ids)
        return self.recv()

    def close(self) -> None:
        """Stop the workers (idempotent)."""
        if self._closed:
            return
        self._closed = True
        for connection in self._connections:
            try:
                connection.send(("close", None))
            except (BrokenPipeError, OSError):
                pass
        for process in self._processes:
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()
        for connection in self._connections:
            connection.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _send(self, index: int, command: str, data: Any) -> None:
        try:
            self._connections[index].send((command, data))
        except (BrokenPipeError, ConnectionResetError):
            raise RuntimeError(f"env {index}'s worker process exited; close this pool") from None
        self._busy.add(index)

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this EnvPool is closed")

"""One process per environment instance, so OpenSim never blocks or crashes the server.

The server talks to each worker through a pipe: ``("reset", seed)``, ``("step", action)``,
``("close",)``. Replies are ``("ok", value)`` or ``("error", kind, message)`` where ``kind`` is
``"bad_request"`` (the caller's fault: wrong action), ``"conflict"`` (the episode has ended),
``"unavailable"`` (the environment cannot be built) or ``"internal"``. Values are JSON-safe: NumPy
arrays and scalars become lists and numbers, non-finite floats become ``None``.

A step that takes longer than its timeout gets the process killed (a thread could not be stopped);
a worker whose server dies sees its pipe close and exits.
"""
from __future__ import annotations

import inspect
import math
import multiprocessing
import multiprocessing.connection
from typing import Any

#: Environment ids of the original graders that are not class names.
ENV_ALIASES = {"Run": "RunEnv"}


class WorkerError(Exception):
    """A request the worker could not serve; ``kind`` says whose fault (see the module docstring)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def jsonable(value: Any) -> Any:
    """``value`` with NumPy types turned into plain Python and NaN/inf into ``None``."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    tolist = getattr(value, "tolist", None)  # NumPy arrays and scalars
    if tolist is not None:
        return jsonable(tolist())
    return str(value)


def resolve_env(env_id: str) -> tuple[type, dict[str, Any]]:
    """Environment id -> (original-API class, constructor keyword arguments).

    Accepts a class name of :mod:`osim.env` (``"L2M2019Env"``), an original grader id (``"Run"``)
    or a Gymnasium id of :mod:`osim.registration` (``"osim/L2Run-v0"``). Raises ``WorkerError``
    (``"unavailable"``) naming what exists when the id cannot be resolved.
    """
    from osim.registration import ENVIRONMENT_IDS

    class_name, kwargs = ENVIRONMENT_IDS.get(env_id, (ENV_ALIASES.get(env_id, env_id), {}))
    classes = _environment_classes()
    cls = classes.get(class_name)
    if cls is None:
        available = sorted(name for name in classes if name.endswith("Env"))
        raise WorkerError(
            "unavailable",
            f"environment {env_id!r} is not available in this installation; available: {available}",
        )
    return cls, dict(kwargs)


def reset_with_seed(env: Any, seed: int, project: bool = True) -> Any:
    """Reset an original-API environment for simulation ``seed``: through ``reset(seed=)`` where the
    environment takes it (L2M2019Env), else through ``env.seed`` first."""
    if "seed" in inspect.signature(env.reset).parameters:
        return env.reset(project=project, seed=seed)
    env.seed(seed)
    return env.reset(project=project)


def _environment_classes() -> dict[str, type]:
    """Environment classes of :mod:`osim.env` and of its modules (some may not be exported yet)."""
    import importlib
    import pkgutil

    import osim.env
    from osim.env.base import OsimEnv

    modules = [osim.env]
    for info in pkgutil.iter_modules(osim.env.__path__):
        try:
            modules.append(importlib.import_module(f"osim.env.{info.name}"))
        except Exception:  # noqa: BLE001 - a broken module only hides its own environments
            continue
    return {
        name: value for module in modules for name, value in vars(module).items()
        if isinstance(value, type) and issubclass(value, OsimEnv) and value is not OsimEnv
    }


def _serve(connection: multiprocessing.connection.Connection, env: Any, project: bool) -> None:
    from osim.engine import EpisodeEndedError

    while True:
        try:
            request = connection.recv()
        except (EOFError, OSError):
            return  # the server is gone
        command = request[0]
        if command == "close":
            return
        try:
            if command == "reset":
                reply: tuple = ("ok", jsonable(reset_with_seed(env, request[1], project)))
            elif command == "step":
                observation, reward, done, info = env.step(request[1], project=project)
                reply = ("ok", (jsonable(observation), jsonable(float(reward)), bool(done), jsonable(info)))
            else:
                reply = ("error", "internal", f"unknown worker command {command!r}")
        except EpisodeEndedError as error:
            reply = ("error", "conflict", str(error))
        except (ValueError, TypeError) as error:
            reply = ("error", "bad_request", str(error))
        except Exception as error:  # noqa: BLE001 - reported to the server, which ends the instance
            reply = ("error", "internal", f"{type(error).__name__}: {error}")
        connection.send(reply)


def worker_main(
    connection: multiprocessing.connection.Connection, env_id: str, env_kwargs: dict[str, Any],
    project: bool,
) -> None:
    """Entry point of the worker process: build the environment, then serve requests."""
    try:
        cls, kwargs = resolve_env(env_id)
        kwargs.update(env_kwargs)
        kwargs["visualize"] = False
        env = cls(**kwargs)
        connection.send(("ok", {"action_size": int(env.get_action_space_size())}))
    except WorkerError as error:
        connection.send(("error", error.kind, error.message))
        return
    except Exception as error:  # noqa: BLE001 - e.g. wrong constructor arguments, OpenSim errors
        engine = f" on engine {env_kwargs['engine']!r}" if "engine" in env_kwargs else ""
        connection.send(("error", "unavailable",
                         f"could not build {env_id!r}{engine}: {type(error).__name__}: {error}"))
        return
    try:
        _serve(connection, env, project)
    finally:
        env.close()


class EnvWorker:
    """The server's handle on one worker process (not thread-safe: one call at a time).

    Args:
        env_id: environment id (see :func:`resolve_env`).
        env_kwargs: extra constructor arguments (``difficulty`` ...).
        project: ``False`` sends raw state dictionaries, as the 2018/2019 graders did.
    """

    def __init__(self, env_id: str, env_kwargs: dict[str, Any] | None = None, project: bool = True) -> None:
        context = multiprocessing.get_context("spawn")  # no fork of a threaded server
        self._connection, child = context.Pipe()
        self.process = context.Process(
            target=worker_main, args=(child, env_id, dict(env_kwargs or {}), project), daemon=True,
            name=f"osim-grader-{env_id}",
        )
        self.process.start()
        child.close()
        self.action_size: int | None = None

    def _receive(self, timeout: float, what: str) -> Any:
        try:
            if not self._connection.poll(timeout):
                self.kill()
                raise WorkerError("timeout", f"{what} took longer than {timeout:g} s; the instance was stopped")
            reply = self._connection.recv()
        except (EOFError, OSError):
            self.kill()
            raise WorkerError(
                "died", f"the simulation process ended unexpectedly during {what} "
                f"(exit code {self.process.exitcode})",
            ) from None
        if reply[0] == "error":
            raise WorkerError(reply[1], reply[2])
        return reply[1]

    def wait_ready(self, timeout: float) -> None:
        """Wait until the environment is built; raises ``WorkerError`` if it cannot be."""
        self.action_size = self._receive(timeout, "building the environment")["action_size"]

    def call(self, request: tuple, timeout: float, what: str) -> Any:
        """Send ``request`` to the simulation process and wait up to ``timeout`` s for its answer."""
        try:
            self._connection.send(request)
        except (OSError, ValueError):
            self.kill()
            raise WorkerError("died", f"the simulation process is gone (exit code {self.process.exitcode})") from None
        return self._receive(timeout, what)

    def close(self, timeout: float = 2.0) -> None:
        """Ask the worker to exit; kill it if it does not."""
        try:
            self._connection.send(("close",))
        except (OSError, ValueError):
            pass
        self.process.join(timeout)
        self.kill()

    def kill(self) -> None:
        """Kill the simulation process and close the pipe."""
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        self._connection.close()

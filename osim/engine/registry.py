"""Engines by name: ``create_engine("opensim", model, ...)`` and ``create_engine("mujoco", ...)``.

Environments take ``engine="opensim"`` (the default) or ``engine="mujoco"`` and get their simulation
from here, so that a task never knows which engine runs it. A new engine adds one entry to
:data:`ENGINES`: a function taking the environment's model (an ``.osim`` path made by
:func:`osim.models.model_path`, or for OpenSim any ``.osim`` file) and the keyword settings below.
Its module is imported only when the engine is asked for (``mujoco`` is an optional extra).
"""
from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

from .interface import Engine

#: Engine name -> "module:factory"; the factory is called as ``factory(model, **settings)``.
ENGINES: dict[str, str] = {
    "opensim": "osim.engine.simulation:Simulation",
    "mujoco": "osim.engine.mujoco.engine:MujocoSimulation",
}
DEFAULT_ENGINE = "opensim"


def engine_factory(name: str) -> Callable[..., Engine]:
    """The constructor of engine ``name``; a ``ValueError`` listing the engines if there is none."""
    if not isinstance(name, str) or name not in ENGINES:
        raise ValueError(f"engine must be one of {sorted(ENGINES)}, got {name!r}")
    module_name, attribute = ENGINES[name].split(":")
    factory: Callable[..., Engine] = getattr(import_module(module_name), attribute)
    return factory


def create_engine(name: str, model: Any, **settings: Any) -> Engine:
    """A new engine ``name`` running ``model``.

    Args:
        name: a key of :data:`ENGINES`.
        model: the model, as the engine takes it (both take a path made by :func:`osim.models.model_path`).
        settings: ``step_size`` (s), ``visualize`` and engine-specific ones (OpenSim: ``integrator``).
    """
    return engine_factory(name)(model, **settings)

"""MuJoCo models built from the project's model descriptions (issue 14 groundwork).

``build_mjcf(description)`` writes MJCF from the same descriptions :mod:`osim.models.builder`
turns into OpenSim models; ``load_model(description)`` compiles it. MuJoCo is optional: it is
imported only when a model is loaded (``pip install 'osim-rl[mujoco]'``). See docs/engines.md.
"""
from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING

from .mjcf import build_mjcf, model_description

if TYPE_CHECKING:
    import mujoco

__all__ = ["MujocoMissingError", "build_mjcf", "load_model", "model_description", "require_mujoco"]


class MujocoMissingError(ImportError):
    """The optional ``mujoco`` package is not installed."""


def require_mujoco() -> ModuleType:
    """The ``mujoco`` module, or a clear error saying how to install it."""
    try:
        import mujoco
    except ImportError as error:
        raise MujocoMissingError(
            "the MuJoCo engine needs the 'mujoco' package: pip install 'osim-rl[mujoco]'"
        ) from error
    return mujoco


def load_model(description: dict | str, **options) -> mujoco.MjModel:
    """A compiled ``mujoco.MjModel`` of a description (or of a preset name with model options)."""
    mujoco = require_mujoco()
    return mujoco.MjModel.from_xml_string(build_mjcf(description, **options))

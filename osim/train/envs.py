"""Build environments from their Gymnasium ids, with a clear error for an unknown id."""
from __future__ import annotations

from typing import Any

import gymnasium


def osim_env_ids() -> list[str]:
    """Every registered osim-rl Gymnasium id (``"osim/..."``)."""
    import osim  # noqa: F401 - importing osim registers the ids

    return sorted(env_id for env_id in gymnasium.registry if env_id.startswith("osim/"))


def make_env(
    env_id: str,
    *,
    render_mode: str | None = None,
    max_episode_steps: int | None = None,
    **env_kwargs: Any,
) -> gymnasium.Env:
    """``gymnasium.make(env_id, ...)`` after registering the osim-rl ids.

    Args:
        env_id: a Gymnasium id such as ``"osim/L2Run-v0"`` or ``"osim/Arm2D-v0"``.
        render_mode: ``None``, ``"rgb_array"`` or ``"human"`` (OpenSim's visualizer).
        max_episode_steps: end episodes (truncation) after this many steps, before the
            environment's own time limit; ``None`` keeps the environment's limit.
        **env_kwargs: constructor arguments of the environment (``difficulty``, ...).

    Raises:
        ValueError: the id is not registered, or ``max_episode_steps`` is not positive.
    """
    known = osim_env_ids()
    if env_id not in gymnasium.registry:
        raise ValueError(f"unknown environment id {env_id!r}; expected one of: {', '.join(known)}")
    if max_episode_steps is not None and max_episode_steps < 1:
        raise ValueError(f"max_episode_steps must be a positive number of steps, got {max_episode_steps}")
    return gymnasium.make(env_id, render_mode=render_mode, max_episode_steps=max_episode_steps, **env_kwargs)

"""OpenSim's own logger: quiet by default.

OpenSim 4.6 prints an ``[info]`` integration report on every ``Manager.integrate`` call. That is
per-step output in an RL loop, so the engine sets the level to ``error`` unless asked otherwise, and
drops OpenSim's default ``opensim.log`` file in the working directory.
"""
from __future__ import annotations

import os

import opensim

LOG_LEVELS = ("off", "critical", "error", "warn", "info", "debug", "trace")
DEFAULT_LOG_LEVEL = "error"
LOG_LEVEL_ENV_VAR = "OSIM_RL_OPENSIM_LOG"


def set_opensim_log_level(level: str | None = None) -> str:
    """Set OpenSim's log level and return it.

    ``level`` defaults to ``$OSIM_RL_OPENSIM_LOG`` or ``"error"``. Accepted values: one of
    :data:`LOG_LEVELS` (case-insensitive).
    """
    chosen = (level or os.environ.get(LOG_LEVEL_ENV_VAR) or DEFAULT_LOG_LEVEL).lower()
    if chosen not in LOG_LEVELS:
        raise ValueError(f"OpenSim log level must be one of {LOG_LEVELS}, got {chosen!r}")
    opensim.Logger.setLevelString(chosen)
    # OpenSim also appends to ./opensim.log by default: no stray files in the user's folder.
    opensim.Logger.removeFileSink()
    return chosen

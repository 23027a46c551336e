"""The ``report=`` CSV files of the environments: observations and actions, one row per reset/step.

The original opened ``<report>-obs.csv`` and ``<report>-act.csv`` and then crashed (2018) or wrote
unlabelled rows (2017). Here each file has a header (episode, step, then the names of the values)
and one row per reset (observations only) and per step. The files are line-buffered, so a crashed
run keeps every completed step.
"""
from __future__ import annotations

import csv
from collections.abc import Sequence
from typing import Any

import numpy as np


class CsvReport:
    """Write ``<prefix>-obs.csv`` and ``<prefix>-act.csv`` with the given column names."""

    def __init__(self, prefix: str, observation_names: Sequence[str], action_names: Sequence[str]) -> None:
        # Open for the environment's lifetime (closed by close()), hence no context manager.
        self._files = [
            open(f"{prefix}-obs.csv", "w", newline="", buffering=1),  # noqa: SIM115
            open(f"{prefix}-act.csv", "w", newline="", buffering=1),  # noqa: SIM115
        ]
        self._obs, self._act = (csv.writer(f) for f in self._files)
        self._obs.writerow(["episode", "step", *observation_names])
        self._act.writerow(["episode", "step", *action_names])
        self.episode = -1
        self.istep = 0

    def new_episode(self, observation: Sequence[float]) -> None:
        """Start a new episode in the report with its first observation."""
        self.episode += 1
        self.istep = 0
        self._obs.writerow([self.episode, 0, *observation])

    def write_step(self, observation: Sequence[float], action: Any) -> None:
        """Append a step's observation and action."""
        self.istep += 1
        self._act.writerow([self.episode, self.istep, *np.asarray(action, dtype=float).tolist()])
        self._obs.writerow([self.episode, self.istep, *observation])

    def close(self) -> None:
        """Close the two CSV files."""
        for f in self._files:
            f.close()

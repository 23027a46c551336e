"""An episode as OpenSim files: ``.sto`` states and ``.mot`` coordinates, plus what a plot needs.

:class:`EpisodeLog` keeps, for each recorded step, the time, the model's full state-variable vector
(coordinates, speeds, muscle activations and fibre lengths, ...), the reward and its named terms. It
writes:

* ``write_states(path)``: a states file (``.sto``, one column per state variable, by its full path
  such as ``/jointset/hip_r/hip_flexion_r/value``, radians) that OpenSim's ``StatesTrajectory``,
  ``TimeSeriesTable`` and the GUI ("Load Motion") read;
* ``write_coordinates(path)``: a motion file (``.mot``, one column per coordinate by its name,
  rotational coordinates in degrees, ``inDegrees=yes``) as produced by OpenSim's own tools.

Recording a step reads one vector from the engine (``state_variable_values()``); nothing is written
until the episode ends. Only the :class:`~osim.engine.Engine` protocol is used (names, order and
motion types from :attr:`~osim.engine.Engine.structure`), so an episode on ``engine="mujoco"`` is
written with the same OpenSim column names and opens in OpenSim's GUI on the same model.
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from osim.engine.files import write_sto
from osim.engine.interface import Engine


def engine_of(env: Any) -> Engine:
    """The engine behind an environment (generic or original-API), its Gymnasium adapter, or an engine.

    Works for every engine of :mod:`osim.engine.registry` (``opensim``, ``mujoco``): the
    environment's ``engine`` attribute comes first, then the original's ``osim_model``.
    """
    inner = getattr(env, "osim_env", env)
    for candidate in (getattr(inner, "engine", None), getattr(inner, "osim_model", None), inner):
        if candidate is not None and not isinstance(candidate, str) and isinstance(candidate, Engine):
            return candidate
    raise TypeError(
        "expected an osim environment (with .engine or .osim_model), its Gymnasium adapter or an "
        f"engine (osim.engine.Engine), got {type(env).__name__}"
    )


#: The earlier name of :func:`engine_of` (it returned OpenSim simulations only).
simulation_of = engine_of


class EpisodeLog:
    """States, rewards and reward terms of one episode, recorded step by step.

    Args:
        env: an environment on any engine, its Gymnasium adapter, or an engine.
    """

    def __init__(self, env: Any) -> None:
        self.sim = engine_of(env)
        structure = self.sim.structure
        self.state_names: list[str] = list(structure.state_variables)
        self.coordinate_names = [c.name for c in structure.coordinates]
        # Coupled coordinates (the knee translations' drivers) are angles too.
        self.coordinate_rotational = [c.motion_type != "translational" for c in structure.coordinates]
        self._coordinate_columns = [c.value_column for c in structure.coordinates]
        self.muscle_names = list(self.sim.muscle_names)
        self._activation_columns = [-1 if m.activation_column is None else m.activation_column
                                    for m in structure.muscles]
        self.times: list[float] = []
        self._states: list[np.ndarray] = []
        self.rewards: list[float] = []
        self.reward_terms: list[dict[str, float]] = []

    def __len__(self) -> int:
        return len(self.times)

    def record(self, reward: float | None = None, reward_terms: dict[str, float] | None = None) -> None:
        """Add the simulation's current state (and the reward that led to it, if any)."""
        if getattr(self.sim, "state", True) is None:  # OpenSim before its first reset
            raise RuntimeError("the simulation has no state yet: call reset() first")
        values = self.sim.state_variable_values()
        self.times.append(self.sim.time)
        self._states.append(np.array(values, dtype=float))
        self.rewards.append(float("nan") if reward is None else float(reward))
        self.reward_terms.append(dict(reward_terms or {}))

    # -- arrays ---------------------------------------------------------------------------------

    def _require_data(self) -> None:
        if not self.times:
            raise ValueError("the episode log is empty: call record() after reset and after each step")

    @property
    def states(self) -> np.ndarray:
        """(n_records, n_state_variables), in the order of :attr:`state_names`."""
        return np.array(self._states).reshape(len(self._states), len(self.state_names))

    @property
    def coordinates(self) -> np.ndarray:
        """(n_records, n_coordinates) coordinate values (radians / metres)."""
        return self.states[:, self._coordinate_columns]

    @property
    def activations(self) -> np.ndarray:
        """(n_records, n_muscles) muscle activations (NaN for muscles without an activation state)."""
        states = self.states
        out = np.full((len(states), len(self.muscle_names)), np.nan)
        for j, column in enumerate(self._activation_columns):
            if column >= 0:
                out[:, j] = states[:, column]
        return out

    # -- files ----------------------------------------------------------------------------------

    def write_states(self, path: str | os.PathLike[str]) -> None:
        """Write every state variable (radians, metres) as an OpenSim states file (``.sto``)."""
        self._require_data()
        write_sto(path, self.state_names, self.times, self.states, in_degrees=False, header="osim-rl states")

    def write_coordinates(self, path: str | os.PathLike[str]) -> None:
        """Write the coordinates as an OpenSim motion file (``.mot``, rotations in degrees)."""
        self._require_data()
        values = self.coordinates.copy()
        rotational = np.array(self.coordinate_rotational)
        values[:, rotational] = np.degrees(values[:, rotational])
        write_sto(path, self.coordinate_names, self.times, values, in_degrees=True, header="osim-rl coordinates")

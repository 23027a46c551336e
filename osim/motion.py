"""An episode as OpenSim files: ``.sto`` states and ``.mot`` coordinates, plus what a plot needs.

:class:`EpisodeLog` keeps, for each recorded step, the time, the model's full state-variable vector
(coordinates, speeds, muscle activations and fibre lengths, ...), the reward and its named terms. It
writes:

* ``write_states(path)``: a states file (``.sto``, one column per state variable, by its full path
  such as ``/jointset/hip_r/hip_flexion_r/value``, radians) that OpenSim's ``StatesTrajectory``,
  ``TimeSeriesTable`` and the GUI ("Load Motion") read;
* ``write_coordinates(path)``: a motion file (``.mot``, one column per coordinate by its name,
  rotational coordinates in degrees, ``inDegrees=yes``) as produced by OpenSim's own tools.

Recording a step reads one vector from OpenSim (``getStateVariableValues``); nothing is written
until the episode ends.
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np
import opensim

from osim.engine.simulation import Simulation


def simulation_of(env: Any) -> Simulation:
    """The engine simulation behind an original-API env, a Gymnasium adapter or a Simulation."""
    if isinstance(env, Simulation):
        return env
    inner = getattr(env, "osim_env", env)
    sim = getattr(inner, "osim_model", None)
    if not isinstance(sim, Simulation):
        raise TypeError(
            "expected an osim environment (with .osim_model), its Gymnasium adapter or an "
            f"osim.engine.Simulation, got {type(env).__name__}"
        )
    return sim


class EpisodeLog:
    """States, rewards and reward terms of one episode, recorded step by step.

    Args:
        env: an original-API environment, its Gymnasium adapter, or a Simulation.
    """

    def __init__(self, env: Any) -> None:
        self.sim = simulation_of(env)
        model = self.sim.model
        names = model.getStateVariableNames()
        self.state_names: list[str] = [names.get(i) for i in range(names.getSize())]
        index = {name: i for i, name in enumerate(self.state_names)}
        coordinates = model.getCoordinateSet()
        self.coordinate_names: list[str] = []
        self.coordinate_rotational: list[bool] = []
        self._coordinate_columns: list[int] = []
        for i in range(coordinates.getSize()):
            coordinate = coordinates.get(i)
            self.coordinate_names.append(coordinate.getName())
            # Rotational = 1; coupled coordinates (knee translations' drivers) are angles too.
            self.coordinate_rotational.append(coordinate.getMotionType() != 2)
            self._coordinate_columns.append(index[coordinate.getAbsolutePathString() + "/value"])
        self.muscle_names = list(self.sim.muscle_names)
        muscles = model.getMuscles()
        self._activation_columns = []
        for j in range(muscles.getSize()):
            column = index.get(muscles.get(j).getAbsolutePathString() + "/activation")
            self._activation_columns.append(-1 if column is None else column)
        self.times: list[float] = []
        self._states: list[np.ndarray] = []
        self.rewards: list[float] = []
        self.reward_terms: list[dict[str, float]] = []

    def __len__(self) -> int:
        return len(self.times)

    def record(self, reward: float | None = None, reward_terms: dict[str, float] | None = None) -> None:
        """Add the simulation's current state (and the reward that led to it, if any)."""
        state = self.sim.state
        if state is None:
            raise RuntimeError("the simulation has no state yet: call reset() first")
        values = self.sim.model.getStateVariableValues(state).to_numpy()
        self.times.append(state.getTime())
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

    def _table(self, labels: list[str], values: np.ndarray, in_degrees: bool, name: str) -> opensim.TimeSeriesTable:
        table = opensim.TimeSeriesTable()
        table.setColumnLabels(labels)
        for time, row in zip(self.times, values):
            table.appendRow(time, opensim.RowVector.createFromMat(np.ascontiguousarray(row)))
        table.addTableMetaDataString("inDegrees", "yes" if in_degrees else "no")
        table.addTableMetaDataString("header", name)
        return table

    def write_states(self, path: str | os.PathLike[str]) -> None:
        """Write every state variable (radians, metres) as an OpenSim states file (``.sto``)."""
        self._require_data()
        table = self._table(self.state_names, self.states, False, "osim-rl states")
        opensim.STOFileAdapter.write(table, os.fspath(path))

    def write_coordinates(self, path: str | os.PathLike[str]) -> None:
        """Write the coordinates as an OpenSim motion file (``.mot``, rotations in degrees)."""
        self._require_data()
        values = self.coordinates.copy()
        rotational = np.array(self.coordinate_rotational)
        values[:, rotational] = np.degrees(values[:, rotational])
        table = self._table(self.coordinate_names, values, True, "osim-rl coordinates")
        opensim.STOFileAdapter.write(table, os.fspath(path))

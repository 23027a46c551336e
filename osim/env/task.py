"""What a task is: initial state, observation, reward and termination of one environment.

A :class:`Task` (dm_control's ``Task``, MyoSuite's reward dict) says *what* an episode is about;
:class:`osim.env.environment.Environment` runs it on an engine (stepping, resets, simulation
failures, reports, rendering, seeding). A task talks to the simulation only through the
:class:`osim.engine.Engine` protocol, so the same task runs on any engine.

* **Observation**: a tuple of named :class:`ObservationPart`; the flat vector's size, its entry
  names, its bounds and the documentation table are all derived from it
  (:class:`ObservationLayout`), never typed by hand.
* **Reward**: :meth:`Task.reward` returns a :class:`Reward`, the total and its terms by name; the
  weights are data (:attr:`Task.reward_weights`) that the docs tables show.
* **Termination**: :meth:`Task.termination` returns the reason the episode ended, or ``None``.

A new task subclasses :class:`Task` in its own module under ``osim/env/`` (see docs/architecture.md).
"""
from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from osim.engine import Engine, IntegratorSettings, StateArrays, StateDescription

#: What a task's observation, reward, termination and after_step compute from: the state
#: description, or the engine's :class:`~osim.engine.StateArrays` for a task with ``array_based``.
TaskState = Any


@dataclass(frozen=True)
class ObservationPart:
    """A named run of consecutive entries of the observation vector.

    Attributes:
        name: the part's name (``"pelvis"``, ``"v_tgt_field"``).
        entries: the names of its entries, in order (their count is the part's size).
        description: what the entries are, with units (one line of the docs table).
        low, high: bounds of every entry (a number for all of them, or one per entry).
    """

    name: str
    entries: tuple[str, ...]
    description: str
    low: float | tuple[float, ...] = -np.inf
    high: float | tuple[float, ...] = np.inf

    @property
    def size(self) -> int:
        """Number of entries."""
        return len(self.entries)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """(low, high) arrays of the part's entries."""
        low = np.broadcast_to(np.asarray(self.low, dtype=np.float64), (self.size,))
        high = np.broadcast_to(np.asarray(self.high, dtype=np.float64), (self.size,))
        return low, high


def part(name: str, entries: Sequence[str], description: str, **bounds: Any) -> ObservationPart:
    """An :class:`ObservationPart` from any sequence of entry names."""
    return ObservationPart(name, tuple(entries), description, **bounds)


@dataclass(frozen=True)
class ObservationLayout:
    """The observation vector as the concatenation of its named parts."""

    parts: tuple[ObservationPart, ...]

    @property
    def size(self) -> int:
        """Length of the flat observation vector."""
        return sum(p.size for p in self.parts)

    def names(self) -> list[str]:
        """The name of every entry of the flat vector, in order."""
        return [entry for p in self.parts for entry in p.entries]

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """(low, high) of the flat vector."""
        if not self.parts:
            return np.zeros(0), np.zeros(0)
        lows, highs = zip(*(p.bounds() for p in self.parts))
        return np.concatenate(lows), np.concatenate(highs)

    def index_ranges(self) -> list[tuple[int, int, ObservationPart]]:
        """(first index, last index, part) of every part."""
        ranges, start = [], 0
        for p in self.parts:
            ranges.append((start, start + p.size - 1, p))
            start += p.size
        return ranges


@dataclass(frozen=True)
class Reward:
    """A step's reward: ``total`` as the task computes it, and its ``terms`` by name.

    ``total`` is computed by the task in its own arithmetic order (the original's, bit for bit);
    ``terms`` are the weighted contributions reported alongside (``info["reward_terms"]``).
    """

    total: float
    terms: dict[str, float] = field(default_factory=dict)


#: The reward of a step without reward terms.
NO_REWARD = Reward(0.0, {})


class Task:
    """One environment's task, engine-independent. Subclasses override what differs.

    Class attributes are the task's data: the model it runs on, its time limit, its reward
    weights. ``reward_weights`` maps each reward term to its weight (documentation and the
    computation both read it); ``failure_reward`` is the reward of a step in which the engine
    failed.
    """

    #: The model (a path made by :func:`osim.models.model_path`); set by the subclass or __init__.
    model: Any = None
    #: Steps per episode (truncation).
    time_limit: int | float = 1e10
    #: The control interval (s).
    step_size: float = 0.01
    #: The engine's integrator when the environment is not given one (None: the engine's default).
    integrator: IntegratorSettings | None = None
    #: Reward of a step in which the simulation failed.
    failure_reward: float = 0.0
    #: Reward term -> weight.
    reward_weights: Mapping[str, float] = {}
    #: Termination reason -> what it means (for the docs).
    termination_reasons: Mapping[str, str] = {}
    #: True: the hooks get the engine's :class:`~osim.engine.StateArrays` (``previous``: those of the
    #: state before the step) instead of state descriptions, and the description is built only when
    #: someone asks for it (what makes a step on a fast engine cheap).
    array_based: bool = False

    #: The observation's named parts: class data for a fixed layout, set by :meth:`engine_loaded`
    #: when it depends on the model.
    layout: ObservationLayout = ObservationLayout(())

    def observation_layout(self) -> ObservationLayout:
        """The named parts of the observation vector (:attr:`layout`)."""
        return self.layout

    def engine_loaded(self, engine: Engine) -> None:
        """Read what the task needs from a newly made engine (its structure); nothing by default."""

    def initialize_episode(self, engine: Engine, np_random: np.random.RandomState, py_random: random.Random) -> None:
        """Draw the episode's randomness and put the engine in its initial state (default: the default pose)."""
        engine.reset()

    def describe(self, engine: Engine) -> StateDescription:
        """The state description the task computes from (default: the engine's)."""
        return engine.state_description()

    def describe_state(self, arrays: StateArrays) -> StateDescription:
        """The description of the state of ``arrays`` (one the engine may have stepped past), as
        :meth:`describe` gives it for the current state."""
        return arrays.description()

    def excitations(self, action: Any, engine: Engine) -> Any:
        """The engine's excitations for ``action`` (default: the action itself, one per muscle)."""
        return action

    def n_actions(self, engine: Engine) -> int:
        """Length of the action vector (default: one per muscle)."""
        return engine.n_muscles

    def observation(self, engine: Engine, description: TaskState) -> list[float]:
        """The flat observation vector of the current state (``description``)."""
        return []

    def reward(self, engine: Engine, description: TaskState, previous: TaskState | None) -> Reward:
        """The step's reward; ``previous`` is the description before the step (None right after reset)."""
        return NO_REWARD

    def termination(self, engine: Engine, description: TaskState) -> str | None:
        """Why the episode has ended (a key of :attr:`termination_reasons`), or None if it goes on."""
        return None

    def after_step(self, engine: Engine, description: TaskState) -> None:
        """Update the task's own state after a successful step (footsteps, targets); nothing by default."""


def task_attribute(name: str, doc: str) -> Any:
    """A property of an environment that is its task's attribute ``name`` (the original's names on the env)."""

    def get(env: Any) -> Any:
        return getattr(env.task, name)

    def set_(env: Any, value: Any) -> None:
        setattr(env.task, name, value)

    return property(get, set_, doc=doc)

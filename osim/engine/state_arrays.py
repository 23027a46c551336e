"""What tasks compute from, as NumPy arrays: :class:`StateArrays`, one engine state's cached view.

Building the state-description dictionary (about 400 Python floats in nested dicts) costs more
than a MuJoCo step. Tasks that need only a few quantities read them from an engine's
:meth:`~osim.engine.interface.Engine.state_arrays` instead; the dictionary is built only when
someone asks for it (:meth:`StateArrays.description`), and it holds the same values (the engines
build it from the same computation).

Every array is in the order of the engine's :class:`~osim.engine.interface.ModelStructure`:

=================================  ===============================================================
attribute                          content
=================================  ===============================================================
``q``, ``qd``                      coordinate values and speeds, ``structure.coordinates`` order
``body_pos``, ``body_vel``         (n_bodies, 3) origin of each body of ``structure.bodies`` and
                                   its linear velocity, ground frame (m, m/s)
``mass_center_pos``/``_vel``       (3,) the model's centre of mass and its velocity
``activation``, ``fiber_length``,  per muscle of ``structure.muscles``: the state description's
``fiber_velocity``,                ``muscles`` values
``fiber_force``
=================================  ===============================================================

:meth:`StateArrays.force` gives one force's record values (the description's ``forces`` entry),
:meth:`StateArrays.ground_force` its first three (a foot's force on the ground), without the rest.
The arrays are the engine's copies: they do not change when the engine steps on, so a task may
keep the view of the state before a step (its reward compares the two states).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from .interface import StateDescription


class StateSource(Protocol):
    """What an engine gives a :class:`StateArrays` of one of its states (on demand)."""

    def describe_arrays(self, arrays: StateArrays) -> StateDescription:
        """The state description of the state ``arrays`` was made of."""
        ...

    def force_record(self, arrays: StateArrays, name: str) -> np.ndarray:
        """Force ``name``'s record values in the state ``arrays`` was made of."""
        ...

    def ground_force(self, arrays: StateArrays, name: str) -> np.ndarray:
        """The first three of them (a foot's contact force: the force on the ground), possibly cheaper."""
        ...


class _Computed:
    """A :class:`StateArrays` array an engine may leave to be computed when first read: the slot
    ``_<name>`` holds it, the method ``compute`` fills it (with the rest of its group)."""

    def __init__(self, compute: str, doc: str) -> None:
        self.compute, self.__doc__ = compute, doc
        self.slot = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = f"_{name}"

    def __get__(self, arrays: Any, owner: type | None = None) -> np.ndarray:
        if arrays is None:
            return self  # type: ignore[return-value]  # the class attribute (documentation tools)
        value = getattr(arrays, self.slot)
        if value is None:
            getattr(arrays, self.compute)()
            value = getattr(arrays, self.slot)
        return value


class StateArrays:
    """One engine state as arrays (see the module docstring); made by the engine, cached per state.

    ``annotations`` are entries a task adds to this state's description (the 2019 task's
    ``v_tgt_field``): kept with the state, so that the description of a state before a step has the
    entries of that state.

    An engine may leave the centre of mass and the muscle arrays to be computed when first read: it
    passes ``mass_center``, which gives ``(mass_center_pos, mass_center_vel)`` of this state, and
    ``muscles``, which gives ``(activation, fiber_length, fiber_velocity, fiber_force)``, from what it
    kept with the state (the same numbers whenever they are read).
    """

    __slots__ = ("_activation", "_description", "_fiber_force", "_fiber_length", "_fiber_velocity", "_forces",
                 "_ground_forces", "_mass_center", "_mass_center_pos", "_mass_center_vel", "_muscles", "_source",
                 "annotations", "body_pos", "body_vel", "engine_data", "q", "qd")

    def __init__(
        self, source: StateSource, *, q: np.ndarray, qd: np.ndarray, body_pos: np.ndarray, body_vel: np.ndarray,
        activation: np.ndarray | None = None, fiber_length: np.ndarray | None = None,
        fiber_velocity: np.ndarray | None = None, fiber_force: np.ndarray | None = None,
        mass_center_pos: np.ndarray | None = None, mass_center_vel: np.ndarray | None = None,
        mass_center: Callable[[StateArrays], tuple[np.ndarray, np.ndarray]] | None = None,
        muscles: Callable[[StateArrays], tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] | None = None,
        description: StateDescription | None = None, engine_data: Any = None,
    ) -> None:
        if (mass_center_pos is None or mass_center_vel is None) and mass_center is None:
            raise ValueError("StateArrays needs mass_center_pos and mass_center_vel, or mass_center to compute them")
        if (activation is None or fiber_length is None or fiber_velocity is None or fiber_force is None) \
                and muscles is None:
            raise ValueError("StateArrays needs activation, fiber_length, fiber_velocity and fiber_force, "
                             "or muscles to compute them")
        self._source = source
        self.q, self.qd = q, qd
        self.body_pos, self.body_vel = body_pos, body_vel
        self._mass_center_pos, self._mass_center_vel = mass_center_pos, mass_center_vel
        self._mass_center = mass_center
        self._activation, self._fiber_length = activation, fiber_length
        self._fiber_velocity, self._fiber_force = fiber_velocity, fiber_force
        self._muscles = muscles
        self._description = description
        self._forces: dict[str, np.ndarray] = {}
        self._ground_forces: dict[str, np.ndarray] = {}
        self.annotations: dict[str, Any] = {}
        #: whatever the engine keeps to compute the rest of this state later (MuJoCo: a snapshot)
        self.engine_data = engine_data

    mass_center_pos = _Computed("_compute_mass_center", "(3,) the model's centre of mass, ground frame (m).")
    mass_center_vel = _Computed("_compute_mass_center", "(3,) its velocity, ground frame (m/s).")
    activation = _Computed("_compute_muscles", "Each muscle's activation.")
    fiber_length = _Computed("_compute_muscles", "Each muscle's fibre length (m).")
    fiber_velocity = _Computed("_compute_muscles", "Each muscle's fibre velocity (m/s).")
    fiber_force = _Computed("_compute_muscles", "Each muscle's fibre force (N).")

    def _compute_mass_center(self) -> None:
        assert self._mass_center is not None  # checked in __init__
        self._mass_center_pos, self._mass_center_vel = self._mass_center(self)

    def _compute_muscles(self) -> None:
        assert self._muscles is not None  # checked in __init__
        self._activation, self._fiber_length, self._fiber_velocity, self._fiber_force = self._muscles(self)

    def description(self) -> StateDescription:
        """The state-description dictionary of this state (computed once), with the annotations."""
        description = self._description
        if description is None:
            description = self._description = self._source.describe_arrays(self)
        if self.annotations:
            description.update(self.annotations)
        return description

    @property
    def has_description(self) -> bool:
        """Whether the description of this state has been computed."""
        return self._description is not None

    @property
    def description_object(self) -> StateDescription | None:
        """The description if computed (without annotations added), else None."""
        return self._description

    def force(self, name: str) -> np.ndarray:
        """The record values of force ``name`` (the description's ``forces[name]``), as an array."""
        record = self._forces.get(name)
        if record is None:
            record = self._forces[name] = self._source.force_record(self, name)
        return record

    def ground_force(self, name: str) -> np.ndarray:
        """The first three values of force ``name``'s record (the same values as ``force(name)[:3]``):
        for a contact force listing the ground's half-space first (the feet's), the force on the
        ground, ground frame (N). The engine may compute it without the rest of the record."""
        force = self._ground_forces.get(name)
        if force is None:
            force = self._ground_forces[name] = self._source.ground_force(self, name)
        return force

"""What an engine is: the :class:`Engine` protocol and the plain-data structure of a loaded model.

Everything above the engine layer (environments, rendering, motion export, benchmarks) talks to a
simulation only through this interface, so that another physics engine can stand in for OpenSim.
The OpenSim implementation is :class:`osim.engine.Simulation`; a new engine goes in its own package
under ``osim/engine/`` (e.g. ``osim/engine/mujoco/``) and implements :class:`Engine`.

An engine

* is constructed from a model description (OpenSim: a path of an ``.osim`` file, or an unbuilt
  ``opensim.Model``) with keyword settings ``step_size`` (the control interval, s) and
  ``visualize``;
* reports the model's structure once: :attr:`Engine.structure` is a :class:`ModelStructure` of
  frozen dataclasses, computed when first asked for and cached (no cost per step);
* starts episodes with :meth:`Engine.reset` (the model's default pose) or :meth:`Engine.set_pose`
  (coordinate values and speeds by coordinate name);
* advances one control interval with :meth:`Engine.step` (muscle excitations held constant);
* describes the current state with :meth:`Engine.state_arrays` (NumPy arrays of what tasks
  compute from, see :mod:`osim.engine.state_arrays`), :meth:`Engine.state_description` (the
  original osim-rl dictionary, see :mod:`osim.engine.state_description`, built from the same
  computation only when asked for) and :meth:`Engine.state_variable_values`.

Names are the model's own (coordinates ``hip_flexion_r``, muscles ``glut_max_r``, bodies
``pelvis``); ``"ground"`` is the ground frame in every engine. Lengths are in metres, angles in
radians, masses in kilograms, forces in newtons.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, runtime_checkable

import numpy as np

from .errors import UnknownComponentError

if TYPE_CHECKING:
    from .state_arrays import StateArrays

#: The state-description dictionary (see :mod:`osim.engine.state_description`).
#: Mostly {group: {name: value}}; environments add top-level entries of other kinds (``target_vel``
#: a list, ``v_tgt_field`` an array), hence ``Any`` for the values.
StateDescription = dict[str, Any]
MotionType = Literal["rotational", "translational", "coupled"]
ContactKind = Literal["sphere", "half_space", "mesh", "other"]
Vec3 = tuple[float, float, float]


@dataclass(frozen=True, slots=True)
class CoordinateInfo:
    """One generalized coordinate.

    Attributes:
        name: the coordinate's name (unique in the model).
        joint: the joint it belongs to.
        motion_type: ``"rotational"`` (radians), ``"translational"`` (metres) or ``"coupled"``
            (a coordinate that drives other motion through functions, e.g. a knee's translations;
            its value is an angle in the models here).
        index: position of its value in the engine's generalized-coordinate vector (OpenSim: Q).
        speed_index: position of its speed in the generalized-speed vector (OpenSim: U).
        value_column: position of its value in :meth:`Engine.state_variable_values`.
        locked: locked in the model's default state.
        range: (lower, upper) bounds of its value.
        default_value: its value in the model's default state.
    """

    name: str
    joint: str
    motion_type: MotionType
    index: int
    speed_index: int
    value_column: int
    locked: bool
    range: tuple[float, float]
    default_value: float


@dataclass(frozen=True, slots=True)
class JointInfo:
    """One joint: the bodies it connects and its coordinates, in order (none for a weld)."""

    name: str
    parent: str
    child: str
    coordinates: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MuscleInfo:
    """One muscle's parameters as built (``set_strength`` does not change them).

    Attributes:
        max_isometric_force: N.
        optimal_fiber_length, tendon_slack_length: m.
        pennation_angle: pennation angle at the optimal fibre length, rad.
        max_contraction_velocity: in optimal fibre lengths per second.
        kind: the engine's muscle model (OpenSim: ``"Thelen2003Muscle"``, ...).
        activation_column: position of its activation in :meth:`Engine.state_variable_values`,
            ``None`` for a muscle without activation dynamics.
    """

    name: str
    max_isometric_force: float
    optimal_fiber_length: float
    tendon_slack_length: float
    pennation_angle: float
    max_contraction_velocity: float
    kind: str
    activation_column: int | None


@dataclass(frozen=True, slots=True)
class BodyInfo:
    """One rigid body (not the ground): mass, centre of mass and inertia in its own frame.

    ``inertia`` is (Ixx, Iyy, Izz, Ixy, Ixz, Iyz) about the centre of mass, kg m^2.
    """

    name: str
    mass: float
    mass_center: Vec3
    inertia: tuple[float, float, float, float, float, float]


@dataclass(frozen=True, slots=True)
class ContactGeometryInfo:
    """One contact geometry, placed in the frame of the body that carries it.

    Attributes:
        body: the body (or ``"ground"``) the geometry is fixed to.
        kind: ``"sphere"``, ``"half_space"`` (the ground plane), ``"mesh"`` or ``"other"``.
        radius: the sphere's radius as built (m); ``None`` for other kinds.
        location: its centre in the body frame (m).
        orientation: its body-fixed X-Y-Z rotation angles in the body frame (rad).
    """

    name: str
    body: str
    kind: ContactKind
    radius: float | None
    location: Vec3
    orientation: Vec3


@dataclass(frozen=True, slots=True)
class MarkerInfo:
    """One marker: a point fixed in a body, ``location`` in the body frame (m)."""

    name: str
    body: str
    location: Vec3


_Named = TypeVar("_Named", CoordinateInfo, JointInfo, MuscleInfo, BodyInfo, ContactGeometryInfo, MarkerInfo)


def find_named(items: tuple[_Named, ...], name: str, kind: str) -> _Named:
    """The item called ``name``; :class:`UnknownComponentError` naming it and the valid names if none."""
    for item in items:
        if item.name == name:
            return item
    raise UnknownComponentError(kind, name, [item.name for item in items])


@dataclass(frozen=True, slots=True)
class ModelStructure:
    """The structure of a loaded model, in the engine's own order (OpenSim: its component sets).

    ``forces`` names every force element (muscles included), in the order of the state
    description's ``forces``; ``state_variables`` names the entries of
    :meth:`Engine.state_variable_values`.
    """

    name: str
    coordinates: tuple[CoordinateInfo, ...]
    joints: tuple[JointInfo, ...]
    muscles: tuple[MuscleInfo, ...]
    bodies: tuple[BodyInfo, ...]
    contact_geometry: tuple[ContactGeometryInfo, ...]
    markers: tuple[MarkerInfo, ...]
    forces: tuple[str, ...]
    state_variables: tuple[str, ...]

    def coordinate(self, name: str) -> CoordinateInfo:
        """The coordinate ``name`` (:class:`UnknownComponentError` listing the valid names if none)."""
        return find_named(self.coordinates, name, "coordinate")

    def joint(self, name: str) -> JointInfo:
        """The joint ``name``."""
        return find_named(self.joints, name, "joint")

    def muscle(self, name: str) -> MuscleInfo:
        """The muscle ``name``."""
        return find_named(self.muscles, name, "muscle")

    def body(self, name: str) -> BodyInfo:
        """The body ``name``."""
        return find_named(self.bodies, name, "body")

    def contact(self, name: str) -> ContactGeometryInfo:
        """The contact geometry ``name``."""
        return find_named(self.contact_geometry, name, "contact geometry")


@runtime_checkable
class Engine(Protocol):
    """A musculoskeletal model driven by muscle excitations in fixed control intervals.

    ``isinstance(x, Engine)`` checks that the members exist (not their signatures).
    """

    #: The control interval in seconds.
    step_size: float
    #: Number of muscles: the length of an excitation vector.
    n_muscles: int
    #: Muscle names in excitation order.
    muscle_names: list[str]
    #: Completed control intervals since the episode started.
    istep: int

    @property
    def structure(self) -> ModelStructure:
        """The model's structure (computed once, cached)."""
        ...

    @property
    def time(self) -> float:
        """Simulated time of the current state (s)."""
        ...

    def coordinate_locked(self, name: str) -> bool:
        """Whether coordinate ``name`` is locked, by default or in the current state."""
        ...

    def reset(self) -> None:
        """Start an episode from the model's default pose: time 0, muscles in equilibrium."""
        ...

    def set_pose(self, q: Mapping[str, float] | None = None, u: Mapping[str, float] | None = None) -> None:
        """Start an episode like :meth:`reset`, with these coordinate values ``q`` and speeds ``u``.

        Keys are coordinate names; coordinates not named keep their default value and speed. An
        unknown name raises :class:`UnknownComponentError` (a ``KeyError``) naming it and listing
        the valid ones, before anything changes.
        """
        ...

    def step(self, excitations: Any) -> np.ndarray:
        """Hold ``excitations`` (one per muscle, clipped to [0, 1]) for one control interval.

        Returns the excitations applied. Raises :class:`~osim.engine.SimulationError` when the
        engine cannot advance (the episode is over; :meth:`reset` makes the engine usable again).
        """
        ...

    def state_arrays(self) -> StateArrays:
        """The current state as arrays (:class:`~osim.engine.state_arrays.StateArrays`), made at most once
        per state; its values are the state description's."""
        ...

    def state_description(self) -> StateDescription:
        """The state-description dictionary of the current state (computed at most once per state)."""
        ...

    def state_variable_values(self) -> np.ndarray:
        """Every state variable's value, in the order of :attr:`ModelStructure.state_variables`."""
        ...

    def state_vector(self) -> np.ndarray:
        """The engine's complete continuous state as one vector (for fingerprints and checks)."""
        ...

"""One OpenSim model driven by muscle excitations in fixed control intervals.

This is the only place that integrates OpenSim models. It reproduces the simulation core of
osim-rl 2.x/3.x (spec §2.3) exactly, so that trajectories are bitwise identical to the original's:

* one ``PrescribedController`` with one ``Constant`` per muscle (set by actuator path, the 4.6 API),
  so an action is an excitation held for one control interval (zero-order hold);
* one ``Manager`` per episode (``manager_per_step=False``), integrating to absolute end times
  ``step_size * istep``; the 1.x behaviour (a fresh ``Manager`` for every step) is available too;
* reset to ``initializeState`` with muscles equilibrated at time 0.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import opensim
from numpy.typing import ArrayLike

from .actions import validate_excitations, validate_strength
from .display import visualizer_usable
from .errors import SimulationError
from .interface import ModelStructure, StateDescription
from .opensim_log import set_opensim_log_level
from .state_arrays import StateArrays
from .state_description import StateDescriber
from .structure import read_structure

# OpenSim's Manager integrators by name. CPodes is not in every build (OpenSim 4.5's Manager has no
# IntegratorMethod_CPodes), so each method is listed only where this opensim provides it.
INTEGRATOR_METHODS: dict[str, int] = {
    name: getattr(opensim.Manager, f"IntegratorMethod_{name}")
    for name in ("RungeKuttaMerson", "RungeKuttaFeldberg", "RungeKutta3", "RungeKutta2",
                 "SemiExplicitEuler2", "ExplicitEuler", "Verlet", "CPodes")
    if hasattr(opensim.Manager, f"IntegratorMethod_{name}")
}


# The value every excitation Constant is created with, as in the original (``Constant(1.0)``).
INITIAL_EXCITATION = 1.0

# Controls are computed at the velocity stage: clearing the cache from there on makes the next
# derivative evaluation read the new excitations (exact_control_timing).
_CONTROLS_STAGE = opensim.Stage(opensim.Stage.Velocity)


@dataclass(frozen=True)
class IntegratorSettings:
    """How OpenSim integrates one control interval.

    The defaults are the original 2.x/3.x settings: Runge-Kutta-Merson, accuracy 5e-5, one Manager
    per episode. ``maximum_step_size``/``fixed_step_size`` are passed to the Manager when set.

    ``write_storage``: keep OpenSim's state Storage in the Manager (one row per internal integrator
    step, OpenSim's default and so the original's). Off by default: it costs time and memory (up to
    tens of MB per long episode) and does not change results.

    ``exact_control_timing``: the original's controls reach the integrator one derivative evaluation
    late. OpenSim caches the controls in the state; the last state of a control interval holds the
    old excitations in that cache, and the first derivative evaluation of the next interval reuses
    them (the Manager's Storage recording fills the cache at the end of each interval; without it
    the engine fills it on purpose, see :meth:`Simulation.integrate`). The error estimate then sees
    the mismatch and rejects steps until they are tiny, about half of all attempts. ``True`` clears
    the cache at each control change: an exact zero-order hold, about 1.5x faster, and trajectories
    that differ slightly from the original's (docs/performance.md).
    """

    method: str = "RungeKuttaMerson"
    accuracy: float = 5e-5
    manager_per_step: bool = False
    maximum_step_size: float | None = None
    fixed_step_size: float | None = None
    write_storage: bool = False
    exact_control_timing: bool = False

    def __post_init__(self) -> None:
        if self.method not in INTEGRATOR_METHODS:
            raise ValueError(
                f"integrator method must be one of {sorted(INTEGRATOR_METHODS)}, got {self.method!r}"
            )
        if not (self.accuracy > 0 and np.isfinite(self.accuracy)):
            raise ValueError(f"integrator accuracy must be a positive number, got {self.accuracy!r}")




@dataclass(frozen=True)
class OpenSimHandles:
    """The OpenSim objects behind a :class:`Simulation`: OpenSim-only, for user scripts.

    The original ``OsimModel`` attributes (``model``, ``forceSet``, ``bodySet`` ...) come from here.
    No project code outside :mod:`osim.engine` uses them; it uses :attr:`Simulation.structure`.
    """

    model: opensim.Model
    controller: opensim.PrescribedController
    muscles: opensim.SetMuscles
    forces: opensim.ForceSet
    bodies: opensim.BodySet
    joints: opensim.JointSet
    markers: opensim.MarkerSet
    contact_geometry: opensim.ContactGeometrySet


class Simulation:
    """An OpenSim model, its excitation controller, its current state and its integrator.

    The OpenSim implementation of :class:`osim.engine.interface.Engine`.

    Args:
        model: path of an ``.osim`` file, or an ``opensim.Model`` not yet initialised.
        visualize: open OpenSim's simbody-visualizer (ignored with one warning without a display).
        integrator: :class:`IntegratorSettings`.
        step_size: the control interval in seconds (0.01 in every original environment).
        log_level: OpenSim log level (default ``"error"``, see :mod:`osim.engine.opensim_log`).
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | opensim.Model,
        *,
        visualize: bool = False,
        integrator: IntegratorSettings | None = None,
        step_size: float = 0.01,
        log_level: str | None = None,
    ) -> None:
        set_opensim_log_level(log_level)
        self.integrator = integrator or IntegratorSettings()
        self.step_size = float(step_size)
        if isinstance(model, opensim.Model):
            self.model = model
            self.model_path: str | None = None
        else:
            self.model_path = os.fspath(model)
            if not os.path.isfile(self.model_path):
                raise FileNotFoundError(f"model file not found: {self.model_path}")
            self.model = opensim.Model(self.model_path)
        self.model.initSystem()
        self.visualize = visualizer_usable(visualize)
        self.model.setUseVisualizer(self.visualize)

        self.muscle_set = self.model.getMuscles()
        self.controller = opensim.PrescribedController()
        for j in range(self.muscle_set.getSize()):
            muscle = self.muscle_set.get(j)
            self.controller.addActuator(muscle)
            self.controller.prescribeControlForActuator(
                muscle.getAbsolutePathString(), opensim.Constant(INITIAL_EXCITATION)
            )
        self.model.addController(self.controller)
        self.model.initSystem()

        self.muscle_names: list[str] = [
            self.muscle_set.get(j).getName() for j in range(self.muscle_set.getSize())
        ]
        self.n_muscles = len(self.muscle_names)
        functions = self.controller.get_ControlFunctions()
        # Cached once: looking each Constant up and down-casting it every step costs SWIG calls.
        self._excitation_functions = [
            opensim.Constant.safeDownCast(functions.get(j)) for j in range(functions.getSize())
        ]
        self.max_isometric_forces = np.array(
            [self.muscle_set.get(j).getMaxIsometricForce() for j in range(self.n_muscles)]
        )
        self.strength = np.ones(self.n_muscles)
        self._describer = StateDescriber(self.model)
        self._describer_signature = self.structure_signature()
        self._structure: ModelStructure | None = None
        self._structure_of = self._describer_signature
        # Filled with the structure: Q and U index of each coordinate by name (for set_pose).
        self._pose_index: dict[str, tuple[int, int]] = {}

        self.state: opensim.State | None = None
        self.manager: opensim.Manager | None = None
        self.istep = 0
        self.last_excitations = np.full(self.n_muscles, INITIAL_EXCITATION)
        self._description: StateDescription | None = None
        self._arrays: StateArrays | None = None
        self._array_plan: tuple[list[tuple[str, int]], list[str], list[str]] = ([], [], [])
        self._array_plan_of: ModelStructure | None = None

    # -- structure ------------------------------------------------------------------------------

    def structure_signature(self) -> tuple[int, ...]:
        """Component counts of the model: they change when components are added."""
        model = self.model
        return (
            model.getJointSet().getSize(),
            model.getBodySet().getSize(),
            model.getForceSet().getSize(),
            model.getMuscles().getSize(),
            model.getMarkerSet().getSize(),
            model.getContactGeometrySet().getSize(),
        )

    def reinitialize(self) -> opensim.State:
        """Call after adding components to :attr:`model` (``initSystem`` and refreshed caches)."""
        state = self.model.initSystem()
        self._describer = StateDescriber(self.model)
        self._describer_signature = self.structure_signature()
        self._structure = None
        self._description = None
        return state

    @property
    def structure(self) -> ModelStructure:
        """The model's coordinates, joints, muscles, bodies, contact geometry and markers.

        Read from OpenSim when first asked for and cached; read again after :meth:`reinitialize` or
        when components were added (the component counts changed). Never read per step.
        """
        signature = self.structure_signature()
        if self._structure is None or signature != self._structure_of:
            self._structure = read_structure(self.model, opensim.State(self.model.getWorkingState()))
            self._structure_of = signature
            self._pose_index = {c.name: (c.index, c.speed_index) for c in self._structure.coordinates}
        return self._structure

    def coordinate_locked(self, name: str) -> bool:
        """Whether coordinate ``name`` is locked by default or in the current state."""
        info = self.structure.coordinate(name)  # raises for an unknown name, listing the valid ones
        if info.locked or self.state is None:
            return info.locked
        return bool(self.model.getCoordinateSet().get(name).getLocked(self.state))

    def native_handles(self) -> OpenSimHandles:
        """The OpenSim objects themselves (OpenSim-only; the original ``OsimModel`` attributes)."""
        model = self.model
        return OpenSimHandles(
            model=model,
            controller=self.controller,
            muscles=self.muscle_set,
            forces=model.getForceSet(),
            bodies=model.getBodySet(),
            joints=model.getJointSet(),
            markers=model.getMarkerSet(),
            contact_geometry=model.getContactGeometrySet(),
        )

    # -- episode --------------------------------------------------------------------------------

    def reset(self, adjust_state: Callable[[opensim.State], None] | None = None) -> None:
        """Initial state of the model, muscles equilibrated, time 0, a new integrator.

        ``adjust_state(state)``, if given, edits the initial state (e.g. a pose and speeds) before the
        muscles are equilibrated. Every excitation is set back to its construction value (1.0): the
        integrator's first derivative evaluation sees the controls held when it was started (OpenSim
        caches them in the state), so without this an episode would depend on the previous
        episode's last action. With it, every episode equals a fresh process's first episode.
        Raises :class:`SimulationError` when the muscles cannot be equilibrated (e.g. a pose or
        speeds out of their reach); the previous state is kept.
        """
        state = opensim.State(self.model.initializeState())
        if adjust_state is not None:
            adjust_state(state)
        try:
            self.model.equilibrateMuscles(state)
        except RuntimeError as error:
            raise SimulationError(
                f"OpenSim could not equilibrate the muscles in the initial state: {str(error).strip()}"
            ) from error
        state.setTime(0)
        self.restore_initial_excitations()
        self.istep = 0
        self.state = state
        self.reset_manager()

    def set_pose(self, q: Mapping[str, float] | None = None, u: Mapping[str, float] | None = None) -> None:
        """:meth:`reset` with coordinate values ``q`` and speeds ``u`` given by coordinate name.

        The values are written into the initial state's Q and U vectors (locked coordinates too)
        before the muscles are equilibrated; coordinates not named keep their default value and
        speed. An unknown name raises :class:`~osim.engine.errors.UnknownComponentError` (a
        ``KeyError`` naming it and listing the valid coordinates), a non-finite value
        ``ValueError``, both before anything changes.
        """
        values = self._pose_entries(q or {}, 0)
        speeds = self._pose_entries(u or {}, 1)
        self.reset(adjust_state=lambda state: _write_pose(state, values, speeds))

    def _pose_entries(self, values: Mapping[str, float], which: int) -> list[tuple[int, float]]:
        """(Q index if ``which`` is 0, else U index; value) of each named coordinate, validated."""
        structure = self.structure
        entries = []
        for name, value in values.items():
            if name not in self._pose_index:
                structure.coordinate(name)  # raises, naming the valid coordinates
            number = float(value)
            if not np.isfinite(number):
                raise ValueError(f"coordinate {name!r} must be given a finite value, got {value!r}")
            entries.append((self._pose_index[name][which], number))
        return entries

    def restore_initial_excitations(self) -> None:
        """Set every excitation back to the value it had after construction (1.0)."""
        for function in self._excitation_functions:
            function.setValue(INITIAL_EXCITATION)
        self.last_excitations = np.full(self.n_muscles, INITIAL_EXCITATION)

    def reset_manager(self) -> None:
        """Start a new integrator from the current state (the original's ``reset_manager``)."""
        if self.state is None:
            raise RuntimeError("the simulation has no state yet: call reset() first")
        # Copy first: the current state may live inside the Manager that is about to be replaced.
        self.state = opensim.State(self.state)
        settings = self.integrator
        manager = opensim.Manager(self.model)
        if settings.method != "RungeKuttaMerson":
            manager.setIntegratorMethod(INTEGRATOR_METHODS[settings.method])
        manager.setIntegratorAccuracy(settings.accuracy)
        if settings.maximum_step_size is not None:
            manager.setIntegratorMaximumStepSize(settings.maximum_step_size)
        if settings.fixed_step_size is not None:
            manager.setIntegratorFixedStepSize(settings.fixed_step_size)
        manager.setWriteToStorage(settings.write_storage)
        manager.initialize(self.state)
        # A copied state's lazily computed OpenSim caches (muscle length/activation info, frame
        # transforms) are not current: realize the copy so that reading it works right away
        # (get_activations after set_activations, a moved Arm2DEnv target after reset), as the
        # original's Storage recording did. The Manager integrates its own copy: no result moves.
        # (OpenSim 4.6: a copy of a copy of a state modified without realizing, as set_state of
        # such a state makes, can still serve stale frame transforms here; copying the realized
        # state once more, as Arm2DEnv.reset's second reset_manager does, reads them right.)
        self.model.realizeVelocity(self.state)
        self.manager = manager
        self._description = None

    def actuate(self, action: Any) -> np.ndarray:
        """Set the excitations held during the next :meth:`integrate` (validated, clipped)."""
        excitations = validate_excitations(action, self.n_muscles)
        for function, value in zip(self._excitation_functions, excitations.tolist()):
            function.setValue(value)
        self.last_excitations = excitations
        return excitations

    def integrate(self) -> None:
        """Advance one control interval. Raises :class:`SimulationError` if OpenSim cannot."""
        if self.manager is None:
            raise RuntimeError("the simulation has no integrator yet: call reset() first")
        settings = self.integrator
        if settings.manager_per_step:
            self.reset_manager()
        elif settings.exact_control_timing:
            # The integrator continues from its own last state: drop the controls cached there and
            # compute them again from the new excitations (the Manager's Storage, when on, reads
            # them before the integrator does).
            state = self.manager.getState()
            state.invalidateAllCacheAtOrAbove(_CONTROLS_STAGE)
            self.model.realizeVelocity(state)
        self.istep += 1
        self._description = None
        try:
            self.state = self.manager.integrate(self.step_size * self.istep)
        except RuntimeError as error:
            raise SimulationError(
                f"OpenSim could not integrate step {self.istep} "
                f"(t = {self.step_size * (self.istep - 1):.2f} s): {str(error).strip()}"
            ) from error
        if not (settings.write_storage or settings.exact_control_timing):
            # The original's timing: its Manager recorded the final state, which computed and cached
            # that state's controls (this interval's excitations), so the next interval's first
            # derivative evaluation reads them. Computing them here reproduces it bit for bit,
            # without the Storage's cost per internal step.
            self.model.getControls(self.state)
        # A NaN in the state does not stop Simbody's integrators: it spreads silently. One vector
        # check per step (microseconds) turns it into a failure that ends the episode.
        if not np.isfinite(self.state_vector()).all():
            raise SimulationError(
                f"the state became non-finite (NaN or infinite) at step {self.istep} "
                f"(t = {self.step_size * self.istep:.2f} s)"
            )

    def step(self, excitations: Any) -> np.ndarray:
        """:meth:`actuate` then :meth:`integrate`: one control interval; returns the excitations."""
        applied = self.actuate(excitations)
        self.integrate()
        return applied

    @property
    def time(self) -> float:
        """Simulated time of the current state (s); 0 before the first reset."""
        return self.state.getTime() if self.state is not None else 0.0

    # -- state ----------------------------------------------------------------------------------

    def get_state(self) -> opensim.State:
        """A copy of the current state."""
        return opensim.State(self.state)

    def set_state(self, state: opensim.State) -> None:
        """Continue from ``state`` (a copy is kept); the step counter follows its time."""
        self.state = opensim.State(state)
        # round, not int: int(0.29 / 0.01) is 28.
        self.istep = round(self.state.getTime() / self.step_size)
        self.reset_manager()

    def state_vector(self) -> np.ndarray:
        """The current state's continuous variables, OpenSim's Y (Q, U, then the auxiliary Z)."""
        if self.state is None:
            raise RuntimeError("the simulation has no state yet: call reset() first")
        return self.state.getY().to_numpy()

    def state_variable_values(self) -> np.ndarray:
        """Every state variable's value, in the order of ``structure.state_variables``."""
        return self.model.getStateVariableValues(self.state).to_numpy()

    def show_in_visualizer(self) -> None:
        """Redraw OpenSim's visualizer window with the current state (if it is on)."""
        if self.state is not None and self.model.getUseVisualizer():
            self.model.getVisualizer().show(self.state)

    def state_description(self) -> StateDescription:
        """The state-description dictionary, computed at most once per state."""
        if self._description is None:
            signature = self.structure_signature()
            if signature != self._describer_signature:
                # Components were added behind our back (``model.initSystem()`` by a subclass).
                self._describer = StateDescriber(self.model)
                self._describer_signature = signature
            self._description = self._describer.describe(self.state)
        return self._description

    def state_arrays(self) -> StateArrays:
        """The current state as arrays (:class:`~osim.engine.state_arrays.StateArrays`), read from
        the state description (the same floats), made once per description."""
        description = self.state_description()
        arrays = self._arrays
        if arrays is None or arrays.description_object is not description:
            arrays = self._arrays = self._arrays_from(description)
        return arrays

    def _arrays_from(self, description: StateDescription) -> StateArrays:
        structure = self.structure
        if self._array_plan_of is not structure:
            joint_of = {c: (joint.name, k) for joint in structure.joints for k, c in enumerate(joint.coordinates)}
            self._array_plan = ([joint_of[c.name] for c in structure.coordinates],
                                [body.name for body in structure.bodies], [m.name for m in structure.muscles])
            self._array_plan_of = structure
        coordinates, bodies, muscle_names = self._array_plan
        joint_pos, joint_vel, muscles = description["joint_pos"], description["joint_vel"], description["muscles"]
        misc = description["misc"]
        muscle_values = [muscles[name] for name in muscle_names]
        return StateArrays(
            self, q=np.array([joint_pos[joint][k] for joint, k in coordinates]),
            qd=np.array([joint_vel[joint][k] for joint, k in coordinates]),
            body_pos=np.array([description["body_pos"][name] for name in bodies]).reshape(-1, 3),
            body_vel=np.array([description["body_vel"][name] for name in bodies]).reshape(-1, 3),
            mass_center_pos=np.array(misc["mass_center_pos"]), mass_center_vel=np.array(misc["mass_center_vel"]),
            activation=np.array([m["activation"] for m in muscle_values]),
            fiber_length=np.array([m["fiber_length"] for m in muscle_values]),
            fiber_velocity=np.array([m["fiber_velocity"] for m in muscle_values]),
            fiber_force=np.array([m["fiber_force"] for m in muscle_values]),
            description=description)

    def describe_arrays(self, arrays: StateArrays) -> StateDescription:
        """The description ``arrays`` were read from (:class:`StateArrays` keeps it: never called)."""
        raise RuntimeError("OpenSim's state arrays are made from a description: they hold it")

    def force_record(self, arrays: StateArrays, name: str) -> np.ndarray:
        """Force ``name``'s record values in the description of ``arrays``."""
        return np.array(arrays.description()["forces"][name], dtype=np.float64)

    def ground_force(self, arrays: StateArrays, name: str) -> np.ndarray:
        """The first three record values of force ``name``."""
        return arrays.force(name)[:3]

    def keep_description(self, description: StateDescription | None) -> None:
        """Serve ``description`` until the next step or reset (after a failure the state is unusable)."""
        self._description = description

    def get_activations(self) -> list[float]:
        """Current muscle activations, in the model's muscle order."""
        return [self.muscle_set.get(j).getActivation(self.state) for j in range(self.n_muscles)]

    def set_activations(self, activations: ArrayLike) -> None:
        """Write activations into the state (the 2016-17 environments' action) and restart."""
        values = np.asarray(activations, dtype=float)
        if values.shape != (self.n_muscles,):
            raise ValueError(f"activations must have shape ({self.n_muscles},), got {values.shape}")
        for j, value in enumerate(values.tolist()):
            self.muscle_set.get(j).setActivation(self.state, value)
        self.reset_manager()

    def set_strength(self, strength: Sequence[float]) -> None:
        """Scale each muscle's maximum isometric force by ``strength[j]`` (1 = as built)."""
        values = validate_strength(strength, self.n_muscles)
        for j, value in enumerate(values.tolist()):
            self.muscle_set.get(j).setMaxIsometricForce(value * float(self.max_isometric_forces[j]))
        self.strength = values.copy()
        self._description = None

    # -- lookups --------------------------------------------------------------------------------

    def get_body(self, name: str) -> opensim.Body:
        """The model's body ``name``."""
        return self.model.getBodySet().get(name)

    def get_joint(self, name: str) -> opensim.Joint:
        """The model's joint ``name``."""
        return self.model.getJointSet().get(name)

    def get_muscle(self, name: str) -> opensim.Muscle:
        """The model's muscle ``name``."""
        return self.muscle_set.get(name)

    def get_marker(self, name: str) -> opensim.Marker:
        """The model's marker ``name``."""
        return self.model.getMarkerSet().get(name)

    def get_contact_geometry(self, name: str) -> opensim.ContactGeometry:
        """The model's contact geometry ``name``."""
        return self.model.getContactGeometrySet().get(name)

    def get_force(self, name: str) -> opensim.Force:
        """The model's force ``name``."""
        return self.model.getForceSet().get(name)

    def get_coordinate(self, name: str) -> opensim.Coordinate:
        """The model's coordinate ``name``."""
        return self.model.getCoordinateSet().get(name)


def _write_pose(state: opensim.State, values: list[tuple[int, float]], speeds: list[tuple[int, float]]) -> None:
    """Write (index, value) entries into ``state``'s Q and U vectors."""
    q = state.getQ()
    u = state.getU()
    for index, value in values:
        q.set(index, value)
    for index, value in speeds:
        u.set(index, value)
    state.setQ(q)
    state.setU(u)

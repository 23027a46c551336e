"""The original osim-rl 2.x/3.x API on the engine: ``OsimModel`` and ``OsimEnv`` (spec §2.3, §11).

Scripts and subclasses written against the original keep working: the same constructor arguments,
method names, attributes (``osim_model``, ``istep``, ``spec.timestep_limit``, ``time_limit`` ...) and
return types (``step`` returns the 4-list ``[observation, reward, done, info]``). Gymnasium users get
the same environments through :mod:`osim.registration` (``gymnasium.make("osim/L2M2019-v0")``).

Differences from the original, all fixes of crashes or misleading behaviour (see docs/quirks.md):

* mutable state is per instance (the original shared ``maxforces``/``curforces`` between instances);
* NaN/inf and wrong-length actions raise ``ValueError`` saying what was expected;
* an OpenSim failure ends the episode (``done``; the reason in ``info["simulation_failure"]``) instead
  of killing the process; ``reset`` makes the environment usable again;
* every episode starts with all excitations at 1.0, as the original's first episode in a fresh
  process did (the original's later episodes depended on the previous episode's last action);
* the state-description cache is cleared at every reset (the original returned the first reset's
  dict after a second reset without a step).
"""
from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, cast

import numpy as np
from gymnasium import spaces

from osim.engine import Engine, IntegratorSettings, Simulation, StateDescription
from osim.engine.registry import DEFAULT_ENGINE
from osim.env.environment import Environment, StepResult
from osim.env.task import Reward, Task


class OsimModel(Simulation):
    """The original low-level wrapper: the OpenSim engine, :class:`osim.engine.Simulation`, under its 2.x/3.x names."""

    stepsize = 0.01

    def __init__(
        self,
        model_path: Any,
        visualize: bool,
        integrator_accuracy: float = 5e-5,
        *,
        integrator: IntegratorSettings | None = None,
    ) -> None:
        settings = integrator or IntegratorSettings(accuracy=integrator_accuracy)
        super().__init__(model_path, visualize=visualize, integrator=settings, step_size=self.stepsize)
        self._add_original_names()

    @classmethod
    def adopt(cls, simulation: Simulation) -> OsimModel:
        """The OpenSim engine ``simulation`` (made by the engine registry) with the original's names added."""
        simulation.__class__ = cls  # OsimModel adds names and no state of its own to a Simulation
        model = cast(OsimModel, simulation)
        model._add_original_names()
        return model

    def _add_original_names(self) -> None:
        self.integrator_accuracy = self.integrator.accuracy
        # The original's OpenSim objects, for user scripts (project code uses ``structure``).
        native = self.native_handles()
        self.brain = native.controller
        self.muscleSet = native.muscles
        self.forceSet = native.forces
        self.bodySet = native.bodies
        self.jointSet = native.joints
        self.markerSet = native.markers
        self.contactGeometrySet = native.contact_geometry
        self.noutput = self.n_muscles
        self.maxforces = self.max_isometric_forces.tolist()
        self.curforces = [1.0] * self.n_muscles
        self.last_action: np.ndarray | None = None

    def list_elements(self) -> None:
        """Print the indexed names of joints, bodies, muscles, forces and markers."""
        structure = self.structure
        for title, names in (
            ("JOINTS", [joint.name for joint in structure.joints]),
            ("BODIES", [body.name for body in structure.bodies]),
            ("MUSCLES", [muscle.name for muscle in structure.muscles]),
            ("FORCES", list(structure.forces)),
            ("MARKERS", [marker.name for marker in structure.markers]),
        ):
            print(title)
            for i, name in enumerate(names):
                print(i, name)

    def actuate(self, action: Any) -> np.ndarray:
        """Apply ``action`` (clipped excitations) and remember it as ``last_action``; returns the excitations."""
        excitations = super().actuate(action)
        self.last_action = excitations
        return excitations

    def compute_state_desc(self) -> StateDescription:
        """Describe the current state (the original's dict of joints, bodies, muscles, ...)."""
        return self._describer.describe(self.state)

    def get_state_desc(self) -> StateDescription:
        """The current state description, computed once per step."""
        return self.state_description()

    def get_action_space_size(self) -> int:
        """Number of actions: one excitation per muscle."""
        return self.n_muscles

    def set_integrator_accuracy(self, integrator_accuracy: float) -> None:
        """Applies from the next reset (as in the original)."""
        self.integrator = dataclasses.replace(self.integrator, accuracy=integrator_accuracy)
        self.integrator_accuracy = integrator_accuracy

    def set_strength(self, strength: Any) -> None:
        """Scale the muscles' maximum isometric forces; ``curforces`` follows."""
        super().set_strength(strength)
        self.curforces = list(self.strength)


class Spec:
    """The original's minimal ``spec`` object: ``id`` and ``timestep_limit``."""

    def __init__(self, timestep_limit: int | float = 300, id: Any = 0) -> None:
        self.id = id
        self.timestep_limit = timestep_limit


class LegacyTask(Task):
    """The task of an :class:`OsimEnv` subclass written the original way (no task of its own).

    Its data come from the class's ``model_path``, ``time_limit`` and ``failure_reward``; its
    observation, reward and termination are the subclass's ``get_observation``/``get_reward``/
    ``is_done`` (the adapter calls those, not this task).
    """

    def __init__(self, env: OsimEnv) -> None:
        self.model = env.model_path
        self.time_limit = env.time_limit
        self.failure_reward = env.failure_reward


class TaskSpec(Spec):
    """``spec`` of an environment that runs a task: ``timestep_limit`` is the task's ``time_limit``."""

    def __init__(self, task: Task, id: Any = 0) -> None:
        self._task = task
        self.id = id

    @property
    def timestep_limit(self) -> int | float:
        """Steps per episode (setting it changes the task's time limit)."""
        return self._task.time_limit

    @timestep_limit.setter
    def timestep_limit(self, value: int | float) -> None:
        self._task.time_limit = value


class OsimEnv(Environment):
    """The original 2017-2019 API (``OsimEnv``, 4-list ``step``) over the generic :class:`Environment`.

    An environment of this package is a :class:`~osim.env.task.Task` (``task_class``) run by the
    generic environment; this adapter adds the original's names: ``osim_model``, ``spec``,
    ``reset(project=, obs_as_dict=)``, ``step`` returning ``[observation, reward, done, info]``,
    ``get_observation``, ``get_reward``/``reward``/``compute_reward`` (one reward, three names:
    each calls the next, the last the task), ``is_done``, ``get_state_desc`` ...

    Scripts that subclass ``OsimEnv`` the original way (set ``model_path`` and ``time_limit``,
    override ``get_observation``, ``get_observation_space_size``, ``get_reward``/``reward`` and
    ``is_done``) keep working: the adapter calls those methods.

    Args:
        visualize: open OpenSim's visualizer (headless with one warning where there is no display).
        integrator_accuracy: accuracy of the Runge-Kutta-Merson integrator (original default 5e-5).
        integrator: full :class:`osim.engine.IntegratorSettings` (overrides ``integrator_accuracy``).
        render_mode: ``None``, ``"rgb_array"`` or ``"human"``.
        engine: the engine's name (``"opensim"``, the default, or ``"mujoco"``).
    """

    time_limit: float = 1e10
    model_path: Any = None
    #: The task this environment runs (None: :class:`LegacyTask`, the subclass's own methods).
    task_class: ClassVar[type[Task] | None] = None
    #: ``obs_as_dict`` when a caller does not say: True for the 2019 environments.
    obs_as_dict_default = False
    #: Reward of a step in which OpenSim failed (the 2017 environments used -500).
    failure_reward = 0.0

    def __init__(
        self,
        visualize: bool = True,
        integrator_accuracy: float = 5e-5,
        *,
        integrator: IntegratorSettings | None = None,
        render_mode: str | None = None,
        engine: str = DEFAULT_ENGINE,
        task: Task | None = None,
    ) -> None:
        self.integrator_accuracy = integrator_accuracy
        task = task or self.make_task()
        if not isinstance(task, LegacyTask):
            self.model_path = task.model
        self._setup(
            task, engine=engine, visualize=visualize,
            integrator=integrator or task.integrator or IntegratorSettings(accuracy=integrator_accuracy),
            render_mode=render_mode,
        )
        self.load_model()

    def make_task(self) -> Task:
        """The task: ``task_class()`` or, for a subclass written the original way, a :class:`LegacyTask`."""
        return self.task_class() if self.task_class is not None else LegacyTask(self)

    # -- model ----------------------------------------------------------------------------------

    def create_engine(self, model: Any) -> Engine:
        """The registry's engine; the OpenSim one with the original ``OsimModel`` names added."""
        engine = super().create_engine(model)
        if isinstance(engine, Simulation):
            return OsimModel.adopt(engine)
        return ForeignEngineModel(engine, self.engine_name)

    def load_model(self, model_path: Any = None) -> None:
        """Build the simulation of ``model_path`` (default: the class's) and the action and observation spaces."""
        if model_path is not None:
            self.model_path = model_path
        if isinstance(self.task, LegacyTask) or model_path is not None:
            self.task.model = self.model_path
        super().load_model()
        if isinstance(self.task, LegacyTask):
            self.spec = Spec(self.time_limit)
        else:
            self.task.time_limit = self.time_limit
            self.spec = TaskSpec(self.task)

    @property
    def osim_model(self) -> Any:
        """The engine under the original's name (on OpenSim an :class:`OsimModel`)."""
        return self.engine

    def make_spaces(self) -> None:
        """The original's spaces: excitations in [0, 1], an unbounded observation of the stated size."""
        n_actions = self.get_action_space_size()
        self.action_space = spaces.Box(
            low=np.zeros(n_actions, dtype=np.float32), high=np.ones(n_actions, dtype=np.float32)
        )
        if isinstance(self.task, LegacyTask):
            size = self.get_observation_space_size()
            self.observation_space = spaces.Box(low=-np.inf, high=np.inf, shape=(size,), dtype=np.float64)
        else:
            low, high = self.task.observation_layout().bounds()
            self.observation_space = spaces.Box(low=low, high=high, dtype=np.float64)

    # -- what subclasses define (the original's hooks; by default the task's) --------------------

    def get_observation(self) -> Any:
        """The observation vector (the task's; the base class without a task: the state description)."""
        if isinstance(self.task, LegacyTask):
            return self.get_state_desc()
        return self.observation()

    def get_observation_dict(self) -> Any:
        """The observation as a dict (the base class: the state description)."""
        return self.get_state_desc()

    def get_observation_space_size(self) -> int:
        """Length of the observation vector (the task's layout; 0 in the base class)."""
        return self.task.observation_layout().size

    def get_action_space_size(self) -> int:
        """Number of actions (the task's; by default the model's muscles)."""
        return self.task.n_actions(self.engine)

    def get_reward(self) -> float:
        """The step's reward (the 2019 name): :meth:`reward`."""
        return self.reward()

    def reward(self) -> float:
        """The step's reward (the 2018 name): :meth:`compute_reward`."""
        return self.compute_reward()

    def compute_reward(self) -> float:
        """The step's reward (the 2017 name): the task's total; its terms go to ``reward_terms``."""
        result = super().step_reward()
        self.reward_terms = result.terms
        return result.total

    def is_done(self) -> bool:
        """Whether the task has ended the episode (never in the base class)."""
        reason = super().step_termination()
        self.termination_reason = reason
        return reason is not None

    def step_reward(self) -> Reward:
        """The reward through the original's hooks, so that a subclass's override counts."""
        self.reward_terms = {}
        total = self.get_reward()
        return Reward(total, dict(self.reward_terms))

    def step_termination(self) -> str | None:
        """The termination through ``is_done``, so that a subclass's override counts."""
        self.termination_reason = None
        if not self.is_done():
            return None
        return self.termination_reason or "done"

    # -- state ----------------------------------------------------------------------------------

    def observe(self, project: bool = True, obs_as_dict: bool | None = None) -> Any:
        """The observation in the form the caller asked for (the original's three forms)."""
        if not project:
            return self.get_state_desc()
        if obs_as_dict is None:
            obs_as_dict = self.obs_as_dict_default
        return self.get_observation_dict() if obs_as_dict else self.get_observation()

    def time_limit_reached(self) -> bool:
        """Whether the episode has taken ``spec.timestep_limit`` steps."""
        return self.engine.istep >= self.spec.timestep_limit

    # -- episode --------------------------------------------------------------------------------

    def reset(self, project: bool = True, obs_as_dict: bool | None = None, **_: Any) -> Any:
        """Restore the initial state; returns the first observation in the requested form."""
        self.reset_episode()
        return self.observe(project, obs_as_dict)

    def step(self, action: Any, project: bool = True, obs_as_dict: bool | None = None) -> list:
        """Apply ``action`` (excitations in [0, 1]) for one 0.01 s step.

        Returns ``[observation, reward, done, info]``. ``done`` is the task's termination or the
        time limit; ``info["simulation_failure"]`` holds OpenSim's message when it failed.
        """
        result = self.advance(action)
        return [self.observe(project, obs_as_dict), result.reward, result.done, result.info()]

    def failed(self, message: str) -> StepResult:
        """The failure, with the last valid state description kept in the engine (OpenSim's is unusable)."""
        keep = getattr(self.engine, "keep_description", None)
        if keep is not None:
            keep(self.prev_state_desc)
        return super().failed(message)

    def observe_after_failure(self, project: bool, obs_as_dict: bool | None) -> Any:
        """The observation returned with a failure: the last valid state's."""
        return self.observe(project, obs_as_dict)


#: Original-API features that only the OpenSim engine has.
OPENSIM_ONLY_FEATURES = frozenset({
    "brain", "muscleSet", "forceSet", "bodySet", "jointSet", "markerSet", "contactGeometrySet", "model",
    "get_state", "set_state", "list_elements",
    "native_handles", "reinitialize", "show_in_visualizer", "get_body", "get_joint", "get_muscle",
    "get_marker", "get_contact_geometry", "get_force", "get_coordinate", "reset_manager",
})


class ForeignEngineModel:
    """``osim_model`` on an engine other than OpenSim: the engine, with clear errors for OpenSim-only names."""

    stepsize = 0.01

    def __init__(self, engine: Engine, engine_name: str) -> None:
        self._engine = engine
        self._engine_name = engine_name
        self.stepsize = self.step_size = engine.step_size
        # what every step reads, bound once rather than found through __getattr__ each time (``step``
        # is a method below: the benchmark harness times it by wrapping the engine's own)
        self.state_arrays = engine.state_arrays
        self.state_description = engine.state_description

    @property
    def istep(self) -> int:
        """Completed control intervals since the episode started."""
        return self._engine.istep

    @istep.setter
    def istep(self, value: int) -> None:
        self._engine.istep = value

    def step(self, excitations: Any) -> Any:
        """The engine's ``step`` (a method, not a ``__getattr__`` look-up, on the per-step path; looked up
        on the engine each call, so that a wrapper set on it later is the one called)."""
        return self._engine.step(excitations)

    def __getattr__(self, name: str) -> Any:
        if name in OPENSIM_ONLY_FEATURES:
            raise NotImplementedError(
                f"osim_model.{name} is an OpenSim feature of the original API; the {self._engine_name!r} "
                "engine does not have it (use engine='opensim')"
            )
        return getattr(self._engine, name)

    def get_state_desc(self) -> StateDescription:
        """The current state description."""
        return self._engine.state_description()

    def get_action_space_size(self) -> int:
        """Number of actions: one excitation per muscle."""
        return self._engine.n_muscles

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
import random
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces

from osim.engine import (
    EpisodeEndedError,
    IntegratorSettings,
    Simulation,
    SimulationError,
    StateDescription,
)


class OsimModel(Simulation):
    """The original low-level wrapper: :class:`osim.engine.Simulation` under its 2.x/3.x names."""

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
        self.integrator_accuracy = settings.accuracy
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


class OsimEnv:
    """Base class of every environment (the original ``OsimEnv``, old 4-tuple ``step`` API).

    Subclasses set ``model_path`` (a path or a value of :func:`osim.models.model_path`) and
    ``time_limit`` and override ``get_observation``, ``get_observation_space_size``,
    ``get_reward`` (or the 2018 name ``reward``) and ``is_done``.

    Args:
        visualize: open OpenSim's visualizer (headless with one warning where there is no display).
        integrator_accuracy: accuracy of the Runge-Kutta-Merson integrator (original default 5e-5).
        integrator: full :class:`osim.engine.IntegratorSettings` (overrides ``integrator_accuracy``).
        render_mode: ``None``, ``"rgb_array"`` or ``"human"``.
    """

    time_limit: float = 1e10
    model_path: Any = None
    metadata: ClassVar[dict[str, Any]] = {
        "render.modes": ["human", "rgb_array"], "render_modes": ["human", "rgb_array"],
        "video.frames_per_second": 100, "render_fps": 100,
    }
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
    ) -> None:
        if render_mode not in (None, "human", "rgb_array"):
            raise ValueError(f"render_mode must be None, 'human' or 'rgb_array', got {render_mode!r}")
        if render_mode == "human":
            from osim.render.human import require_visualizer

            require_visualizer()  # a clear error without a display, instead of a silent headless run
        self.visualize = visualize or render_mode == "human"
        self.integrator_accuracy = integrator_accuracy
        self.integrator = integrator
        self.render_mode = render_mode
        self.prev_state_desc: StateDescription | None = None
        self.reward_terms: dict[str, float] = {}
        self.simulation_failure: str | None = None
        self._renderer: Any = None
        self.seed(None)
        self.load_model()

    # -- randomness -----------------------------------------------------------------------------

    def seed(self, seed: int | None = None) -> list[int | None]:
        """Re-seed this environment's own generators (no global NumPy or ``random`` state).

        ``np_random`` is a legacy ``RandomState`` and ``py_random`` a ``random.Random`` so that a
        seed gives the same draws as the original's ``np.random.seed``/``random.seed`` did.
        """
        self.np_random = np.random.RandomState(seed)
        self.py_random = random.Random(seed)
        return [seed]

    # -- model ----------------------------------------------------------------------------------

    def load_model(self, model_path: Any = None) -> None:
        """Build the simulation of ``model_path`` (default: the class's) and the action and observation spaces."""
        if model_path is not None:
            self.model_path = model_path
        if getattr(self, "_visualizer_pids", None):
            self.close()  # the previous model's window
        self.osim_model = OsimModel(
            self.model_path,
            self.visualize,
            integrator_accuracy=self.integrator_accuracy,
            integrator=self.integrator,
        )
        self._visualizer_pids: list[int] = []
        if self.osim_model.visualize:
            from osim.render.human import claim_new_visualizers

            self._visualizer_pids = claim_new_visualizers()
        self.spec = Spec(self.time_limit)
        n_actions = self.get_action_space_size()
        self.action_space = spaces.Box(
            low=np.zeros(n_actions, dtype=np.float32), high=np.ones(n_actions, dtype=np.float32)
        )
        size = self.get_observation_space_size()
        self.observation_space = spaces.Box(low=-np.inf, high=np.inf, shape=(size,), dtype=np.float64)

    # -- what subclasses define -----------------------------------------------------------------

    def get_observation(self) -> Any:
        """The observation vector (the base class: the state description)."""
        return self.get_state_desc()

    def get_observation_dict(self) -> Any:
        """The observation as a dict (the base class: the state description)."""
        return self.get_state_desc()

    def get_observation_space_size(self) -> int:
        """Length of the observation vector (0 in the base class)."""
        return 0

    def get_action_space_size(self) -> int:
        """Number of actions (the model's muscles)."""
        return self.osim_model.get_action_space_size()

    def get_reward(self) -> float:
        """The step's reward: :meth:`reward`."""
        return self.reward()

    def reward(self) -> float:
        """The step's reward (0 in the base class; subclasses define it)."""
        return 0.0

    def is_done(self) -> bool:
        """Whether the episode has ended (never in the base class)."""
        return False

    # -- state ----------------------------------------------------------------------------------

    def get_state_desc(self) -> StateDescription:
        """The current state description of the simulation."""
        return self.osim_model.get_state_desc()

    def get_prev_state_desc(self) -> StateDescription | None:
        """The state description before the last step; ``None`` right after a reset."""
        return self.prev_state_desc

    @property
    def istep(self) -> int:
        """Number of steps since the last reset."""
        return self.osim_model.istep

    def observe(self, project: bool = True, obs_as_dict: bool | None = None) -> Any:
        """The observation in the form the caller asked for (the original's three forms)."""
        if not project:
            return self.get_state_desc()
        if obs_as_dict is None:
            obs_as_dict = self.obs_as_dict_default
        return self.get_observation_dict() if obs_as_dict else self.get_observation()

    def time_limit_reached(self) -> bool:
        """Whether the episode has taken ``spec.timestep_limit`` steps."""
        return self.osim_model.istep >= self.spec.timestep_limit

    # -- episode --------------------------------------------------------------------------------

    def reset(self, project: bool = True, obs_as_dict: bool | None = None, **_: Any) -> Any:
        """Restore the initial state; returns the first observation in the requested form."""
        self.osim_model.reset()
        self.prev_state_desc = None
        self.simulation_failure = None
        self.reward_terms = {}
        return self.observe(project, obs_as_dict)

    def step(self, action: Any, project: bool = True, obs_as_dict: bool | None = None) -> list:
        """Apply ``action`` (excitations in [0, 1]) for one 0.01 s step.

        Returns ``[observation, reward, done, info]``. ``done`` is the task's termination or the
        time limit; ``info["simulation_failure"]`` holds OpenSim's message when it failed.
        """
        if self.simulation_failure is not None:
            raise EpisodeEndedError(
                f"the simulation failed ({self.simulation_failure}); call reset() before step()"
            )
        self.prev_state_desc = self.get_state_desc()
        self.osim_model.actuate(action)
        try:
            self.osim_model.integrate()
        except SimulationError as error:
            self.simulation_failure = str(error)
            self.reward_terms = {}
            return [self.observe_after_failure(project, obs_as_dict), self.failure_reward, True,
                    {"simulation_failure": self.simulation_failure}]
        reward = self.get_reward()
        done = bool(self.is_done() or self.time_limit_reached())
        info = {"reward_terms": dict(self.reward_terms)} if self.reward_terms else {}
        return [self.observe(project, obs_as_dict), reward, done, info]

    def observe_after_failure(self, project: bool, obs_as_dict: bool | None) -> Any:
        """The observation returned with a failure: the last valid state's (OpenSim's is unusable)."""
        self.osim_model.keep_description(self.prev_state_desc)
        return self.observe(project, obs_as_dict)

    # -- rendering ------------------------------------------------------------------------------

    def render(self, mode: str | None = None, close: bool = False) -> Any:
        """``rgb_array``: an image of the current state; ``human``: OpenSim's visualizer draws itself."""
        mode = mode or self.render_mode
        if close or mode is None:
            return None
        if mode == "human":
            from osim.render.human import show

            show(self.osim_model)  # the integrator redraws during steps; this covers resets too
            return None
        if mode != "rgb_array":
            raise ValueError(f"render mode must be 'human' or 'rgb_array', got {mode!r}")
        if self._renderer is None:
            from osim.render import Renderer

            self._renderer = Renderer(self)
        return self._renderer.render()

    def close(self) -> None:
        """Drop the renderer and close the visualizer windows this environment opened."""
        self._renderer = None
        if self._visualizer_pids:
            from osim.render.human import close_visualizers

            close_visualizers(self._visualizer_pids)  # they would outlive Python
            self._visualizer_pids = []

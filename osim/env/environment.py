"""The one generic environment: a :class:`~osim.env.task.Task` run on an engine.

:class:`Environment` owns everything that is the same for every task: it makes the engine
(``engine="opensim"`` or another name of :mod:`osim.engine.registry`), seeds the task's
generators, starts episodes (:meth:`Environment.reset_episode`), steps them
(:meth:`Environment.advance`), ends them on the task's termination, the time limit or a simulation
failure (with the reason), writes the ``report=`` CSV files and renders. It uses only the
:class:`osim.engine.Engine` protocol, so a task runs on any engine.

Users meet it through an adapter: the original 2017-2019 API (:class:`osim.env.base.OsimEnv`,
4-list ``step``) or Gymnasium (:class:`osim.env.gym_adapter.OsimGymEnv`, 5-tuple ``step``).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces

from osim.engine import (
    Engine,
    EpisodeEndedError,
    IntegratorSettings,
    SimulationError,
    StateArrays,
    StateDescription,
    validate_excitations,
)
from osim.engine.registry import DEFAULT_ENGINE, create_engine
from osim.env.report import CsvReport
from osim.env.task import Reward, Task

RENDER_MODES = (None, "human", "rgb_array")


@dataclass
class StepResult:
    """What one :meth:`Environment.advance` did.

    ``terminated``: the task ended the episode (``reason`` says why: a key of the task's
    ``termination_reasons``, or ``"simulation_failure"`` with the engine's message in ``failure``);
    ``truncated``: the time limit was reached.
    """

    reward: float
    terms: dict[str, float] = field(default_factory=dict)
    terminated: bool = False
    truncated: bool = False
    reason: str | None = None
    failure: str | None = None

    @property
    def done(self) -> bool:
        """Terminated or truncated (the original's ``done``)."""
        return self.terminated or self.truncated

    def info(self) -> dict[str, Any]:
        """The step's ``info`` dict: reward terms, the termination reason, the failure message."""
        if self.failure is not None:
            return {"simulation_failure": self.failure}
        info: dict[str, Any] = {"reward_terms": dict(self.terms)} if self.terms else {}
        if self.terminated:
            info["termination"] = self.reason
        return info


class Environment:
    """A task on an engine: episodes, failures, reports, rendering and seeding.

    Args:
        task: the :class:`~osim.env.task.Task`.
        engine: the engine's name in :data:`osim.engine.registry.ENGINES` (``"opensim"``, ``"mujoco"``).
        visualize: ask the engine for its own viewer (OpenSim: simbody-visualizer).
        integrator: the engine's integrator settings (default: the task's, else the engine's).
        render_mode: ``None``, ``"rgb_array"`` or ``"human"``.
        report: file prefix of the CSV report (``<report>-obs.csv`` and ``<report>-act.csv``).
    """

    metadata: ClassVar[dict[str, Any]] = {
        "render.modes": ["human", "rgb_array"], "render_modes": ["human", "rgb_array"],
        "video.frames_per_second": 100, "render_fps": 100,
    }

    task: Task
    engine: Engine

    def __init__(
        self,
        task: Task,
        *,
        engine: str = DEFAULT_ENGINE,
        visualize: bool = False,
        integrator: IntegratorSettings | None = None,
        render_mode: str | None = None,
        report: str | None = None,
    ) -> None:
        self._setup(task, engine=engine, visualize=visualize, integrator=integrator, render_mode=render_mode)
        self.load_model()
        self.open_report(report)

    def _setup(
        self, task: Task, *, engine: str, visualize: bool, integrator: IntegratorSettings | None,
        render_mode: str | None,
    ) -> None:
        """Everything before the engine is made (the adapters call it in their own order)."""
        if render_mode not in RENDER_MODES:
            raise ValueError(f"render_mode must be None, 'human' or 'rgb_array', got {render_mode!r}")
        if not isinstance(engine, str):
            raise ValueError(f"engine must be an engine name such as 'opensim', got {engine!r}")
        if render_mode == "human" and engine != DEFAULT_ENGINE:
            raise ValueError(f"render_mode='human' is OpenSim's own window; the {engine!r} engine has none: "
                             "use render_mode='rgb_array' (frames, GIF/MP4) or engine='opensim'")
        if render_mode == "human":
            from osim.render.human import require_visualizer

            require_visualizer()  # a clear error without a display, instead of a silent headless run
        self.task = task
        self.engine_name = engine
        self.visualize = visualize or render_mode == "human"
        self.integrator = integrator
        self.render_mode = render_mode
        self._prev_desc: StateDescription | None = None
        self._prev_arrays: StateArrays | None = None
        self.reward_terms: dict[str, float] = {}
        self.simulation_failure: str | None = None
        self.termination_reason: str | None = None
        self._renderer: Any = None
        self._report: CsvReport | None = None
        self._visualizer_pids: list[int] = []
        self.seed(None)

    # -- randomness -----------------------------------------------------------------------------

    def seed(self, seed: int | None = None) -> list[int | None]:
        """Re-seed this environment's own generators (no global NumPy or ``random`` state).

        ``np_random`` is a legacy ``RandomState`` and ``py_random`` a ``random.Random`` so that a
        seed gives the same draws as the original's ``np.random.seed``/``random.seed`` did.
        """
        self.np_random = np.random.RandomState(seed)
        self.py_random = random.Random(seed)
        return [seed]

    # -- engine ---------------------------------------------------------------------------------

    def create_engine(self, model: Any) -> Engine:
        """A new engine of :attr:`engine_name` running ``model``, from :func:`osim.engine.registry.create_engine`."""
        return create_engine(
            self.engine_name, model, step_size=self.task.step_size, visualize=self.visualize,
            integrator=self.integrator or self.task.integrator,
        )

    def load_model(self, model: Any = None) -> None:
        """Make the engine for ``model`` (default: the task's) and the action and observation spaces."""
        if model is not None:
            self.task.model = model
        self.close_viewers()  # the previous model's window
        self.engine = self.create_engine(self.task.model)
        self.task.engine_loaded(self.engine)
        if getattr(self.engine, "visualize", False):
            from osim.render.human import claim_new_visualizers

            self._visualizer_pids = claim_new_visualizers()
        self.make_spaces()

    def make_spaces(self) -> None:
        """``action_space`` (excitations in [0, 1]) and ``observation_space`` (the task's layout)."""
        n_actions = self.task.n_actions(self.engine)
        self.action_space = spaces.Box(
            low=np.zeros(n_actions, dtype=np.float32), high=np.ones(n_actions, dtype=np.float32)
        )
        low, high = self.task.observation_layout().bounds()
        self.observation_space = spaces.Box(low=low, high=high, dtype=np.float64)

    # -- state and observation ------------------------------------------------------------------

    def get_state_desc(self) -> StateDescription:
        """The current state description (after a failure: the last valid state's)."""
        if self.simulation_failure is not None and self.prev_state_desc is not None:
            return self.prev_state_desc
        return self.task.describe(self.engine)

    @property
    def prev_state_desc(self) -> StateDescription | None:
        """The state description before the last step; ``None`` right after a reset.

        For an array-based task it is built only when asked for, from the arrays of that state."""
        if self._prev_desc is None and self._prev_arrays is not None:
            self._prev_desc = self.task.describe_state(self._prev_arrays)
        return self._prev_desc

    @prev_state_desc.setter
    def prev_state_desc(self, description: StateDescription | None) -> None:
        self._prev_desc, self._prev_arrays = description, None

    def get_prev_state_desc(self) -> StateDescription | None:
        """The state description before the last step; ``None`` right after a reset."""
        return self.prev_state_desc

    def task_state(self) -> Any:
        """What the task computes from: the engine's :class:`~osim.engine.StateArrays` for an
        array-based task (after a failure: the last valid state's), else the state description."""
        if not self.task.array_based:
            return self.get_state_desc()
        if self.simulation_failure is not None and self._prev_arrays is not None:
            return self._prev_arrays
        return self.engine.state_arrays()

    def prev_task_state(self) -> Any:
        """:meth:`task_state` before the last step; ``None`` right after a reset."""
        return self._prev_arrays if self.task.array_based else self.prev_state_desc

    @property
    def istep(self) -> int:
        """Number of steps since the last reset."""
        return self.engine.istep

    def observation(self) -> list[float]:
        """The flat observation vector of the current state."""
        return self.task.observation(self.engine, self.task_state())

    def time_limit_reached(self) -> bool:
        """Whether the episode has taken the task's ``time_limit`` steps."""
        return self.engine.istep >= self.task.time_limit

    # -- the task's hooks (the original-API adapter routes them through its own method names) ---

    def step_reward(self) -> Reward:
        """The task's reward for the step just taken."""
        return self.task.reward(self.engine, self.task_state(), self.prev_task_state())

    def step_termination(self) -> str | None:
        """The task's termination reason for the current state, or None."""
        return self.task.termination(self.engine, self.task_state())

    def step_excitations(self, action: Any) -> Any:
        """The engine's excitations for ``action``."""
        return self.task.excitations(action, self.engine)

    # -- episode --------------------------------------------------------------------------------

    def reset_episode(self, seed: int | None = None) -> None:
        """Start an episode: re-seed when ``seed`` is given, let the task set the initial state."""
        if seed is not None:
            self.seed(seed)
        self.task.initialize_episode(self.engine, self.np_random, self.py_random)
        self.episode_started()

    def episode_started(self) -> None:
        """The bookkeeping of every reset (once the engine is in the initial state)."""
        self.prev_state_desc = None
        self.simulation_failure = None
        self.termination_reason = None
        self.reward_terms = {}
        if self._report is not None:
            self._report.new_episode(self.report_row())

    def advance(self, action: Any) -> StepResult:
        """Apply ``action`` for one control interval and score it.

        A simulation failure ends the episode (``reason="simulation_failure"``, the message in
        ``failure``, the task's ``failure_reward``); stepping again before a reset raises
        :class:`~osim.engine.EpisodeEndedError`.
        """
        if self.simulation_failure is not None:
            raise EpisodeEndedError(
                f"the simulation failed ({self.simulation_failure}); call reset() before step()"
            )
        if self.task.array_based:  # the description of the state before the step: only if asked for
            self._prev_desc, self._prev_arrays = None, self.engine.state_arrays()
        else:
            self.prev_state_desc = self.get_state_desc()
        excitations = self.step_excitations(action)
        try:
            self.engine.step(excitations)
        except SimulationError as error:
            return self.failed(str(error))
        result = self.score_step()
        self.task.after_step(self.engine, self.task_state())
        if self._report is not None:
            self._report.write_step(self.report_row(), validate_excitations(action, self.task.n_actions(self.engine)))
        return result

    def score_step(self) -> StepResult:
        """The reward, the termination and the truncation of the step just taken."""
        reward = self.step_reward()
        self.reward_terms = reward.terms
        reason = self.step_termination()
        self.termination_reason = reason
        result = StepResult(reward.total, reward.terms, reason is not None, False, reason)
        result.truncated = not result.terminated and self.time_limit_reached()
        return result

    def failed(self, message: str) -> StepResult:
        """End the episode on a simulation failure (the state stays the last valid one's)."""
        self.simulation_failure = message
        self.termination_reason = "simulation_failure"
        self.reward_terms = {}
        return StepResult(self.task.failure_reward, {}, True, False, "simulation_failure", message)

    # -- report ---------------------------------------------------------------------------------

    def open_report(self, prefix: str | None) -> None:
        """Write the CSV report to ``<prefix>-obs.csv``/``<prefix>-act.csv`` (nothing if None)."""
        if prefix:
            self._report = CsvReport(prefix, *self.report_columns())

    def report_columns(self) -> tuple[list[str], list[str]]:
        """(observation column names, action column names) of the report."""
        return self.task.observation_layout().names(), list(self.engine.muscle_names)

    def report_row(self) -> list[float]:
        """The report's observation row of the current state."""
        return self.observation()

    # -- rendering ------------------------------------------------------------------------------

    def render(self, mode: str | None = None, close: bool = False) -> Any:
        """``rgb_array``: an image of the current state; ``human``: the engine's viewer draws itself."""
        mode = mode or self.render_mode
        if close or mode is None:
            return None
        if mode == "human":
            from osim.render.human import show

            show(self.engine)  # the engine redraws during steps; this covers resets too
            return None
        if mode != "rgb_array":
            raise ValueError(f"render mode must be 'human' or 'rgb_array', got {mode!r}")
        if self._renderer is None:
            from osim.render import Renderer

            self._renderer = Renderer(self)
        return self._renderer.render()

    def close_viewers(self) -> None:
        """Drop the renderer and close the viewer windows this environment opened."""
        self._renderer = None
        if self._visualizer_pids:
            from osim.render.human import close_visualizers

            close_visualizers(self._visualizer_pids)  # they would outlive Python
            self._visualizer_pids = []

    def close(self) -> None:
        """Close the viewers and the report."""
        self.close_viewers()
        if self._report is not None:
            self._report.close()
            self._report = None

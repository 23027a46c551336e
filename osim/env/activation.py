"""``ActivationEnv``: the base of the Nov 2016 - Apr 2017 environments (spec §2.1).

Before the NIPS 2017 challenge the action vector was written straight into the muscles'
*activation* states at the start of every 0.01 s step; the models had no controller, so the
excitations were zero and Thelen's activation dynamics let the activations decay during the step.
Each step integrated with a fresh OpenSim ``Manager`` at Simbody's default accuracy (1e-3); an
integration failure returned reward -500 and ``done``.

Here the engine's excitations are held at 0 for the same effect, and every step uses
``IntegratorSettings(manager_per_step=True, accuracy=1e-3)``. On MuJoCo (``engine="mujoco"``) the
actions go into MuJoCo's muscle activation states the same way (``set_activations``, ``actuate``,
``integrate`` of :class:`osim.engine.mujoco.engine.MujocoSimulation`); the integrator settings do
not apply there.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from osim.engine import IntegratorSettings, Simulation, SimulationError, StateDescription, validate_excitations
from osim.env.base import OsimEnv

#: The 2016-17 integrator: a new Manager per step, Simbody's default accuracy.
ERA_2016_INTEGRATOR = IntegratorSettings(manager_per_step=True, accuracy=1e-3)


class ActivationEnv(OsimEnv):
    """An environment whose actions are muscle activations written into the state every step.

    An adapter (activations are written into the engine's state: ``set_activations``) around a task
    (``task_class``: observation, reward and termination); ``muscle_groups`` (optional) maps each
    action entry to the muscles it drives (default: one muscle each). Subclasses written the
    original way define ``model_path``, ``timestep_limit``, ``get_observation``,
    ``get_observation_space_size``, ``compute_reward`` and ``is_done`` instead.
    """

    failure_reward = -500.0
    timestep_limit = 500
    #: For each action entry, the model muscle indices it sets (None: action j drives muscle j).
    muscle_groups: tuple[tuple[int, ...], ...] | None = None

    def __init__(self, visualize: bool = True, *, integrator: IntegratorSettings | None = None, **kwargs: Any):
        self.time_limit = self.timestep_limit
        super().__init__(visualize=visualize, integrator=integrator or ERA_2016_INTEGRATOR, **kwargs)
        n_muscles = self.osim_model.n_muscles
        # Matrix from action entries to muscles (activations = action @ spread); None: one each.
        self._spread: np.ndarray | None = None
        if self.muscle_groups:
            self._spread = np.zeros((len(self.muscle_groups), n_muscles))
            for j, muscles in enumerate(self.muscle_groups):
                self._spread[j, list(muscles)] = 1.0

    def get_action_space_size(self) -> int:
        """Number of actions: one per muscle group, or one per muscle without groups."""
        groups = self.muscle_groups
        return len(groups) if groups else self.osim_model.n_muscles

    def get_state_desc(self) -> StateDescription:
        """The current state's description (after a failure on OpenSim the state is the one before the
        step; an engine that cannot go back to it gives that state's description kept from the step)."""
        if self.simulation_failure is not None and not self._restorable() and self.prev_state_desc is not None:
            return self.prev_state_desc
        return self.task.describe(self.engine)

    def _restorable(self) -> bool:
        """Whether a failed step can be undone (the OpenSim engine's states can be copied back)."""
        return isinstance(self.engine, Simulation)

    # -- episode --------------------------------------------------------------------------------

    def reset(self, project: bool = True, obs_as_dict: bool | None = None, **kwargs: Any) -> Any:
        """Reset with zero excitations (as in 2016-17); returns the first observation."""
        self.reset_episode()
        # No controller in 2016-17: the excitations were zero.
        self.osim_model.actuate(np.zeros(self.osim_model.n_muscles))
        return self.observe(project, obs_as_dict)

    def step(self, action: Any, project: bool = True, obs_as_dict: bool | None = None) -> list:
        """Write ``action`` (activations in [0, 1]) into the state and integrate 0.01 s.

        Returns ``[observation, reward, done, info]``. If OpenSim fails, the reward is -500, ``done``
        is True, ``info["simulation_failure"]`` says why, and the state stays the one before the
        step (so, as in the original, stepping on retries from there). On MuJoCo a failure (a
        diverging state) is the same, but the episode is over: the next step fails again until
        ``reset``.
        """
        activations = validate_excitations(action, self.get_action_space_size())
        if self._spread is not None:
            activations = activations @ self._spread
        self.prev_state_desc = self.get_state_desc()
        model = self.osim_model
        model.set_activations(activations)
        # the integrator starts from a copy: this object stays as it is (another engine: after a
        # failure the episode is over, reset() starts the next)
        before = model.state if self._restorable() else None
        try:
            model.integrate()
        except SimulationError as error:
            if before is not None:
                model.set_state(before)
            self.reward_terms = {}
            self.simulation_failure = str(error)
            self.termination_reason = "simulation_failure"
            return [self.observe(project, obs_as_dict), self.failure_reward, True,
                    {"simulation_failure": self.simulation_failure}]
        self.simulation_failure = None
        result = self.score_step()
        return [self.observe(project, obs_as_dict), result.reward, result.done, result.info()]

    # -- helpers for the 2016-17 observations ---------------------------------------------------

    def coordinate_values(self, joint: str) -> tuple[float, float, float]:
        """(value, speed, acceleration) of the joint's first coordinate."""
        d = self.get_state_desc()
        return d["joint_pos"][joint][0], d["joint_vel"][joint][0], d["joint_acc"][joint][0]

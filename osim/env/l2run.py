"""``L2RunEnv``: the 2018 port of the NIPS 2017 "Learning to Run" task (spec §3.4).

A planar 9-DoF, 18-muscle model (``gait9dof18musc``) runs forward for 1000 steps (10 s) on flat
ground, with no obstacles and no psoas weakness.

Action
------
18 muscle excitations in [0, 1], held for 0.01 s, in model order: ``hamstrings, bifemsh, glut_max,
iliopsoas, rect_fem, vasti, gastroc, soleus, tib_ant`` of the right leg (0-8), then the same muscles
of the left leg (9-17). Values outside [0, 1] are clipped; NaN raises ``ValueError``.

Observation
-----------
A list (``project=False`` gives the state-description dict instead):

Reward
------
``forward``: the pelvis's forward displacement in the step, ``pelvis_tx - previous pelvis_tx`` (m).

Termination
-----------
Terminated when the pelvis body is below y = 0.6 m; truncated after 1000 steps.

Arguments
---------
=====================  ==========  ================================================================
argument               default     meaning
=====================  ==========  ================================================================
visualize              True        OpenSim's visualizer (headless with one warning without a display)
integrator_accuracy    5e-5        accuracy of the Runge-Kutta-Merson integrator
integrator             None        full ``osim.engine.IntegratorSettings`` (overrides the accuracy)
render_mode            None        ``"rgb_array"`` for images, ``"human"`` for the visualizer
=====================  ==========  ================================================================

Quirks
------
* Observation size: the original's ``get_observation_space_size()`` said 41 although the list has
  43 entries since the centre of mass became 3-D (2018-06). Here the space has the true size 43
  (``original_observation_space_size = 41`` records the old value); the values are unchanged.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from osim.engine import Engine, StateArrays
from osim.env.base import OsimEnv
from osim.env.task import NO_REWARD, ObservationLayout, Reward, Task, part
from osim.models import model_path

_JOINTS = ("hip_l", "hip_r", "knee_l", "knee_r", "ankle_l", "ankle_r")
_BODIES = ("head", "pelvis", "torso", "toes_l", "toes_r", "talus_l", "talus_r")
_PELVIS = ("pelvis_tilt", "pelvis_tx", "pelvis_ty")

OBSERVATION = ObservationLayout((
    part("pelvis", _PELVIS, "pelvis coordinates ``pelvis_tilt`` (rad), ``pelvis_tx``, ``pelvis_ty`` (m)"),
    part("pelvis_speed", [f"{c}.speed" for c in _PELVIS], "their speeds (rad/s, m/s)"),
    part("joints", [f"{j}.{q}" for j in _JOINTS for q in ("angle", "speed")],
         "for ``" + ", ".join(_JOINTS) + "``: angle (rad) then angular speed (rad/s)"),
    part("bodies", [f"{b}.{a}" for b in _BODIES for a in ("x", "y")],
         "x, y (m) of bodies ``" + ", ".join(_BODIES) + "``"),
    part("mass_center", [f"mass_center.{a}" for a in ("x", "y", "z")], "centre-of-mass position x, y, z (m)"),
    part("mass_center_vel", [f"mass_center.v{a}" for a in ("x", "y", "z")],
         "centre-of-mass velocity x, y, z (m/s)"),
    part("padding", [f"zero[{k}]" for k in range(5)], "zeros (the original padded its 2017 layout)"),
))


class L2RunTask(Task):
    """Run forward on flat ground with the planar 18-muscle model (2018's port of Learning to Run)."""

    layout = OBSERVATION
    array_based = True

    time_limit = 1000
    reward_weights = {"forward": 1.0}  # noqa: RUF012
    termination_reasons = {"pelvis_too_low": "the pelvis body is below y = 0.6 m"}  # noqa: RUF012

    def __init__(self) -> None:
        self.model = model_path("gait9dof18musc")
        self._pelvis = self._joints = self._bodies = np.zeros(0, dtype=int)
        self._pelvis_body = 0

    def engine_loaded(self, engine: Engine) -> None:
        """Where the observed quantities are in the engine's :class:`StateArrays`."""
        structure = engine.structure
        column = {c.name: k for k, c in enumerate(structure.coordinates)}
        self._pelvis = np.array([column[c] for c in structure.joint("ground_pelvis").coordinates[:3]])
        self._joints = np.array([column[structure.joint(joint).coordinates[0]] for joint in _JOINTS])
        body_index = {b.name: k for k, b in enumerate(structure.bodies)}
        self._bodies = np.array([body_index[body] for body in _BODIES])
        self._pelvis_body = body_index["pelvis"]

    def observation(self, engine: Engine, description: StateArrays) -> list[float]:
        """Pelvis, joint, body and centre-of-mass kinematics."""
        state = description
        observation = np.zeros(OBSERVATION.size)  # ends with the 5 zeros of the padding
        observation[0:3] = state.q[self._pelvis]
        observation[3:6] = state.qd[self._pelvis]
        observation[6:18:2] = state.q[self._joints]
        observation[7:18:2] = state.qd[self._joints]
        observation[18:32] = state.body_pos[self._bodies, :2].ravel()
        observation[32:35] = state.mass_center_pos
        observation[35:38] = state.mass_center_vel
        return observation.tolist()

    def reward(self, engine: Engine, description: StateArrays, previous: StateArrays | None) -> Reward:
        """Forward progress of the pelvis in the step (0 right after a reset)."""
        if not previous:
            return NO_REWARD
        tx = self._pelvis[1]
        forward = description.q.item(tx) - previous.q.item(tx)
        return Reward(forward, {"forward": forward})

    def termination(self, engine: Engine, description: StateArrays) -> str | None:
        """``pelvis_too_low`` below 0.6 m."""
        return "pelvis_too_low" if description.body_pos.item(self._pelvis_body, 1) < 0.6 else None


class L2RunEnv(OsimEnv):
    """Run as far as possible in 10 s with a planar 18-muscle model (2018 API)."""

    task_class = L2RunTask
    model_path = None  # the task's, set in __init__
    time_limit = L2RunTask.time_limit
    original_observation_space_size = 41

    def __init__(self, visualize: bool = True, integrator_accuracy: float = 5e-5, **kwargs: Any):
        super().__init__(visualize=visualize, integrator_accuracy=integrator_accuracy, **kwargs)

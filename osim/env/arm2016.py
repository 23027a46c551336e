"""``ArmEnv``: the 2016-17 arm task (spec §3.1): bring the shoulder and elbow to target angles.

A planar two-joint arm with six muscles (the 2018 arm model ``arm2dof6musc_2018``, the same
muscles and joints as the 2016 file) holds its joints at target angles drawn at every reset.

Action
------
6 muscle activations in [0, 1] written into the state at the start of each 0.01 s step (the
2016-17 semantics, see :mod:`osim.env.activation`), in model order ``TRIlong, TRIlat, TRImed,
BIClong, BICshort, BRA``. Values outside [0, 1] are clipped; NaN raises ``ValueError``.

Observation
-----------
Reward
------
``angle_error = -(d(q_shoulder, target_shoulder) + d(q_elbow, target_elbow))`` with ``d`` the
angular distance ``min(x, 2 pi - x)``, ``x = (a - b) mod 2 pi``. An OpenSim failure gives -500.

Termination
-----------
Never terminated (except by an OpenSim failure); truncated after 200 steps.

Arguments
---------
=====================  ==========  ============================================================
argument               default     meaning
=====================  ==========  ============================================================
visualize              True        OpenSim's visualizer (headless with one warning without a
                                   display)
seed                   None        seed of the target generator (0 is a seed)
integrator             (1.x)       ``osim.engine.IntegratorSettings``; default a new Manager per
                                   step at accuracy 1e-3
render_mode            None        ``"rgb_array"`` for images, ``"human"`` for the visualizer
=====================  ==========  ============================================================

Targets: at every reset, shoulder ~ U(-1.2, 0.3) then elbow ~ U(-1.0, 0).

``engine="mujoco"`` works: the actions are written into MuJoCo's muscle activation states with
the excitations held at 0 (MuJoCo's activation dynamics use Thelen's time constants: from 0.9 an
activation decays to 0.588 in a step, 0.603 on OpenSim); the same task code and layout. On MuJoCo
a failed step (a diverging state) ends the episode; OpenSim retries from the state before.

Quirks
------
* The 2016-17 activation semantics (actions written into the activation states) are kept;
  v1.5 kept this class with excitations, which the 2018 ``Arm2DEnv`` covers.
* The original's observation was a float32 array; here it is a list of Python floats (the
  float64 values the float32 ones were rounded from).
* Seeds (fixed): targets come from the environment's own ``random.Random``.
* Muscles start in equilibrium (``equilibrateMuscles``, as every later release); the 2016
  code started from the model file's default fibre lengths.
* The v1.5 printout of the distance every 100 steps is not done.
"""
from __future__ import annotations

import math
import random
from typing import Any

import numpy as np

from osim.engine import Engine, StateDescription
from osim.env.activation import ERA_2016_INTEGRATOR, ActivationEnv
from osim.env.task import ObservationLayout, Reward, Task, part, task_attribute
from osim.models import model_path


def angular_dist(t: float, s: float) -> float:
    """Distance between two angles (rad), in [0, pi]."""
    x = (t - s) % (2 * math.pi)
    return min(x, 2 * math.pi - x)


def sanitify(x: float) -> float:
    """NaN -> 0, then clip to +-1000 (the 2016-17 treatment of accelerations)."""
    if math.isnan(x):
        return 0.0
    return min(max(x, -1000.0), 1000.0)


OBSERVATION = ObservationLayout((
    part("targets", ["shoulder_tgt", "elbow_tgt"], "shoulder and elbow target angles (rad)"),
    part("angles", ["r_shoulder_elev", "r_elbow_flex"],
         "shoulder ``r_shoulder_elev`` and elbow ``r_elbow_flex`` angles (rad)"),
    part("speeds", ["r_shoulder_elev.speed", "r_elbow_flex.speed"], "their angular speeds (rad/s)"),
    part("accelerations", ["r_shoulder_elev.acceleration", "r_elbow_flex.acceleration"],
         "their angular accelerations (rad/s^2), NaN -> 0 and clipped to +-1000"),
    part("mass_center", [f"mass_center.{a}" for a in ("x", "y", "z")], "centre of mass x, y, z (m)"),
    part("mass_center_vel", [f"mass_center.v{a}" for a in ("x", "y", "z")], "centre-of-mass velocity x, y, z (m/s)"),
))


def _coordinate(d: StateDescription, joint: str) -> tuple[float, float, float]:
    """(value, speed, acceleration) of the joint's first coordinate."""
    return d["joint_pos"][joint][0], d["joint_vel"][joint][0], d["joint_acc"][joint][0]


class ArmTask(Task):
    """Bring the arm's shoulder and elbow to target angles drawn at each reset (2016-17)."""

    layout = OBSERVATION

    time_limit = 200
    failure_reward = -500.0
    integrator = ERA_2016_INTEGRATOR
    reward_weights = {"angle_error": -1.0}  # noqa: RUF012

    def __init__(self) -> None:
        self.model = model_path("arm2dof6musc_2018")
        self.shoulder_tgt = 0.0
        self.elbow_tgt = 0.0

    def initialize_episode(self, engine: Engine, np_random: np.random.RandomState, py_random: random.Random) -> None:
        """Draw new shoulder and elbow target angles; the model's default pose."""
        self.shoulder_tgt = py_random.uniform(-1.2, 0.3)
        self.elbow_tgt = py_random.uniform(-1.0, 0.0)
        engine.reset()


    def observation(self, engine: Engine, description: StateDescription) -> list[float]:
        """Target angles, shoulder and elbow coordinates and misc entries."""
        d = description
        shoulder = _coordinate(d, "r_shoulder")
        elbow = _coordinate(d, "r_elbow")
        misc = d["misc"]
        return [
            self.shoulder_tgt, self.elbow_tgt,
            shoulder[0], elbow[0], shoulder[1], elbow[1], sanitify(shoulder[2]), sanitify(elbow[2]),
            *misc["mass_center_pos"], *misc["mass_center_vel"],
        ]

    def reward(self, engine: Engine, description: StateDescription, previous: StateDescription | None) -> Reward:
        """Minus the angular distance of the shoulder and elbow from their targets."""
        d = description
        error = angular_dist(d["joint_pos"]["r_shoulder"][0], self.shoulder_tgt) + angular_dist(
            d["joint_pos"]["r_elbow"][0], self.elbow_tgt
        )
        return Reward(-error, {"angle_error": -error})


class ArmEnv(ActivationEnv):
    """Bring the arm's shoulder and elbow to target angles (Nov 2016 - 2017)."""

    task: ArmTask
    task_class = ArmTask
    timestep_limit = ArmTask.time_limit

    def __init__(self, visualize: bool = True, *, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(visualize=visualize, **kwargs)
        self.seed(seed)

    shoulder_tgt = task_attribute("shoulder_tgt", "The shoulder's target angle (rad).")
    elbow_tgt = task_attribute("elbow_tgt", "The elbow's target angle (rad).")

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
A list of 14 floats:

=======  ======================================================================================
index    content
=======  ======================================================================================
0-1      shoulder and elbow target angles (rad)
2-3      shoulder ``r_shoulder_elev`` and elbow ``r_elbow_flex`` angles (rad)
4-5      their angular speeds (rad/s)
6-7      their angular accelerations (rad/s^2), NaN -> 0 and clipped to +-1000
8-10     centre of mass x, y, z (m)
11-13    centre-of-mass velocity x, y, z (m/s)
=======  ======================================================================================

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
from typing import Any

from osim.env.activation import ActivationEnv
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


class ArmEnv(ActivationEnv):
    """Bring the arm's shoulder and elbow to target angles (Nov 2016 - 2017)."""

    timestep_limit = 200

    def __init__(self, visualize: bool = True, *, seed: int | None = None, **kwargs: Any) -> None:
        self.model_path = model_path("arm2dof6musc_2018")
        self.shoulder_tgt = 0.0
        self.elbow_tgt = 0.0
        super().__init__(visualize=visualize, **kwargs)
        self.seed(seed)

    def reset(self, project: bool = True, obs_as_dict: bool | None = None, **kwargs: Any) -> Any:
        """Draw new shoulder and elbow target angles and reset; returns the first observation."""
        self.shoulder_tgt = self.py_random.uniform(-1.2, 0.3)
        self.elbow_tgt = self.py_random.uniform(-1.0, 0.0)
        return super().reset(project=project, obs_as_dict=obs_as_dict, **kwargs)

    def get_observation(self) -> list[float]:
        """Target angles, shoulder and elbow coordinates and misc entries (14 values)."""
        d = self.get_state_desc()
        shoulder = self.coordinate_values("r_shoulder")
        elbow = self.coordinate_values("r_elbow")
        misc = d["misc"]
        return [
            self.shoulder_tgt, self.elbow_tgt,
            shoulder[0], elbow[0], shoulder[1], elbow[1], sanitify(shoulder[2]), sanitify(elbow[2]),
            *misc["mass_center_pos"], *misc["mass_center_vel"],
        ]

    def get_observation_space_size(self) -> int:
        """Length of the observation vector (14)."""
        return 14

    def compute_reward(self) -> float:
        """Minus the angular distance of the shoulder and elbow from their targets."""
        d = self.get_state_desc()
        error = angular_dist(d["joint_pos"]["r_shoulder"][0], self.shoulder_tgt) + angular_dist(
            d["joint_pos"]["r_elbow"][0], self.elbow_tgt
        )
        self.reward_terms = {"angle_error": -error}
        return -error

"""``GaitEnv``, ``StandEnv``, ``HopEnv``, ``CrouchEnv``: the Jan-Apr 2017 pilot tasks (spec §3.2).

The first osim-rl environments (the crowdAI "Gait" pilot before NIPS 2017). A planar 9-DoF,
18-muscle model (``gait9dof18musc``; ``hop8dof9musc`` with ``pelvis_tx`` locked for Hop and Crouch)
walks as far as possible (Gait), stands still (Stand), jumps high (Hop) or crouches (Crouch).
Actions are muscle *activations* written into the state at the start of every 0.01 s step (see
:mod:`osim.env.activation`).

Action
------
Gait, Stand: 18 activations in [0, 1], in model order ``hamstrings, bifemsh, glut_max, iliopsoas,
rect_fem, vasti, gastroc, soleus, tib_ant`` of the right leg (0-8), then the left leg (9-17).
Hop, Crouch: 9 activations, each driving the same muscle of both legs (action j sets muscles j and
j + 9). Values outside [0, 1] are clipped; NaN raises ``ValueError``.

Observation
-----------
A list of 31 floats:

=======  ==========================================================================================
index    content
=======  ==========================================================================================
0        0.0 (unused)
1-3      pelvis coordinates ``pelvis_tilt`` (rad), ``pelvis_tx``, ``pelvis_ty`` (m)
4-6      their speeds
7-12     angles of ``hip_r, knee_r, ankle_r, hip_l, knee_l, ankle_l`` (rad)
13-18    their angular speeds (rad/s)
19-20    centre of mass x, y (m)
21-22    centre-of-mass velocity x, y (m/s)
23-24    head x, y (m)
25-26    pelvis x, y (m)
27-28    ``toes_r`` x, y (m; the original called it "FootL")
29-30    ``toes_l`` x, y (m; the original called it "FootR")
=======  ==========================================================================================

Reward
------
=========  ==================================================================================
env        reward (named term in ``info["reward_terms"]``)
=========  ==================================================================================
GaitEnv    ``position = pelvis_tx`` (see Quirks; ``delta_reward=True``: ``progress`` = its change)
StandEnv   ``stillness = (50 - min(|a_com|^2, 10) - min(|v_com|^2, 40)) / 50`` (3-D COM)
HopEnv     ``height = pelvis_ty^3``
CrouchEnv  ``crouch = 1 - (pelvis_ty - 0.5)^3``
=========  ==================================================================================

An OpenSim failure gives reward -500 and ``done``.

Termination
-----------
Terminated when ``pelvis_ty`` < 0.7 m (Hop and Crouch too, see Quirks) or OpenSim fails;
truncated after 500 steps.

Arguments
---------
=====================  ==========  ================================================================
argument               default     meaning
=====================  ==========  ================================================================
visualize              True        OpenSim's visualizer (headless with one warning without a display)
delta_reward           False       GaitEnv only: reward the step's forward progress (see Quirks)
own_height_limit       False       HopEnv/CrouchEnv only: end at their own pelvis heights 0.4/0.25
integrator             (1.x)       ``osim.engine.IntegratorSettings``; default a new Manager per
                                   step at accuracy 1e-3
render_mode            None        ``"rgb_array"`` for images, ``"human"`` for the visualizer
=====================  ==========  ================================================================

Quirks
------
* GaitEnv reward (kept): the reward was meant to be the step's progress, but the line updating the
  previous state was dropped in 2017-01, so each step pays the absolute ``pelvis_tx`` (an episode
  pays the sum of positions). ``delta_reward=True`` pays the change of ``pelvis_tx`` instead.
* Hop/Crouch termination (kept): they define their own heights (0.4 and 0.25 m) but the inherited
  check used Gait's 0.7 m, so a crouch below 0.7 m ends the episode. ``own_height_limit=True``
  uses their own heights.
* Class-level joint lists (fixed): a second environment in the same process read the first one's
  joints in the original; here everything is per instance.
* Time limit: the original left the 500-step limit to the caller; here ``done`` is also True at
  500 steps (truncation for Gymnasium).
* Observation space (fixed): the original declared ``[-pi, pi]`` bounds that positions and speeds
  leave; here the space is unbounded.
* Muscles start in equilibrium (``equilibrateMuscles``, as every later release); the 2016-17 code
  started from the model file's default fibre lengths.
* After an OpenSim failure, stepping on retries from the state before the failed step, as the
  original did (it left the state unchanged).
"""
from __future__ import annotations

from typing import Any

from osim.env.activation import ActivationEnv
from osim.models import model_path

LEG_JOINTS: tuple[str, ...] = ("hip_r", "knee_r", "ankle_r", "hip_l", "knee_l", "ankle_l")
#: Bodies whose (x, y) end the observation: the original's bodySet indices 12, 0, 5, 10.
TRACKED_BODIES: tuple[str, ...] = ("head", "pelvis", "toes_r", "toes_l")
#: The pilot's termination height of the pelvis (``is_pelvis_too_low``).
PELVIS_LIMIT = 0.7


class GaitEnv(ActivationEnv):
    """Walk as far as possible in 5 s (the 2017 crowdAI pilot)."""

    model_name = "gait9dof18musc"
    timestep_limit = 500
    ninput = 31

    def __init__(self, visualize: bool = True, *, delta_reward: bool = False, **kwargs: Any) -> None:
        if delta_reward and type(self).compute_reward is not GaitEnv.compute_reward:
            raise ValueError(f"delta_reward applies to GaitEnv's reward only, not to {type(self).__name__}")
        self.model_path = model_path(self.model_name)
        self.delta_reward = bool(delta_reward)
        super().__init__(visualize=visualize, **kwargs)

    def get_observation(self) -> list[float]:
        """Pelvis, joint and body kinematics and misc entries, as in the 2016-17 releases."""
        d = self.get_state_desc()
        pelvis_pos = d["joint_pos"]["ground_pelvis"]
        pelvis_vel = d["joint_vel"]["ground_pelvis"]
        joint_pos, joint_vel, body_pos, misc = d["joint_pos"], d["joint_vel"], d["body_pos"], d["misc"]
        observation = [0.0, *pelvis_pos[:3], *pelvis_vel[:3]]
        observation += [joint_pos[joint][0] for joint in LEG_JOINTS]
        observation += [joint_vel[joint][0] for joint in LEG_JOINTS]
        observation += misc["mass_center_pos"][:2] + misc["mass_center_vel"][:2]
        for body in TRACKED_BODIES:
            observation += body_pos[body][:2]
        return observation

    def get_observation_space_size(self) -> int:
        """Length of the observation vector (``ninput``)."""
        return self.ninput

    def pelvis_height(self) -> float:
        """``pelvis_ty``, the pelvis's vertical coordinate (m)."""
        return self.get_state_desc()["joint_pos"]["ground_pelvis"][2]

    def is_pelvis_too_low(self) -> bool:
        """Whether the pelvis is below the fall limit."""
        return self.pelvis_height() < PELVIS_LIMIT

    def is_done(self) -> bool:
        """The episode ends when the pelvis is too low."""
        return self.is_pelvis_too_low()

    def compute_reward(self) -> float:
        """Forward pelvis position, or its progress in the step with ``delta_reward``."""
        x = self.get_state_desc()["joint_pos"]["ground_pelvis"][1]
        if self.delta_reward:
            previous = self.get_prev_state_desc()
            progress = x - previous["joint_pos"]["ground_pelvis"][1] if previous else 0.0
            self.reward_terms = {"progress": progress}
            return progress
        # The original subtracted a "last state" that stayed all zeros.
        self.reward_terms = {"position": x}
        return x


class StandEnv(GaitEnv):
    """Stand still: keep the centre of mass slow and unaccelerated (2016-17)."""

    def compute_reward(self) -> float:
        """Stillness: 1 for a centre of mass at rest, less as it speeds up or accelerates."""
        misc = self.get_state_desc()["misc"]
        acceleration = sum(a * a for a in misc["mass_center_acc"])
        velocity = sum(v * v for v in misc["mass_center_vel"])
        stillness = (50 - min(acceleration, 10) - min(velocity, 40)) / 50.0
        self.reward_terms = {"stillness": stillness}
        return stillness


class _PairedLegsEnv(GaitEnv):
    """Hop and Crouch: the hop model, 9 actions each driving a muscle of both legs."""

    model_name = "hop8dof9musc"
    muscle_groups = tuple((j, j + 9) for j in range(9))
    #: The task's own termination height, used only with ``own_height_limit=True``.
    own_limit = PELVIS_LIMIT

    def __init__(self, visualize: bool = True, *, own_height_limit: bool = False, **kwargs: Any) -> None:
        self.own_height_limit = bool(own_height_limit)
        super().__init__(visualize=visualize, **kwargs)

    def is_head_too_low(self) -> bool:
        """The task's own height limit (the original defined it but did not use it)."""
        return self.pelvis_height() < self.own_limit

    def is_done(self) -> bool:
        return self.is_head_too_low() if self.own_height_limit else self.is_pelvis_too_low()


class HopEnv(_PairedLegsEnv):
    """Jump as high as possible (2016-17)."""

    own_limit = 0.4

    def compute_reward(self) -> float:
        """The cube of the pelvis height."""
        height = self.pelvis_height() ** 3
        self.reward_terms = {"height": height}
        return height


class CrouchEnv(_PairedLegsEnv):
    """Lower the pelvis towards 0.5 m (2016-17)."""

    own_limit = 0.25

    def compute_reward(self) -> float:
        """1 minus the cube of (pelvis height - 0.5 m)."""
        crouch = 1 - (self.pelvis_height() - 0.5) ** 3
        self.reward_terms = {"crouch": crouch}
        return crouch

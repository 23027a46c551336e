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

Engines
-------
``engine="mujoco"`` works: the activations are written into MuJoCo's muscle activation states
(:mod:`osim.env.activation`), the same task code and layout; the motion is MuJoCo's (one seeded
random-activation episode: GaitEnv fell after 67 steps on MuJoCo, stood 100 on OpenSim), and a
failed step ends the episode there.

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

from typing import Any, ClassVar, cast

from osim.engine import Engine, StateDescription
from osim.env.activation import ERA_2016_INTEGRATOR, ActivationEnv
from osim.env.task import ObservationLayout, Reward, Task, part
from osim.models import model_path

LEG_JOINTS: tuple[str, ...] = ("hip_r", "knee_r", "ankle_r", "hip_l", "knee_l", "ankle_l")
#: Bodies whose (x, y) end the observation: the original's bodySet indices 12, 0, 5, 10.
TRACKED_BODIES: tuple[str, ...] = ("head", "pelvis", "toes_r", "toes_l")
#: The pilot's termination height of the pelvis (``is_pelvis_too_low``).
PELVIS_LIMIT = 0.7

OBSERVATION = ObservationLayout((
    part("unused", ["unused"], "0.0 (unused)"),
    part("pelvis", ["pelvis_tilt", "pelvis_tx", "pelvis_ty"],
         "pelvis coordinates ``pelvis_tilt`` (rad), ``pelvis_tx``, ``pelvis_ty`` (m)"),
    part("pelvis_speed", ["pelvis_tilt.speed", "pelvis_tx.speed", "pelvis_ty.speed"], "their speeds"),
    part("joint_angles", [f"{j}.angle" for j in LEG_JOINTS], "angles of ``" + ", ".join(LEG_JOINTS) + "`` (rad)"),
    part("joint_speeds", [f"{j}.speed" for j in LEG_JOINTS], "their angular speeds (rad/s)"),
    part("mass_center", ["mass_center.x", "mass_center.y"], "centre of mass x, y (m)"),
    part("mass_center_vel", ["mass_center.vx", "mass_center.vy"], "centre-of-mass velocity x, y (m/s)"),
    part("bodies", [f"{b}.{a}" for b in TRACKED_BODIES for a in ("x", "y")],
         "x, y (m) of ``head``, ``pelvis``, ``toes_r`` (the original's \"FootL\"), ``toes_l`` (\"FootR\")"),
))


class GaitTask(Task):
    """Walk as far as possible in 5 s (the 2017 crowdAI pilot); actions are activations."""

    layout = OBSERVATION

    model_name = "gait9dof18musc"
    time_limit = 500
    failure_reward = -500.0
    integrator = ERA_2016_INTEGRATOR
    reward_weights = {"position": 1.0, "progress (delta_reward)": 1.0}  # noqa: RUF012
    termination_reasons = {"pelvis_too_low": f"``pelvis_ty`` < {PELVIS_LIMIT} m"}  # noqa: RUF012

    def __init__(self, delta_reward: bool = False) -> None:
        self.model = model_path(self.model_name)
        self.delta_reward = bool(delta_reward)


    def observation(self, engine: Engine, description: StateDescription) -> list[float]:
        """Pelvis, joint and body kinematics and misc entries, as in the 2016-17 releases."""
        d = description
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

    @staticmethod
    def pelvis_height(description: StateDescription) -> float:
        """``pelvis_ty``, the pelvis's vertical coordinate (m)."""
        return description["joint_pos"]["ground_pelvis"][2]

    def termination(self, engine: Engine, description: StateDescription) -> str | None:
        """``pelvis_too_low`` below the fall limit."""
        return "pelvis_too_low" if self.pelvis_height(description) < PELVIS_LIMIT else None

    def reward(self, engine: Engine, description: StateDescription, previous: StateDescription | None) -> Reward:
        """Forward pelvis position, or its progress in the step with ``delta_reward``."""
        x = description["joint_pos"]["ground_pelvis"][1]
        if self.delta_reward:
            progress = x - previous["joint_pos"]["ground_pelvis"][1] if previous else 0.0
            return Reward(progress, {"progress": progress})
        # The original subtracted a "last state" that stayed all zeros.
        return Reward(x, {"position": x})


class StandTask(GaitTask):
    """Stand still: keep the centre of mass slow and unaccelerated (2016-17)."""

    reward_weights = {"stillness": 1.0}  # noqa: RUF012

    def reward(self, engine: Engine, description: StateDescription, previous: StateDescription | None) -> Reward:
        """Stillness: 1 for a centre of mass at rest, less as it speeds up or accelerates."""
        misc = description["misc"]
        acceleration = sum(a * a for a in misc["mass_center_acc"])
        velocity = sum(v * v for v in misc["mass_center_vel"])
        stillness = (50 - min(acceleration, 10) - min(velocity, 40)) / 50.0
        return Reward(stillness, {"stillness": stillness})


class PairedLegsTask(GaitTask):
    """Hop and Crouch: the hop model, 9 actions each driving a muscle of both legs."""

    model_name = "hop8dof9musc"
    #: The task's own termination height, used only with ``own_height_limit=True``.
    own_limit = PELVIS_LIMIT

    def __init__(self, own_height_limit: bool = False) -> None:
        super().__init__()
        self.own_height_limit = bool(own_height_limit)
        self.termination_reasons = {
            "pelvis_too_low": f"``pelvis_ty`` < {self.own_limit if own_height_limit else PELVIS_LIMIT} m"
        }

    def n_actions(self, engine: Engine) -> int:
        """Nine: each drives a muscle of both legs."""
        return len(_PairedLegsEnv.muscle_groups)

    def termination(self, engine: Engine, description: StateDescription) -> str | None:
        """``pelvis_too_low``: below the pilot's limit, or the task's own with ``own_height_limit``."""
        limit = self.own_limit if self.own_height_limit else PELVIS_LIMIT
        return "pelvis_too_low" if self.pelvis_height(description) < limit else None


class HopTask(PairedLegsTask):
    """Jump as high as possible (2016-17)."""

    own_limit = 0.4
    reward_weights = {"height": 1.0}  # noqa: RUF012

    def reward(self, engine: Engine, description: StateDescription, previous: StateDescription | None) -> Reward:
        """The cube of the pelvis height."""
        height = self.pelvis_height(description) ** 3
        return Reward(height, {"height": height})


class CrouchTask(PairedLegsTask):
    """Lower the pelvis towards 0.5 m (2016-17)."""

    own_limit = 0.25
    reward_weights = {"crouch": 1.0}  # noqa: RUF012

    def reward(self, engine: Engine, description: StateDescription, previous: StateDescription | None) -> Reward:
        """1 minus the cube of (pelvis height - 0.5 m)."""
        crouch = 1 - (self.pelvis_height(description) - 0.5) ** 3
        return Reward(crouch, {"crouch": crouch})


class GaitEnv(ActivationEnv):
    """Walk as far as possible in 5 s (the 2017 crowdAI pilot)."""

    task_class: ClassVar[type[Task] | None] = GaitTask
    model_name = GaitTask.model_name
    timestep_limit = GaitTask.time_limit
    ninput = OBSERVATION.size

    def __init__(self, visualize: bool = True, *, delta_reward: bool = False, **kwargs: Any) -> None:
        if delta_reward and (type(self).task_class is not GaitTask or type(self).compute_reward is not
                             ActivationEnv.compute_reward):
            raise ValueError(f"delta_reward applies to GaitEnv's reward only, not to {type(self).__name__}")
        self.delta_reward = bool(delta_reward)
        task = GaitTask(delta_reward) if type(self).task_class is GaitTask else self.make_task()
        super().__init__(visualize=visualize, task=task, **kwargs)

    def pelvis_height(self) -> float:
        """``pelvis_ty``, the pelvis's vertical coordinate (m)."""
        return GaitTask.pelvis_height(self.get_state_desc())

    def is_pelvis_too_low(self) -> bool:
        """Whether the pelvis is below the fall limit."""
        return self.pelvis_height() < PELVIS_LIMIT


class StandEnv(GaitEnv):
    """Stand still: keep the centre of mass slow and unaccelerated (2016-17)."""

    task_class = StandTask


class _PairedLegsEnv(GaitEnv):
    """Hop and Crouch: the hop model, 9 actions each driving a muscle of both legs."""

    model_name = PairedLegsTask.model_name
    muscle_groups = tuple((j, j + 9) for j in range(9))
    task_class: ClassVar[type[Task] | None] = PairedLegsTask

    def __init__(self, visualize: bool = True, *, own_height_limit: bool = False, **kwargs: Any) -> None:
        self.own_height_limit = bool(own_height_limit)
        super().__init__(visualize=visualize, **kwargs)

    def make_task(self) -> Task:
        """The class's task with ``own_height_limit``."""
        task_class = cast(type[PairedLegsTask], type(self).task_class)
        return task_class(self.own_height_limit)

    @property
    def own_limit(self) -> float:
        """The task's own termination height, used only with ``own_height_limit=True``."""
        return cast(PairedLegsTask, self.task).own_limit

    def is_head_too_low(self) -> bool:
        """The task's own height limit (the original defined it but did not use it)."""
        return self.pelvis_height() < self.own_limit


class HopEnv(_PairedLegsEnv):
    """Jump as high as possible (2016-17)."""

    task_class = HopTask


class CrouchEnv(_PairedLegsEnv):
    """Lower the pelvis towards 0.5 m (2016-17)."""

    task_class = CrouchTask

"""``RunEnv``: the NIPS 2017 "Learning to Run" task (spec §3.3), as osim-rl 1.5.

A planar 9-DoF, 18-muscle model (``gait9dof18musc``) runs forward for 1000 steps (10 s) over
spherical obstacles, with one or both psoas muscles possibly weakened. ``reset(difficulty=...)``
draws the obstacles and the weakness: 0 flat ground; 1 three obstacles; 2 (the challenge's) three
obstacles and psoas weakness, more obstacles with ``max_obstacles`` > 3 (Round 2 used 10).

Action
------
18 muscle excitations in [0, 1], held for 0.01 s, in model order: ``hamstrings, bifemsh, glut_max,
iliopsoas, rect_fem, vasti, gastroc, soleus, tib_ant`` of the right leg (0-8), then the left leg
(9-17). Values outside [0, 1] are clipped; NaN raises ``ValueError``.

Observation
-----------
Reward
------
``forward = pelvis_tx - pelvis_tx before the step`` plus ``ligaments = -1e-7 * sqrt(sum F^2)``
over the six ligament forces (``HipLimit_r/l, KneeLimit_r/l, AnkleLimit_r/l``, N). An engine
failure gives -500 and ``done``.

Termination
-----------
Terminated when ``pelvis_ty`` < 0.65 m or the engine fails; truncated after 1000 steps.

Engines
-------
``engine="mujoco"`` works, as does ``gymnasium.make("osim/Run-v0", engine="mujoco")``: the same
task code (observation, reward, termination), obstacle and psoas draws, observation layout (the
41-vector and the state dict, the obstacles' bodies, joints and contact forces included) and
refusals. The obstacles are engine-neutral (``osim.engine.scene``): on MuJoCo the same 0.1 g
bodies on planar joints, locked where the task puts them, with a contact sphere sized at every
reset that touches the four foot spheres only (explicit frictionless contact pairs; not the
ground, not each other). OpenSim's Hunt-Crossley force grows with depth^1.5; MuJoCo's contact is
a spring matched to it where the contact carries the runner's weight (equal force at that depth,
6.5-18 mm for radii 0.05-0.3 m; more force below it, less beyond: ``osim.engine.mujoco.sphere_contact``,
docs/engines.md). The trajectories are MuJoCo's, not OpenSim's.

Arguments
---------
=====================  ==========  ================================================================
argument               default     meaning
=====================  ==========  ================================================================
visualize              True        OpenSim's visualizer (headless with one warning without a display)
max_obstacles          3           obstacle bodies in the model (at most 20 are used)
report                 None        file prefix: ``<report>-obs.csv`` (41 observations, 18
                                   activations, 36 foot-force values) and ``<report>-act.csv``
psoas_fix              False       weaken ``iliopsoas_l`` instead of ``glut_max_l`` (see Quirks)
integrator             (1.x)       ``osim.engine.IntegratorSettings``; default a new Manager per
                                   step at accuracy 1e-3
render_mode            None        ``"rgb_array"`` for images, ``"human"`` for the visualizer
=====================  ==========  ================================================================

``reset(difficulty=2, seed=None)``: ``seed`` (when not None) re-seeds the environment's
generator. Draws, in this order: obstacle x ~ U(1, 5), height factor ~ U(-0.25, 0.25), radius
0.05 + Exp(0.05) for min(3, max_obstacles) obstacles; with ``max_obstacles`` > 3 the rest (up to
20 in all) at x = 5 + cumulative U(2, 4) steps, height factor ~ U(-0.05, 0.25), radius 0.05 +
Exp(0.05); then (difficulty 2) each psoas strength max(0.5, 1 - N(0, 0.1)), right then left.
An obstacle's centre height is its height factor times its radius.

Quirks
------
* Psoas index (kept): the left "psoas" strength is applied to muscle 11, ``glut_max_l``, not
  ``iliopsoas_l`` (12), and observation 36 reports it. ``psoas_fix=True`` weakens ``iliopsoas_l``.
* Seeds (fixed): the original seeded NumPy's global generator; here the environment owns a
  ``RandomState`` that gives the same draws for the same seed.
* Obstacle sizes and muscle strengths are model properties: on OpenSim the model is
  re-initialised at every reset so that they take effect (the 2017 code relied on OpenSim reading
  them live); MuJoCo takes them at once.
* Class-level ``maxforces``/``curforces`` shared between instances (fixed): per instance here.
* After an OpenSim failure (reward -500, ``done``) call ``reset()``; stepping on raises an error
  that says so (the original stepped on from a broken state).
* ``report``: the header row names the columns (the original wrote them without a header in
  some versions); rows are written per step, not on observation requests.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from osim.engine import Engine, IntegratorSettings, StateDescription
from osim.engine.scene import add_obstacles, reset_with_obstacles, size_obstacles
from osim.env.activation import ERA_2016_INTEGRATOR
from osim.env.base import OsimEnv
from osim.env.task import ObservationLayout, Reward, Task, part, task_attribute
from osim.models import model_path

LEG_JOINTS: tuple[str, ...] = ("hip_r", "knee_r", "ankle_r", "hip_l", "knee_l", "ankle_l")
OBSERVED_BODIES: tuple[str, ...] = ("head", "pelvis", "torso", "toes_l", "toes_r", "talus_l", "talus_r")
LIGAMENTS: tuple[str, ...] = ("HipLimit_r", "HipLimit_l", "KneeLimit_r", "KneeLimit_l", "AnkleLimit_r", "AnkleLimit_l")
FOOT_GEOMETRIES: tuple[str, ...] = ("r_heel", "l_heel", "r_toe", "l_toe")
FOOT_FORCES: tuple[str, ...] = ("foot_r", "foot_l")
#: Muscle indices of the psoas weakness: right iliopsoas, and the left one the original used.
PSOAS_RIGHT = 3
PSOAS_LEFT_ORIGINAL = 11  # glut_max_l: the original's index
PSOAS_LEFT_FIXED = 12  # iliopsoas_l
MAX_PLACED_OBSTACLES = 20
NO_OBSTACLE = (100.0, 0.0, 0.0)


def generate_env(
    rng: np.random.RandomState, difficulty: int, max_obstacles: int, left_psoas_index: int = PSOAS_LEFT_ORIGINAL
) -> dict[str, Any]:
    """Draw obstacles ``[(x, y, r), ...]`` (sorted) and the 18 muscle strengths (spec §3.3)."""
    xs: list[float] = []
    ys: list[float] = []
    rs: list[float] = []
    n = 0
    if difficulty > 0:
        n = min(3, max_obstacles)
        xs = rng.uniform(1, 5, n).tolist()
        ys = rng.uniform(-0.25, 0.25, n).tolist()
        rs = (0.05 + rng.exponential(0.05, n)).tolist()
    if difficulty > 0 and max_obstacles > 3:
        extra = max(min(MAX_PLACED_OBSTACLES, max_obstacles) - n, 0)
        xs += (np.cumsum(rng.uniform(2, 4, extra)) + 5).tolist()
        ys += rng.uniform(-0.05, 0.25, extra).tolist()
        rs += (0.05 + rng.exponential(0.05, extra)).tolist()
    ys = [y * r for y, r in zip(ys, rs)]
    right_psoas = left_psoas = 1.0
    if difficulty >= 2:
        right_psoas = max(0.5, 1 - rng.normal(0, 0.1))
        left_psoas = max(0.5, 1 - rng.normal(0, 0.1))
    muscles = [1.0] * 18
    muscles[PSOAS_RIGHT] = right_psoas
    muscles[left_psoas_index] = left_psoas
    return {"obstacles": sorted(zip(xs, ys, rs)), "muscles": muscles}


OBSERVATION = ObservationLayout((
    part("pelvis", ["pelvis_tilt", "pelvis_tx", "pelvis_ty"],
         "pelvis coordinates ``pelvis_tilt`` (rad), ``pelvis_tx``, ``pelvis_ty`` (m)"),
    part("pelvis_speed", ["pelvis_tilt_speed", "pelvis_tx_speed", "pelvis_ty_speed"], "their speeds"),
    part("joint_angles", [f"{joint}.angle" for joint in LEG_JOINTS],
         "angles of ``" + ", ".join(LEG_JOINTS) + "`` (rad)"),
    part("joint_speeds", [f"{joint}.speed" for joint in LEG_JOINTS], "their angular speeds (rad/s)"),
    part("mass_center", ["mass_center.x", "mass_center.y"], "centre of mass x, y (m)"),
    part("mass_center_vel", ["mass_center.vx", "mass_center.vy"], "centre-of-mass velocity x, y (m/s)"),
    part("bodies", [f"{body}.{axis}" for body in OBSERVED_BODIES for axis in ("x", "y")],
         "x, y (m) of bodies ``" + ", ".join(OBSERVED_BODIES) + "``"),
    part("psoas", ["psoas_l", "psoas_r"], '"left" and "right" psoas strength (1 = full; see Quirks for the left one)'),
    part("obstacle", ["obstacle.dx", "obstacle.y", "obstacle.r"],
         "next obstacle (the first with ``x + r >= pelvis_tx``): x relative to ``pelvis_tx``, centre height y, "
         "radius r (m); ``[100, 0, 0]`` when there is none"),
))
#: Weight of the ligament penalty (the original wrote it 10e-8).
LIGAMENT_WEIGHT = 10e-8


class RunTask(Task):
    """Run forward over obstacles with the planar 18-muscle model (NIPS 2017).

    The obstacles and the muscle weakness of the episode are :attr:`env_desc`; the environment
    draws them and builds them into the engine's model (:class:`RunEnv`, :mod:`osim.engine.scene`).
    """

    layout = OBSERVATION

    time_limit = 1000
    failure_reward = -500.0
    integrator = ERA_2016_INTEGRATOR
    reward_weights = {"forward": 1.0, "ligaments": -LIGAMENT_WEIGHT}  # noqa: RUF012
    termination_reasons = {"pelvis_too_low": "``pelvis_ty`` < 0.65 m"}  # noqa: RUF012

    def __init__(self, left_psoas_index: int = PSOAS_LEFT_ORIGINAL) -> None:
        self.model = model_path("gait9dof18musc")
        self.left_psoas_index = left_psoas_index
        self.env_desc: dict[str, Any] = {"obstacles": [], "muscles": [1.0] * 18}


    def next_obstacle(self, pelvis_x: float) -> tuple[float, float, float]:
        """(x relative to the pelvis, y, r) of the first obstacle not yet passed."""
        for x, y, r in self.env_desc["obstacles"]:
            if x + r >= pelvis_x:
                return (x - pelvis_x, y, r)
        return NO_OBSTACLE

    def observation(self, engine: Engine, description: StateDescription) -> list[float]:
        """The 2017 observation vector: pelvis, joints, bodies, centre of mass and the next obstacle."""
        d = description
        joint_pos, joint_vel, body_pos, misc = d["joint_pos"], d["joint_vel"], d["body_pos"], d["misc"]
        pelvis = joint_pos["ground_pelvis"]
        observation = [*pelvis[:3], *joint_vel["ground_pelvis"][:3]]
        observation += [joint_pos[joint][0] for joint in LEG_JOINTS]
        observation += [joint_vel[joint][0] for joint in LEG_JOINTS]
        observation += misc["mass_center_pos"][:2] + misc["mass_center_vel"][:2]
        for body in OBSERVED_BODIES:
            observation += body_pos[body][:2]
        strengths = self.env_desc["muscles"]
        observation += [strengths[self.left_psoas_index], strengths[PSOAS_RIGHT]]
        observation += self.next_obstacle(pelvis[1])
        return observation

    def reward(self, engine: Engine, description: StateDescription, previous: StateDescription | None) -> Reward:
        """``forward`` progress of the pelvis minus the ligament penalty."""
        forces = description["forces"]
        ligament_penalty = 0.0
        for name in LIGAMENTS:
            ligament_penalty += forces[name][0] ** 2
        if previous is None:
            raise RuntimeError("the reward needs the state before the step: there is none before the first step")
        forward = description["joint_pos"]["ground_pelvis"][1] - previous["joint_pos"]["ground_pelvis"][1]
        ligaments = math.sqrt(ligament_penalty) * LIGAMENT_WEIGHT
        return Reward(forward - ligaments, {"forward": forward, "ligaments": -ligaments})

    def termination(self, engine: Engine, description: StateDescription) -> str | None:
        """``pelvis_too_low`` below 0.65 m."""
        return "pelvis_too_low" if description["joint_pos"]["ground_pelvis"][2] < 0.65 else None


class RunEnv(OsimEnv):
    """Run as far as possible in 10 s over obstacles (NIPS 2017, osim-rl 1.5)."""

    task: RunTask
    task_class = RunTask
    time_limit = RunTask.time_limit
    failure_reward = RunTask.failure_reward
    ninput = OBSERVATION.size
    noutput = 18
    # Observation/muscle indices under the original's names (2017 scripts use them).
    STATE_PELVIS_X = 1
    STATE_PELVIS_Y = 2
    MUSCLES_PSOAS_R = PSOAS_RIGHT
    MUSCLES_PSOAS_L = PSOAS_LEFT_ORIGINAL

    def __init__(
        self,
        visualize: bool = True,
        max_obstacles: int = 3,
        report: str | None = None,
        *,
        psoas_fix: bool = False,
        integrator: IntegratorSettings | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(max_obstacles, (int, np.integer)) or max_obstacles < 0:
            raise ValueError(f"max_obstacles must be an integer >= 0, got {max_obstacles!r}")
        self.max_obstacles = int(max_obstacles)
        self.psoas_fix = bool(psoas_fix)
        self.left_psoas_index = PSOAS_LEFT_FIXED if psoas_fix else PSOAS_LEFT_ORIGINAL
        # The last two observations, as the original kept them (``current_state`` after the step).
        self.current_state: list[float] = []
        self.last_state: list[float] = []
        super().__init__(visualize=visualize, integrator=integrator, task=RunTask(self.left_psoas_index), **kwargs)
        self.obstacle_parts = add_obstacles(self.engine, self.max_obstacles, FOOT_GEOMETRIES)
        self.open_report(report)

    env_desc = task_attribute("env_desc", "The episode's obstacles ``[(x, y, r), ...]`` and 18 muscle strengths.")

    # -- episode --------------------------------------------------------------------------------

    def reset(  # type: ignore[override]  # positional order of the original's reset
        self, difficulty: int = 2, seed: int | None = None, project: bool = True,
        obs_as_dict: bool | None = None, **_: Any,
    ) -> Any:
        """Start an episode at ``difficulty`` (obstacles) with ``seed``; returns the first observation."""
        if difficulty not in (0, 1, 2):
            raise ValueError(f"difficulty must be 0, 1 or 2, got {difficulty!r}")
        if seed is not None:
            self.seed(seed)
        # The obstacles and the weakness are parts of the engine's model (the scene), set here.
        self.task.env_desc = generate_env(self.np_random, difficulty, self.max_obstacles, self.left_psoas_index)
        placed = self.env_desc["obstacles"][: self.max_obstacles]
        parked = self.max_obstacles - len(placed)
        radii: list[float | None] = [r for _, _, r in placed]
        centres: list[tuple[float, float] | None] = [(x, y) for x, y, _ in placed]
        size_obstacles(self.engine, self.obstacle_parts, radii + [None] * parked)
        self.osim_model.set_strength(self.env_desc["muscles"])
        reset_with_obstacles(self.engine, self.obstacle_parts, centres + [None] * parked)
        self.episode_started()
        self.current_state = self.last_state = self.get_observation()
        return self.observe(project, obs_as_dict)

    def step(self, action: Any, project: bool = True, obs_as_dict: bool | None = None) -> list:
        """Step as the base class, keeping the 2017 last/current observation vectors."""
        self.last_state = self.current_state
        result = super().step(action, project=project, obs_as_dict=obs_as_dict)
        as_dict = self.obs_as_dict_default if obs_as_dict is None else obs_as_dict
        if not project or as_dict:  # the vector was not built: keep current_state current
            self.get_observation()
        return result

    # -- observation ----------------------------------------------------------------------------

    def next_obstacle(self, pelvis_x: float) -> tuple[float, float, float]:
        """(x relative to the pelvis, y, r) of the first obstacle not yet passed."""
        return self.task.next_obstacle(pelvis_x)

    def get_observation(self) -> list[float]:
        """The task's observation vector, kept as ``current_state`` (as the original did)."""
        observation = self.observation()
        self.current_state = observation
        return observation

    # -- termination ----------------------------------------------------------------------------

    def is_pelvis_too_low(self) -> bool:
        """Whether the pelvis is below 0.65 m."""
        return self.task.termination(self.engine, self.get_state_desc()) == "pelvis_too_low"

    # -- report ---------------------------------------------------------------------------------

    def report_columns(self) -> tuple[list[str], list[str]]:
        """The observations, then the muscle activations and the two foot forces' 18 values each."""
        muscles = self.osim_model.muscle_names
        names = OBSERVATION.names() + [f"{muscle}.activation" for muscle in muscles]
        names += [f"{force}[{k}]" for force in FOOT_FORCES for k in range(18)]
        return names, list(muscles)

    def report_row(self) -> list[float]:
        """The observation, the activations and the foot forces of the current state."""
        d = self.get_state_desc()
        row = self.get_observation() + self.osim_model.get_activations()
        for force in FOOT_FORCES:
            row += d["forces"][force]
        return row

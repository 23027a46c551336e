"""``ProstheticsEnv``: the NIPS 2018 "AI for Prosthetics" task (spec §3.5), as osim-rl 2.1.5.

A 14-DoF human model with a transtibial prosthesis on the right leg (19 muscles; 22 without the
prosthesis) walks on flat ground. Round 1 (difficulty 0) rewards running at 3 m/s for 300 steps;
Round 2 (difficulty 1) rewards matching a target velocity that changes direction and speed about
every 3 s, for 1000 steps. ``change_model`` switches between the 3-D and the planar model, with or
without the prosthesis.

Action
------
19 muscle excitations in [0, 1] (22 without the prosthesis), held for 0.01 s, in model order:
``abd_r, add_r, hamstrings_r, bifemsh_r, glut_max_r, iliopsoas_r, rect_fem_r, vasti_r`` (0-7),
then ``abd_l, add_l, hamstrings_l, bifemsh_l, glut_max_l, iliopsoas_l, rect_fem_l, vasti_l,
gastroc_l, soleus_l, tib_ant_l`` (8-18). Without the prosthesis the right leg also has
``gastroc_r, soleus_r, tib_ant_r`` (indices 8-10) and the left leg follows (11-21). Values
outside [0, 1] are clipped; NaN raises ``ValueError``.

Observation
-----------
``project=True`` (default): a list (the table: the prosthetic 3-D model; without the prosthesis
``toes_r`` and ``talus_r`` are observed and the right leg has three more muscles). Body values are
in the ground frame; x forward, y up; "rel." means minus the pelvis's value; muscles come in
sorted name order.

``project=False``: the state-description dict (spec §2.4) with ``target_vel`` (x, y, z target
velocity of this step) added at difficulty 1; the 2018 graders sent this form.

Reward
------
Difficulty 0 (Round 1): ``speed = 9 - (vx_pelvis - 3)^2`` per step, with ``vx_pelvis`` the
pelvis body's forward velocity (m/s). Difficulty 1 (Round 2): ``alive`` 10,
``effort = -0.001 * sum(activation^2)``, ``velocity_x = -(vx_pelvis - tv_x)^2``,
``velocity_z = -(vz_pelvis - tv_z)^2`` with ``tv`` the target velocity of the step reached.
``info["reward_terms"]`` holds these named terms; they sum to the reward.

Termination
-----------
Terminated when the pelvis body is below y = 0.6 m; truncated after 300 steps (difficulty 0) or
1000 steps (difficulty 1).

Arguments
---------
========================  ==========  ==========================================================
argument                  default     meaning
========================  ==========  ==========================================================
visualize                 True        OpenSim's visualizer (headless with one warning without a
                                      display)
integrator_accuracy       5e-5        accuracy of the Runge-Kutta-Merson integrator
difficulty                0           0: Round 1 (3 m/s, 300 steps); 1: Round 2 (target
                                      velocities, 1000 steps); 2 and above only after
                                      construction (see Quirks)
seed                      0           seed of the environment's generators (target velocities)
report                    None        file prefix: ``<report>-obs.csv``/``<report>-act.csv``
absolute_body_positions   False       True: body x, y, rz in the vector are ground-frame values
                                      instead of pelvis-relative ones (see Quirks)
integrator                None        full ``osim.engine.IntegratorSettings``
render_mode               None        ``"rgb_array"`` for images, ``"human"`` for the visualizer
========================  ==========  ==========================================================

``change_model(model='3D', prosthetic=True, difficulty=0, seed=0)`` loads the ``'3D'`` or planar
``'2D'`` model with or without the prosthesis (only when it changes), sets the difficulty and
re-seeds; call ``reset()`` after it. ``reset(project=True, seed=None)`` re-seeds when ``seed`` is
not None, draws new target velocities and restarts the episode.

Quirks
------
* Body positions (#155, kept): the original built pelvis-relative values in a list that was an
  alias of the absolute one, which read as if absolute positions were appended; the values it
  returned are pelvis-relative x, y and rz (velocities and accelerations stay absolute). Kept by
  default; ``absolute_body_positions=True`` gives the ground-frame values for those who read the
  code the other way.
* Seeds (fixed): the original seeded the global ``random`` and ``numpy.random`` (shared with user
  code) and ignored ``reset(seed=0)``. Here the environment owns its generators (a ``RandomState``
  for the Poisson change times, a ``random.Random`` for the changes), ``seed=0`` is a seed, and a
  seed gives the same targets as the original did with the same seed.
* Observation size: ``get_observation_space_size()`` is the true length (160/169; the original
  said 158/167 until September 2018).
* ``report`` (fixed): the original opened its CSV files and then called a method that did not
  exist. Here ``<report>-obs.csv`` gets (episode, step, observation vector) and
  ``<report>-act.csv`` (episode, step, excitations), one row per reset/step.
* Difficulty above 1 (kept where the original ran, refused where it crashed): after construction
  (``change_model(..., difficulty=2)`` or ``set_difficulty(2)``, as the original's
  ``sim_Prosthetics_randomrun.py`` did) it is Round 2's task under the time limit already set (300
  steps after difficulty 0, 1000 after 1): target velocities in the state description and the
  Round 2 reward. At construction the original kept an unlimited time limit and crashed allocating
  1e10 target velocities at reset; here ``ValueError`` says what is accepted, as it does for a
  negative or non-integer difficulty (the original crashed at the first step's reward).
* Target velocities exist at every difficulty (``env.targets``) but only difficulty 1 and above put
  them in the state description and the reward, as in the original.
"""
from __future__ import annotations

import math
import random
from typing import Any

import numpy as np

from osim.engine import Engine, StateDescription
from osim.env.base import OsimEnv
from osim.env.task import NO_REWARD, ObservationLayout, Reward, Task, part, task_attribute
from osim.models import model_path

MODEL_FILES: dict[str, str] = {
    "3D_pros": "gait14dof22musc_pros_20180507",
    "3D": "gait14dof22musc_20170320",
    "2D_pros": "gait14dof22musc_planar_pros_20180507",
    "2D": "gait14dof22musc_planar_20170320",
}
OBSERVED_BODIES: tuple[str, ...] = ("pelvis", "head", "torso", "toes_l", "toes_r", "talus_l", "talus_r")
#: Bodies the prosthetic model does not have: their nine entries are zeros.
MISSING_WITH_PROSTHESIS: frozenset[str] = frozenset({"toes_r", "talus_r"})
OBSERVED_JOINTS: tuple[str, ...] = ("ankle_l", "ankle_r", "back", "hip_l", "hip_r", "knee_l", "knee_r")
TIME_LIMITS: dict[int, int] = {0: 300, 1: 1000}


def rect(row: Any) -> np.ndarray:
    """A polar target velocity ``(speed, heading)`` as the vector ``[vx, 0, vz]`` (x forward, z right).

    The original 2.1.5 exported this helper (``from osim.env import rect``) and built its target
    velocities with it; so does :meth:`ProstheticsEnv.generate_new_targets`.
    """
    speed, heading = float(row[0]), float(row[1])
    # math.cos/sin, as the original: NumPy's vectorised versions may differ in the last bit.
    return np.array([speed * math.cos(heading), 0.0, speed * math.sin(heading)])


_BODY_QUANTITIES = ("x", "y", "vx", "vy", "ax", "ay", "rz", "vrz", "arz")
#: Weight of the Round 2 effort term (the sum of squared activations).
EFFORT_WEIGHT = 0.001


class ProstheticsTask(Task):
    """Walk with (or without) a transtibial prosthesis: Round 1 at 3 m/s, Round 2 after target velocities.

    ``difficulty`` 0 is Round 1 (300 steps), 1 Round 2 (1000 steps); a higher integer is Round 2's
    task under the time limit already set (as the original). ``targets`` holds the episode's target
    velocity of every step, drawn at each reset.
    """

    reward_weights = {  # noqa: RUF012
        "speed": 1.0, "alive": 1.0, "effort": -EFFORT_WEIGHT, "velocity_x": -1.0, "velocity_z": -1.0,
    }
    termination_reasons = {"pelvis_too_low": "the pelvis body is below y = 0.6 m"}  # noqa: RUF012

    def __init__(
        self, model: str = "3D", prosthetic: bool = True, difficulty: int = 0, absolute_body_positions: bool = False
    ) -> None:
        self.model_paths = {key: model_path(stem) for key, stem in MODEL_FILES.items()}
        self.absolute_body_positions = bool(absolute_body_positions)
        self.time_limit = self.targets_time_limit = TIME_LIMITS[0]
        self.targets = np.zeros((self.time_limit + 1, 3))
        self.difficulty = 0
        self.set_model(model, prosthetic)
        self.set_difficulty(difficulty)

    def set_model(self, model: str, prosthetic: bool) -> None:
        """Use the ``'3D'`` or ``'2D'`` model, with or without the prosthesis (from the next engine)."""
        if model not in ("3D", "2D"):
            raise ValueError(f"model must be '3D' or '2D', got {model!r}")
        self.model_key = model + ("_pros" if prosthetic else "")
        self.prosthetic = bool(prosthetic)
        self.model = self.model_paths[self.model_key]

    def set_difficulty(self, difficulty: int) -> None:
        """0: Round 1 (300 steps); 1: Round 2 (1000 steps); higher: Round 2 under the time limit set."""
        if isinstance(difficulty, bool) or not isinstance(difficulty, (int, np.integer)) or difficulty < 0:
            raise ValueError(f"difficulty must be an integer >= 0 (0 or 1: the two rounds), got {difficulty!r}")
        self.difficulty = int(difficulty)
        self.time_limit = TIME_LIMITS.get(self.difficulty, self.targets_time_limit)
        self.targets_time_limit = self.time_limit  # ``spec.timestep_limit`` changes only the truncation

    # -- target velocities ----------------------------------------------------------------------

    def generate_targets(
        self, np_random: np.random.RandomState, py_random: random.Random, time_limit: int | float,
        poisson_lambda: float = 300,
    ) -> None:
        """Draw ``targets`` ((time_limit + 1) x 3): the target velocity of every step (the original's draws)."""
        n_steps = int(time_limit) + 1
        velocity = np.zeros(n_steps)
        heading = np.zeros(n_steps)
        velocity[0] = 1.25
        change_steps = set(np.cumsum(np_random.poisson(poisson_lambda, 10)).tolist())
        rng = py_random
        for i in range(1, n_steps):
            velocity[i] = velocity[i - 1]
            heading[i] = heading[i - 1]
            if i in change_steps:
                velocity[i] += rng.choice([-1, 1]) * rng.uniform(-0.5, 0.5)
                heading[i] += rng.choice([-1, 1]) * rng.uniform(-math.pi / 8, math.pi / 8)
        self.targets = np.array([rect(polar) for polar in zip(velocity, heading)])

    def initialize_episode(self, engine: Engine, np_random: np.random.RandomState, py_random: random.Random) -> None:
        """New target velocities, then the model's default pose."""
        self.generate_targets(np_random, py_random, self.targets_time_limit)
        engine.reset()

    # -- state and observation ------------------------------------------------------------------

    def describe(self, engine: Engine) -> StateDescription:
        """The state description; at difficulty 1 and above with ``target_vel`` of the current step."""
        description = engine.state_description()
        if self.difficulty > 0:
            description["target_vel"] = self.targets[engine.istep, :].tolist()
        return description

    def engine_loaded(self, engine: Engine) -> None:
        """The observation layout of this model (its joints' coordinates and its muscles)."""
        structure = engine.structure
        rel = "" if self.absolute_body_positions else "rel. "
        parts = [part("pelvis", [f"pelvis.{q}" for q in _BODY_QUANTITIES[1:]],
                      "pelvis: y, vx, vy, ax, ay, rz, vrz, arz (rz = body-fixed XYZ angle about z)")]
        for body in OBSERVED_BODIES[1:]:
            missing = " (zeros with the prosthesis)" if self.prosthetic and body in MISSING_WITH_PROSTHESIS else ""
            parts.append(part(body, [f"{body}.{q}" for q in _BODY_QUANTITIES],
                              f"{body}: {rel}x, {rel}y, vx, vy, ax, ay, {rel}rz, vrz, arz{missing}"))
        for joint in OBSERVED_JOINTS:
            coordinates = structure.joint(joint).coordinates
            parts.append(part(joint, [f"{joint}.{c}.{kind}" for kind in ("pos", "vel", "acc") for c in coordinates],
                              f"joint ``{joint}``: coordinate values, then speeds, then accelerations"))
        for muscle in sorted(engine.muscle_names):
            parts.append(part(muscle, [f"{muscle}.{q}" for q in ("activation", "fiber_length", "fiber_velocity")],
                              f"muscle ``{muscle}``: activation, fiber length, fiber velocity"))
        parts.append(part("mass_center", ["mass_center.x", "mass_center.y", "mass_center.vx", "mass_center.vy",
                                          "mass_center.vz", "mass_center.ax", "mass_center.ay", "mass_center.az"],
                          f"centre of mass: {rel}x, {rel}y, vx, vy, vz, ax, ay, az"))
        self.layout = ObservationLayout(tuple(parts))


    def observation(self, engine: Engine, description: StateDescription) -> list[float]:
        """The 2018 vector; body values in the ground frame, "rel." minus the pelvis's value."""
        d = description
        res: list[float] = []
        pelvis: list[float] = []
        relative = not self.absolute_body_positions
        for body in OBSERVED_BODIES:
            if self.prosthetic and body in MISSING_WITH_PROSTHESIS:
                res += [0.0] * 9
                continue
            values = (
                d["body_pos"][body][0:2] + d["body_vel"][body][0:2] + d["body_acc"][body][0:2]
                + d["body_pos_rot"][body][2:] + d["body_vel_rot"][body][2:] + d["body_acc_rot"][body][2:]
            )
            if body == "pelvis":
                pelvis = values
                res += values[1:]
                continue
            if relative:
                for i in (0, 1, 6):
                    values[i] -= pelvis[i]
            res += values
        for joint in OBSERVED_JOINTS:
            res += d["joint_pos"][joint] + d["joint_vel"][joint] + d["joint_acc"][joint]
        muscles = d["muscles"]
        for name in sorted(muscles):
            muscle = muscles[name]
            res += [muscle["activation"], muscle["fiber_length"], muscle["fiber_velocity"]]
        misc = d["misc"]
        res += [misc["mass_center_pos"][0] - pelvis[0], misc["mass_center_pos"][1] - pelvis[1]]
        res += misc["mass_center_vel"] + misc["mass_center_acc"]
        return res

    # -- reward and termination -----------------------------------------------------------------

    def reward_round1(self, description: StateDescription, previous: StateDescription | None) -> Reward:
        """Round 1: 9 minus the squared difference of the pelvis speed from 3 m/s."""
        if not previous:
            return NO_REWARD
        speed = 9.0 - (description["body_vel"]["pelvis"][0] - 3.0) ** 2
        return Reward(speed, {"speed": speed})

    def reward_round2(self, engine: Engine, description: StateDescription) -> Reward:
        """Round 2: 10 minus effort and the squared errors from the target velocity."""
        d = description
        muscles = d["muscles"]
        activations = np.asarray([muscles[name]["activation"] for name in engine.muscle_names])
        # Summed in the original's order (effort, then x, then z) so the value is bitwise the same.
        effort = float(np.sum(activations**2)) * EFFORT_WEIGHT
        error_x = (d["body_vel"]["pelvis"][0] - d["target_vel"][0]) ** 2
        error_z = (d["body_vel"]["pelvis"][2] - d["target_vel"][2]) ** 2
        terms = {"alive": 10.0, "effort": -effort, "velocity_x": -error_x, "velocity_z": -error_z}
        return Reward(10.0 - (effort + error_x + error_z), terms)

    def reward(self, engine: Engine, description: StateDescription, previous: StateDescription | None) -> Reward:
        """The reward of the current round (difficulty 0: Round 1, else Round 2)."""
        if self.difficulty == 0:
            return self.reward_round1(description, previous)
        return self.reward_round2(engine, description)

    def termination(self, engine: Engine, description: StateDescription) -> str | None:
        """``pelvis_too_low`` below 0.6 m."""
        return "pelvis_too_low" if description["body_pos"]["pelvis"][1] < 0.6 else None


class ProstheticsEnv(OsimEnv):
    """Walk with a transtibial prosthesis (NIPS 2018, osim-rl 2.1.5)."""

    task: ProstheticsTask
    task_class = ProstheticsTask
    prosthetic = True
    model = "3D"
    time_limit: int | float = TIME_LIMITS[0]

    def __init__(
        self,
        visualize: bool = True,
        integrator_accuracy: float = 5e-5,
        difficulty: int = 0,
        seed: int | None = 0,
        report: str | None = None,
        *,
        absolute_body_positions: bool = False,
        **kwargs: Any,
    ) -> None:
        self.model = type(self).model
        self.prosthetic = type(self).prosthetic
        self.absolute_body_positions = bool(absolute_body_positions)
        if difficulty not in TIME_LIMITS:
            # The original kept its unlimited time limit and crashed at reset (see Quirks).
            raise ValueError(
                f"difficulty must be 0 or 1 at construction, got {difficulty!r} (a higher difficulty"
                " can be set afterwards with change_model or set_difficulty, as in the original)"
            )
        task = ProstheticsTask(self.model, self.prosthetic, 0, self.absolute_body_positions)
        self.model_paths = task.model_paths
        super().__init__(visualize=visualize, integrator_accuracy=integrator_accuracy, task=task, **kwargs)
        self.set_difficulty(difficulty)
        self.seed(seed)
        self.open_report(report)

    # -- configuration --------------------------------------------------------------------------

    difficulty = task_attribute("difficulty", "The task's difficulty (0: Round 1, 1 and above: Round 2).")
    targets = task_attribute("targets", "The episode's target velocity of every step ((time_limit + 1) x 3).")

    def get_model_key(self) -> str:
        """The model in use: ``'3D'`` or ``'2D'``, with ``'_pros'`` for the prosthetic leg."""
        return self.model + ("_pros" if self.prosthetic else "")

    def set_difficulty(self, difficulty: int) -> None:
        """0: Round 1 (300 steps); 1: Round 2 (1000 steps, target velocities).

        A higher integer (the original's ``sim_Prosthetics_randomrun.py`` used 2) is Round 2's task
        under the time limit already set, as in the original: target velocities and the Round 2
        reward, 300 steps after difficulty 0, 1000 after difficulty 1.
        """
        self.task.set_difficulty(difficulty)
        self.time_limit = self.task.time_limit
        self.spec.timestep_limit = self.time_limit

    def change_model(
        self, model: str = "3D", prosthetic: bool = True, difficulty: int = 0, seed: int | None = 0
    ) -> None:
        """Load another model (only if it changes), set the difficulty, re-seed. Then ``reset()``."""
        if model not in ("3D", "2D"):
            raise ValueError(f"model must be '3D' or '2D', got {model!r}")
        if (self.model, self.prosthetic) != (model, bool(prosthetic)):
            self.model, self.prosthetic = model, bool(prosthetic)
            self.task.set_model(model, self.prosthetic)
            self.load_model(self.task.model)
        self.set_difficulty(difficulty)
        self.seed(seed)

    def generate_new_targets(self, poisson_lambda: float = 300) -> None:
        """Draw the target velocities of every step (see :meth:`ProstheticsTask.generate_targets`)."""
        self.task.generate_targets(self.np_random, self.py_random, self.time_limit, poisson_lambda)

    def observation_names(self) -> list[str]:
        """Names of the entries of the observation vector, in order."""
        return self.task.observation_layout().names()

    # -- episode --------------------------------------------------------------------------------

    def reset(  # type: ignore[override]  # positional order of the original's reset
        self, project: bool = True, seed: int | None = None, obs_as_dict: bool | None = None, **_: Any
    ) -> Any:
        """Reset (reseeding when ``seed`` is given); returns the first observation."""
        self.reset_episode(seed)
        return self.observe(project, obs_as_dict)

    # -- reward (the original's names) ----------------------------------------------------------

    def reward_round1(self) -> float:
        """Round 1: 9 minus the squared difference of the pelvis speed from 3 m/s."""
        result = self.task.reward_round1(self.get_state_desc(), self.get_prev_state_desc())
        self.reward_terms = result.terms
        return result.total

    def reward_round2(self) -> float:
        """Round 2: 10 minus effort and the squared errors from the target velocity."""
        result = self.task.reward_round2(self.engine, self.get_state_desc())
        self.reward_terms = result.terms
        return result.total

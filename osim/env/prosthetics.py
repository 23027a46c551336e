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
``project=True`` (default): a list of 160 floats (169 without the prosthesis). Body values are
in the ground frame; x forward, y up; "rel." means minus the pelvis's value:

=========  ==========================================================================================
index      content
=========  ==========================================================================================
0-7        pelvis: y, vx, vy, ax, ay, rz, vrz, arz (rz = body-fixed XYZ angle about z)
8-16       head: rel. x, rel. y, vx, vy, ax, ay, rel. rz, vrz, arz
17-25      torso, as the head
26-34      toes_l, as the head
35-43      toes_r, as the head (zeros with the prosthesis)
44-52      talus_l, as the head
53-61      talus_r, as the head (zeros with the prosthesis)
62-94      for joints ``ankle_l, ankle_r, back, hip_l, hip_r, knee_l, knee_r``: coordinate values,
           then speeds, then accelerations (hips: 3 coordinates, so 9 values; others 3)
95-151     for each muscle in sorted name order: activation, fiber_length, fiber_velocity
           (19 muscles; 22 without the prosthesis: 95-160)
152-159    centre of mass: rel. x, rel. y, vx, vy, vz, ax, ay, az (without the prosthesis 161-168)
=========  ==========================================================================================

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
from typing import Any

import numpy as np

from osim.engine import StateDescription
from osim.env.base import OsimEnv
from osim.env.report import CsvReport
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


class ProstheticsEnv(OsimEnv):
    """Walk with a transtibial prosthesis (NIPS 2018, osim-rl 2.1.5)."""

    prosthetic = True
    model = "3D"
    time_limit = 300

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
        self.model_paths = {key: model_path(stem) for key, stem in MODEL_FILES.items()}
        self.model_path = self.model_paths[self.get_model_key()]
        self.absolute_body_positions = bool(absolute_body_positions)
        self.difficulty = 0
        self.targets = np.zeros((self.time_limit + 1, 3))
        if difficulty not in TIME_LIMITS:
            # The original kept its unlimited time limit and crashed at reset (see Quirks).
            raise ValueError(
                f"difficulty must be 0 or 1 at construction, got {difficulty!r} (a higher difficulty"
                " can be set afterwards with change_model or set_difficulty, as in the original)"
            )
        super().__init__(visualize=visualize, integrator_accuracy=integrator_accuracy, **kwargs)
        self.set_difficulty(difficulty)
        self.seed(seed)
        self._report: CsvReport | None = (
            CsvReport(report, self.observation_names(), self.osim_model.muscle_names) if report else None
        )

    # -- configuration --------------------------------------------------------------------------

    def get_model_key(self) -> str:
        """The model in use: ``'3D'`` or ``'2D'``, with ``'_pros'`` for the prosthetic leg."""
        return self.model + ("_pros" if self.prosthetic else "")

    def set_difficulty(self, difficulty: int) -> None:
        """0: Round 1 (300 steps); 1: Round 2 (1000 steps, target velocities).

        A higher integer (the original's ``sim_Prosthetics_randomrun.py`` used 2) is Round 2's task
        under the time limit already set, as in the original: target velocities and the Round 2
        reward, 300 steps after difficulty 0, 1000 after difficulty 1.
        """
        if isinstance(difficulty, bool) or not isinstance(difficulty, (int, np.integer)) or difficulty < 0:
            raise ValueError(f"difficulty must be an integer >= 0 (0 or 1: the two rounds), got {difficulty!r}")
        self.difficulty = int(difficulty)
        self.time_limit = TIME_LIMITS.get(self.difficulty, self.time_limit)
        self.spec.timestep_limit = self.time_limit

    def change_model(
        self, model: str = "3D", prosthetic: bool = True, difficulty: int = 0, seed: int | None = 0
    ) -> None:
        """Load another model (only if it changes), set the difficulty, re-seed. Then ``reset()``."""
        if model not in ("3D", "2D"):
            raise ValueError(f"model must be '3D' or '2D', got {model!r}")
        if (self.model, self.prosthetic) != (model, bool(prosthetic)):
            self.model, self.prosthetic = model, bool(prosthetic)
            self.load_model(self.model_paths[self.get_model_key()])
        self.set_difficulty(difficulty)
        self.seed(seed)

    # -- target velocities ----------------------------------------------------------------------

    def generate_new_targets(self, poisson_lambda: float = 300) -> None:
        """Draw ``self.targets`` ((time_limit + 1) x 3): the target velocity of every step.

        Starts at 1.25 m/s straight ahead; at 10 Poisson(``poisson_lambda``)-spaced steps the speed
        changes by up to +-0.5 m/s and the heading by up to +-pi/8 (same draws as the original).
        """
        n_steps = int(self.time_limit) + 1
        velocity = np.zeros(n_steps)
        heading = np.zeros(n_steps)
        velocity[0] = 1.25
        change_steps = set(np.cumsum(self.np_random.poisson(poisson_lambda, 10)).tolist())
        rng = self.py_random
        for i in range(1, n_steps):
            velocity[i] = velocity[i - 1]
            heading[i] = heading[i - 1]
            if i in change_steps:
                velocity[i] += rng.choice([-1, 1]) * rng.uniform(-0.5, 0.5)
                heading[i] += rng.choice([-1, 1]) * rng.uniform(-math.pi / 8, math.pi / 8)
        self.targets = np.array([rect(polar) for polar in zip(velocity, heading)])

    # -- state and observation ------------------------------------------------------------------

    def get_state_desc(self) -> StateDescription:
        """The state description; at difficulty 1 with ``target_vel`` of the current step."""
        description = self.osim_model.get_state_desc()
        if self.difficulty > 0:
            description["target_vel"] = self.targets[self.osim_model.istep, :].tolist()
        return description

    def get_observation(self) -> list[float]:
        """The 160-vector (169 without the prosthesis); see the table in the module docstring."""
        d = self.get_state_desc()
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

    def get_observation_space_size(self) -> int:
        """Length of the observation vector (160 with the prosthesis, 169 without)."""
        return 160 if self.prosthetic else 169

    def observation_names(self) -> list[str]:
        """Names of the entries of the observation vector, in order."""
        quantities = ("x", "y", "vx", "vy", "ax", "ay", "rz", "vrz", "arz")
        names = [f"pelvis.{q}" for q in quantities[1:]]
        names += [f"{body}.{q}" for body in OBSERVED_BODIES[1:] for q in quantities]
        structure = self.osim_model.structure
        for joint in OBSERVED_JOINTS:
            coordinates = structure.joint(joint).coordinates
            for kind in ("pos", "vel", "acc"):
                names += [f"{joint}.{coordinate}.{kind}" for coordinate in coordinates]
        for muscle in sorted(self.osim_model.muscle_names):
            names += [f"{muscle}.activation", f"{muscle}.fiber_length", f"{muscle}.fiber_velocity"]
        names += ["mass_center.x", "mass_center.y", "mass_center.vx", "mass_center.vy", "mass_center.vz",
                  "mass_center.ax", "mass_center.ay", "mass_center.az"]
        return names

    # -- episode --------------------------------------------------------------------------------

    def reset(  # type: ignore[override]  # positional order of the original's reset
        self, project: bool = True, seed: int | None = None, obs_as_dict: bool | None = None, **_: Any
    ) -> Any:
        """Reset (reseeding when ``seed`` is given); returns the first observation."""
        if seed is not None:
            self.seed(seed)
        self.generate_new_targets()
        observation = super().reset(project=project, obs_as_dict=obs_as_dict)
        if self._report is not None:
            self._report.new_episode(self.get_observation())
        return observation

    def step(self, action: Any, project: bool = True, obs_as_dict: bool | None = None) -> list:
        """Step as the base class, writing the CSV report when one is open."""
        result = super().step(action, project=project, obs_as_dict=obs_as_dict)
        if self._report is not None:
            self._report.write_step(self.get_observation(), self.osim_model.last_excitations)
        return result

    def is_done(self) -> bool:
        """The episode ends when the pelvis is below 0.6 m."""
        return self.osim_model.get_state_desc()["body_pos"]["pelvis"][1] < 0.6

    # -- reward ---------------------------------------------------------------------------------

    def reward_round1(self) -> float:
        """Round 1: 9 minus the squared difference of the pelvis speed from 3 m/s."""
        if not self.get_prev_state_desc():
            self.reward_terms = {}
            return 0.0
        speed = 9.0 - (self.get_state_desc()["body_vel"]["pelvis"][0] - 3.0) ** 2
        self.reward_terms = {"speed": speed}
        return speed

    def reward_round2(self) -> float:
        """Round 2: 10 minus effort and the squared errors from the target velocity."""
        d = self.get_state_desc()
        activations = np.asarray(self.osim_model.get_activations())
        # Summed in the original's order (effort, then x, then z) so the value is bitwise the same.
        effort = float(np.sum(activations**2)) * 0.001
        error_x = (d["body_vel"]["pelvis"][0] - d["target_vel"][0]) ** 2
        error_z = (d["body_vel"]["pelvis"][2] - d["target_vel"][2]) ** 2
        self.reward_terms = {"alive": 10.0, "effort": -effort, "velocity_x": -error_x, "velocity_z": -error_z}
        return 10.0 - (effort + error_x + error_z)

    def reward(self) -> float:
        """The step's reward of the current round (difficulty 0: Round 1, else Round 2)."""
        return self.reward_round1() if self.difficulty == 0 else self.reward_round2()


"""``L2M2019Env``: the NeurIPS 2019 "Learn to Move - Walk Around" task (spec §3.6), as osim-rl 3.0.11.

A 3-D (or, after ``change_model('2D')``, planar) 14-DoF human model with 22 muscles walks on flat
ground following a *target velocity field*: constant 1.4 m/s forward at difficulty 0, a field
pointing to a sink 5-7 m away at difficulties 1-3 (see :mod:`osim.env.target`). Rewards are paid
per footstep: the step's duration, minus the deviation of the step's average pelvis velocity from
the target, minus the muscle effort. Difficulty 2 is the challenge's Round 1, difficulty 3 Round 2
(two targets to reach, 500 points each).

Action
------
22 muscle excitations in [0, 1], held for 0.01 s, per leg in the order ``HAB, HAD, HFL, GLU, HAM,
RF, VAS, BFSH, GAS, SOL, TA`` (hip abductors, hip adductors, iliopsoas, gluteus maximus, hamstrings,
rectus femoris, vasti, biceps femoris short head, gastrocnemius, soleus, tibialis anterior): right
leg 0-10, left leg 11-21. ``step`` maps them to the model's muscle order with ``act2mus``. Values
outside [0, 1] are clipped; NaN raises ``ValueError``.

Observation
-----------
By default a dict (``obs_as_dict=True``): ``v_tgt_field`` (2, 11, 11) body-frame target velocities
at points -5..5 m forward (axis 1) and leftward (axis 2), channel 0 forward and 1 leftward;
``pelvis`` (``height``, ``pitch``, ``roll``, ``vel``); per leg ``r_leg``/``l_leg``:
``ground_reaction_forces``, ``joint`` and ``d_joint`` (``hip_abd``, ``hip``, ``knee``, ``ankle``) and
for each muscle ``{f, l, v}``. ``obs_as_dict=False`` gives the same as a list, index by index as
in the table (``project=False``: the state-description dict with ``v_tgt_field`` added).

``observation_space`` has the original's bounds (target velocities +-10; height [0, 3]; pitch and
roll +-pi; velocities +-20; rates +-10 pi; forces +-5 forward/lateral, +-10 up; joint limits; joint
rates +-5 pi; f, l in [0, 3]; v +-50); ``get_observation_clipped()`` clips the vector to them.

Reward
------
Every step: ``alive`` 0.1. The footstep accumulators collect the step duration, the velocity error
``sum((v_pelvis - v_tgt(p_pelvis)) dt)`` (global 2-D frame) and the effort ``sum(sum_m a_m^2 dt)``.
When a footstep was registered (a foot's vertical load crossing 5 % of body weight upwards) the
reward pays ``footstep_duration = 10 * duration``, ``velocity_deviation = -w * |velocity error|``
(w = 1 in Round 1, 3 in Round 2) and ``effort = -effort`` and clears the accumulators.
Round 1 (difficulty 0-2) adds ``success_bonus`` when the time limit is reached standing (see
Quirks). Round 2 (difficulty 3) also pays the open footstep at the time limit after more than 5
footsteps, and ``target_bonus`` 500 for each target reached (at most 2).
``info["reward_terms"]`` holds these named terms; they sum to the reward.

Termination
-----------
Terminated when the pelvis is below y = 0.6 m; truncated after 1000 steps (difficulty 0-2) or 2500
steps (difficulty 3).

Arguments
---------
=====================  ==========  ================================================================
argument               default     meaning
=====================  ==========  ================================================================
visualize              True        OpenSim's visualizer and the target-field plot (each only where
                                   a display exists)
integrator_accuracy    5e-5        accuracy of the Runge-Kutta-Merson integrator
difficulty             3           0 constant target; 1 sinks ahead; 2 Round 1; 3 Round 2
seed                   None        seed of the environment's generators (0 is a seed)
report                 None        file prefix: write ``<report>-obs.csv`` and ``<report>-act.csv``
integrator             None        full ``osim.engine.IntegratorSettings`` (overrides the accuracy)
render_mode            None        ``"rgb_array"`` for images, ``"human"`` for the visualizer
=====================  ==========  ================================================================

``reset(project=True, seed=None, init_pose=None, obs_as_dict=True)``: ``seed`` re-seeds when not
None; ``init_pose`` is 12 numbers: forward and rightward pelvis speed (m/s), pelvis height (m),
trunk lean (+ forward), then per leg (right, left) hip adduction, hip flexion, knee extension and
ankle flexion (rad). ``change_model(model='3D', difficulty=3, seed=0)`` switches to the planar
model with ``'2D'`` (``seed`` is ignored, as in the original).

Quirks
------
* Reward timing (kept): the reward of step k is computed right after integration, before the
  footstep detector and the target field are updated, so footstep rewards and the 500-point target
  bonus are paid one step after the event.
* Round-1 success bonus at the time limit (fixed, original issue #215): 3.0.7-3.0.11 paid
  ``reward_footstep_0 + 10``, a variable bound only when a footstep reward was paid in the same
  step, and otherwise crashed with ``UnboundLocalError``. Here ``success_bonus`` is ``10`` plus, when
  a footstep reward is paid in that last step, that footstep's ``footstep_duration`` once more
  (what the original paid when it did not crash). No credit is given for an unfinished step: that
  would let a policy that never steps collect 10 points per second standing (original issue #196).
* Seeds (fixed): the original seeded NumPy's global generator only for truthy seeds, so ``seed=0``
  was ignored (issue #209); here every draw comes from the environment's own ``RandomState`` and 0
  is a seed. The same seed gives the same draws as the original's ``np.random.seed``.
* Footstep state (fixed): the original kept ``footstep`` in a class attribute shared by all
  instances; here it is per instance (reset as in 3.0.9+: both feet in contact, 0 steps).
* ``report`` (fixed): the original opened the CSV files and then called a method that does not
  exist. Here it writes ``<report>-obs.csv`` (episode, step, the observations by name) and
  ``<report>-act.csv`` (episode, step, the 22 excitations by name), one row per reset/step.
* ``init_pose`` of the wrong length raises ``ValueError`` (the original raised ``IndexError`` or
  read the wrong entries).
* Observation space: the original's bounds are kept; observations may leave them (e.g. forces in
  a fall); ``get_observation_clipped()`` returns the clipped vector as in the original.
* The duplicated observation computation inside the original's ``step`` (built and thrown away) is
  not done; nothing it returned changes.
"""
from __future__ import annotations

import math
import random
from typing import Any, ClassVar

import numpy as np

from osim.engine import Engine, StateArrays, StateDescription, validate_excitations
from osim.env.base import OsimEnv
from osim.env.target import VTgtField
from osim.env.task import ObservationLayout, ObservationPart, Reward, Task, part, task_attribute
from osim.models import model_path

LEG_MUSCLES: tuple[str, ...] = ("HAB", "HAD", "HFL", "GLU", "HAM", "RF", "VAS", "BFSH", "GAS", "SOL", "TA")
MODEL_MUSCLE_NAMES: dict[str, str] = {
    "HAB": "abd", "HAD": "add", "HFL": "iliopsoas", "GLU": "glut_max", "HAM": "hamstrings",
    "RF": "rect_fem", "VAS": "vasti", "BFSH": "bifemsh", "GAS": "gastroc", "SOL": "soleus",
    "TA": "tib_ant",
}
LEGS: tuple[tuple[str, str], ...] = (("r_leg", "r"), ("l_leg", "l"))
JOINTS: tuple[str, ...] = ("hip_abd", "hip", "knee", "ankle")
ACTION_NAMES: tuple[str, ...] = tuple(f"{muscle}_{side}" for _, side in LEGS for muscle in LEG_MUSCLES)
MODEL_FILES: dict[str, str] = {"3D": "gait14dof22musc_20170320", "2D": "gait14dof22musc_planar_20170320"}
#: The original's ``d_reward["weight"]``: footstep duration, effort, velocity deviation (Round 1, Round 2).
REWARD_WEIGHTS: dict[str, int] = {"footstep": 10, "effort": 1, "v_tgt": 1, "v_tgt_R2": 3}
ALIVE_BONUS = 0.1
TARGET_BONUS = 500.0
SUCCESS_BONUS = 10


def rotate_frame(x: float, y: float, theta: float) -> tuple[float, float]:
    """Rotate the 2-D vector (x, y) by ``theta`` (rad)."""
    cos, sin = math.cos(theta), math.sin(theta)
    return cos * x - sin * y, sin * x + cos * y


def _bounded(name: str, entries: list[str], description: str, bounds: list[tuple[float, float]]) -> ObservationPart:
    return part(name, entries, description, low=tuple(b[0] for b in bounds), high=tuple(b[1] for b in bounds))


def _observation_layout() -> ObservationLayout:
    """The 2019 observation: target field, pelvis and per-leg parts, with the original's bounds."""
    deg = np.pi / 180
    low, high = VTgtField.vtgt_space
    parts = [
        part("v_tgt_field", [f"v_tgt_field[{c}][{i}][{j}]" for c in range(2) for i in range(11) for j in range(11)],
             "``v_tgt_field`` flattened: index ``c*121 + i*11 + j`` is channel c (0 forward, 1 leftward) at the "
             "point ``i - 5`` m forward, ``j - 5`` m leftward (body frame)", low=tuple(low), high=tuple(high)),
        _bounded("pelvis", ["pelvis.height", "pelvis.pitch", "pelvis.roll"],
                 "pelvis height (m), pitch (rad, + forward), roll (rad, + to the right)",
                 [(0, 3), (-np.pi, np.pi), (-np.pi, np.pi)]),
        _bounded("pelvis_vel", [f"pelvis.vel[{k}]" for k in range(6)],
                 "pelvis velocity forward, leftward, upward (m/s, body frame), then pitch, roll, yaw rates (rad/s)",
                 [(-20, 20)] * 3 + [(-10 * np.pi, 10 * np.pi)] * 3),
    ]
    angles = [(-45 * deg, 90 * deg), (-180 * deg, 45 * deg), (-180 * deg, 15 * deg), (-45 * deg, 90 * deg)]
    for leg, side in LEGS:
        lateral = "rightward" if side == "r" else "leftward"
        parts += [
            _bounded(f"{leg}.ground_reaction_forces", [f"{leg}.ground_reaction_forces[{k}]" for k in range(3)],
                     f"ground reaction force forward, {lateral}, upward (body weights)", [(-5, 5), (-5, 5), (-10, 10)]),
            _bounded(f"{leg}.joint", [f"{leg}.joint.{joint}" for joint in JOINTS],
                     "joint angles ``hip_abd`` (+ abduction), ``hip`` (+ extension), ``knee`` (+ extension), "
                     "``ankle`` (+ plantarflexion) (rad)", angles),
            _bounded(f"{leg}.d_joint", [f"{leg}.d_joint.{joint}" for joint in JOINTS],
                     "joint angular velocities, same order (rad/s)", [(-5 * np.pi, 5 * np.pi)] * 4),
            _bounded(f"{leg}.muscles", [f"{leg}.{muscle}.{q}" for muscle in LEG_MUSCLES for q in ("f", "l", "v")],
                     "muscles ``" + ", ".join(LEG_MUSCLES) + "``, each ``f`` (fibre force / max isometric force), "
                     "``l`` (fibre length / optimal length), ``v`` (fibre velocity / optimal length, 1/s)",
                     [(0, 3), (0, 3), (-50, 50)] * len(LEG_MUSCLES)),
        ]
    return ObservationLayout(tuple(parts))


OBSERVATION = _observation_layout()


def observation_names() -> list[str]:
    """Names of the entries of the observation vector, in order."""
    return OBSERVATION.names()


def _body_bounds() -> np.ndarray:
    """The original's bounds of the body entries (rows: low, high): all but the target field."""
    low, high = OBSERVATION.bounds()
    n_field = OBSERVATION.parts[0].size
    return np.array([low[n_field:], high[n_field:]])


class L2M2019Task(Task):
    """Walk following a target velocity field (NeurIPS 2019): footstep rewards, targets to reach.

    Task state: the target field (``vtgt``, its last local field ``v_tgt_field``), the footstep
    detector (``footstep``), the reward accumulators (``d_reward``) and the time ``t``.
    """

    layout = OBSERVATION
    array_based = True

    MASS = 75.16460000000001  # kg, sum of the body masses of gait14dof22musc_20170320
    G = 9.80665
    LENGTH0 = 1  # leg length used to normalise velocities
    # action index -> model muscle index: model_input[i] = action[act2mus[i]]
    act2mus: ClassVar[list[int]] = [0, 1, 4, 7, 3, 2, 5, 6, 8, 9, 10, 11, 12, 15, 18, 14, 13, 16, 17, 19, 20, 21]
    INIT_POSE = np.array([0, 0, 0.94, 0, 0, 0, 0, 0, 0, 0, 0, 0], dtype=np.float64)
    reward_weights = {  # noqa: RUF012
        "alive": ALIVE_BONUS,
        "footstep_duration": REWARD_WEIGHTS["footstep"],
        "velocity_deviation (Round 1)": -REWARD_WEIGHTS["v_tgt"],
        "velocity_deviation (Round 2)": -REWARD_WEIGHTS["v_tgt_R2"],
        "effort": -REWARD_WEIGHTS["effort"],
        "success_bonus (Round 1)": SUCCESS_BONUS,
        "target_bonus (Round 2)": TARGET_BONUS,
    }
    termination_reasons = {"pelvis_too_low": "the pelvis is below y = 0.6 m"}  # noqa: RUF012

    def __init__(self, difficulty: int = 3, model: str = "3D") -> None:
        self.model_paths = {key: model_path(stem) for key, stem in MODEL_FILES.items()}
        self.set_model(model)
        self.set_difficulty(difficulty)
        self.footstep: dict[str, Any] = {"n": 0, "new": False, "r_contact": 1, "l_contact": 1}
        self.v_tgt_field = np.zeros((2, 11, 11))
        self.flag_new_v_tgt_field = 0
        self.vtgt: VTgtField | None = None
        self.t = 0.0
        self.init_pose = self.INIT_POSE
        self.episode_seed: int | None = None
        self.Fmax: dict[str, dict[str, float]] = {}
        self.lopt: dict[str, dict[str, float]] = {}
        self._act2mus = np.array(self.act2mus)
        self._plan: _ArrayPlan | None = None
        self.init_reward()

    # -- configuration --------------------------------------------------------------------------

    @staticmethod
    def check_difficulty(difficulty: Any) -> None:
        """A ``ValueError`` unless ``difficulty`` is 0, 1, 2 or 3."""
        if difficulty not in (0, 1, 2, 3):
            raise ValueError(f"difficulty level should be in [0, 1, 2, 3], got {difficulty!r}")

    def set_model(self, model: str) -> None:
        """Use the ``'3D'`` or the planar ``'2D'`` model (from the next engine)."""
        if model not in self.model_paths:
            raise ValueError(f"model must be '3D' or '2D', got {model!r}")
        self.model_key = model
        self.model = self.model_paths[model]

    def set_difficulty(self, difficulty: int) -> None:
        """Difficulty 0-2: 1000-step episodes (Round 1 is 2); 3: 2500 steps (Round 2)."""
        self.check_difficulty(difficulty)
        self.difficulty = difficulty
        self.time_limit = 2500 if difficulty == 3 else 1000

    def engine_loaded(self, engine: Engine) -> None:
        """Each leg muscle's maximum force and optimal fibre length (observation normalisation)."""
        structure = engine.structure
        self.Fmax, self.lopt = {}, {}
        for leg, side in LEGS:
            self.Fmax[leg], self.lopt[leg] = {}, {}
            for MUS in LEG_MUSCLES:
                muscle = structure.muscle(f"{MODEL_MUSCLE_NAMES[MUS]}_{side}")
                self.Fmax[leg][MUS] = muscle.max_isometric_force
                self.lopt[leg][MUS] = muscle.optimal_fiber_length
        if engine.n_muscles != len(self.act2mus):
            raise ValueError(f"the L2M2019 model must have 22 muscles, this one has {engine.n_muscles}")
        self._plan = _ArrayPlan(engine, self.Fmax, self.lopt)

    def n_actions(self, engine: Engine) -> int:
        """22 excitations, per leg in the order of ``LEG_MUSCLES``."""
        return len(self.act2mus)

    def excitations(self, action: Any, engine: Engine) -> Any:
        """The action (validated) in the model's muscle order."""
        return validate_excitations(action, len(self.act2mus))[self._act2mus]

    def target_field(self) -> VTgtField:
        """The target velocity field (made by the environment, or at the first episode)."""
        if self.vtgt is None:
            raise RuntimeError("the target velocity field is made at the first reset (or by L2M2019Env.__init__)")
        return self.vtgt

    # -- episode --------------------------------------------------------------------------------

    def initialize_episode(self, engine: Engine, np_random: np.random.RandomState, py_random: random.Random) -> None:
        """A new target field (re-seeded with ``episode_seed`` when set), footsteps and ``init_pose``."""
        if self.vtgt is None:
            self.vtgt = VTgtField(visualize=False, version=self.difficulty, dt=engine.step_size, rng=np_random)
        self.vtgt.rng = np_random
        self.t = 0.0
        self.init_reward()
        self.vtgt.reset(version=self.difficulty, seed=self.episode_seed)
        self.footstep = {"n": 0, "new": False, "r_contact": 1, "l_contact": 1}
        engine.set_pose(*_initial_pose(self.init_pose, [c.name for c in engine.structure.coordinates]))
        self._update_field(engine.state_arrays())

    def after_step(self, engine: Engine, description: StateArrays) -> None:
        """Advance the time, detect footsteps, update the target field."""
        self.t += engine.step_size
        self.update_footstep(description)
        self._update_field(description)

    def _update_field(self, state: StateArrays) -> None:
        """The target field's update at the pelvis pose of ``state``; the field is this state's."""
        self.v_tgt_field, self.flag_new_v_tgt_field = self.target_field().update(self.pose_of(state))
        state.annotations["v_tgt_field"] = self.v_tgt_field

    def update_footstep(self, state: StateArrays) -> None:
        """Register a footstep when a foot's vertical load rises above 5 % of body weight."""
        threshold = -0.05 * (self.MASS * self.G)
        # Index 1 is the vertical force on the ground body: negative under load.
        r_contact = bool(state.ground_force("foot_r")[1] < threshold)
        l_contact = bool(state.ground_force("foot_l")[1] < threshold)
        footstep = self.footstep
        footstep["new"] = bool((not footstep["r_contact"] and r_contact) or (not footstep["l_contact"] and l_contact))
        if footstep["new"]:
            footstep["n"] += 1
        footstep["r_contact"] = r_contact
        footstep["l_contact"] = l_contact

    # -- state and observation ------------------------------------------------------------------

    def describe(self, engine: Engine) -> StateDescription:
        """The state description with ``v_tgt_field`` (2, 11, 11) from the last field update."""
        return self.describe_state(engine.state_arrays())

    def describe_state(self, arrays: StateArrays) -> StateDescription:
        """The description of the state of ``arrays`` with that state's ``v_tgt_field`` (before the
        state's field update, the field so far, as the original's description had)."""
        arrays.annotations.setdefault("v_tgt_field", self.v_tgt_field)
        return arrays.description()

    def _array_plan(self) -> _ArrayPlan:
        if self._plan is None:
            raise RuntimeError("the task has no engine yet (engine_loaded makes its index plan)")
        return self._plan

    def pose(self, engine: Engine) -> np.ndarray:
        """(x, y, yaw) of the pelvis in the global 2-D frame (y = -z, leftward)."""
        return self.pose_of(engine.state_arrays())

    def pose_of(self, state: StateArrays) -> np.ndarray:
        """:meth:`pose` of the state ``state``."""
        plan = self._array_plan()
        x, _, z = state.body_pos[plan.pelvis].tolist()
        return np.array([x, -z, state.q.item(plan.pelvis_coordinates[2])])

    def observation_dict(self, state: StateArrays) -> dict[str, Any]:
        """The 2019 observation dict: target field, pelvis and per-leg entries, normalised (the
        values of :meth:`observation`, nested)."""
        flat = self.body_observation(state)
        pelvis_vel = flat[3:9]
        obs: dict[str, Any] = {
            "v_tgt_field": self.v_tgt_field,
            "pelvis": {"height": flat[0], "pitch": flat[1], "roll": flat[2],
                       # the dict's velocities are not normalised (x / 1 * 1 is x)
                       "vel": [pelvis_vel[0] * self.LENGTH0, pelvis_vel[1] * self.LENGTH0,
                               pelvis_vel[2] * self.LENGTH0, *pelvis_vel[3:]]},
        }
        start = 9
        for leg, _ in LEGS:
            values = flat[start:start + _LEG_SIZE]
            start += _LEG_SIZE
            leg_obs: dict[str, Any] = {
                "ground_reaction_forces": values[0:3],
                "joint": dict(zip(JOINTS, values[3:7])),
                "d_joint": dict(zip(JOINTS, values[7:11])),
            }
            for k, MUS in enumerate(LEG_MUSCLES):
                f, length, v = values[11 + 3 * k:14 + 3 * k]
                leg_obs[MUS] = {"f": f, "l": length, "v": v}
            obs[leg] = leg_obs
        return obs

    def observation(self, engine: Engine, description: StateArrays) -> list[float]:
        """The flat vector, in the order of the layout: the target field, then :meth:`body_observation`."""
        return np.asarray(self.v_tgt_field, dtype=np.float64).ravel().tolist() + self.body_observation(description)

    def body_observation(self, state: StateArrays) -> list[float]:
        """The observation after the target field: pelvis, then per leg ground reaction forces,
        joint angles and rates, and muscles (Python floats, the original's arithmetic)."""
        plan = self._array_plan()
        body_weight = self.MASS * self.G
        q, qd = state.q.tolist(), state.qd.tolist()
        tilt, roll, yaw = (q[i] for i in plan.pelvis_columns)
        d_tilt, d_roll, d_yaw = (qd[i] for i in plan.pelvis_columns)
        pelvis_vel = state.body_vel[plan.pelvis].tolist()
        dx_local, dy_local = rotate_frame(pelvis_vel[0], pelvis_vel[2], yaw)
        length0 = self.LENGTH0
        res = [state.body_pos.item(plan.pelvis, 1), -tilt, roll,
               dx_local / length0, -dy_local / length0, pelvis_vel[1] / length0, -d_tilt, d_roll, d_yaw]
        # joint angles and rates of both legs with the observation's signs (a sign flip is exact)
        joints = [q[i] * sign for i, sign in plan.leg_columns]
        d_joints = [qd[i] * sign for i, sign in plan.leg_columns]
        # f, l, v per muscle: the three fibre arrays end to end, taken muscle by muscle, divided by
        # Fmax, lopt, lopt
        fibres = np.concatenate((state.fiber_force, state.fiber_length, state.fiber_velocity))
        muscle_values = np.divide(fibres.take(plan.fibre_entries), plan.fibre_divisors).tolist()
        per_leg = 3 * len(LEG_MUSCLES)
        for k, (_, side) in enumerate(LEGS):
            force = state.ground_force(plan.feet[k]).tolist()
            # The first three values are the force on the ground: negate for the force on the foot.
            grf = [force[0] / body_weight, force[1] / body_weight, force[2] / body_weight]
            grf_forward, grf_right = rotate_frame(-grf[0], -grf[2], yaw)
            res += [grf_forward, grf_right if side == "r" else -grf_right, -grf[1]]
            res += joints[4 * k:4 * k + 4]
            res += d_joints[4 * k:4 * k + 4]
            res += muscle_values[per_leg * k:per_leg * (k + 1)]
        return res

    # -- reward and termination -----------------------------------------------------------------

    def termination(self, engine: Engine, description: StateArrays) -> str | None:
        """``pelvis_too_low`` below 0.6 m."""
        return "pelvis_too_low" if description.body_pos.item(self._array_plan().pelvis, 1) < 0.6 else None

    def init_reward(self) -> None:
        """Weights and the per-episode/per-footstep accumulators (the original's ``d_reward``)."""
        self.d_reward: dict[str, Any] = {
            "weight": dict(REWARD_WEIGHTS),
            "alive": ALIVE_BONUS,
            "effort": 0.0,
            "footstep": {"effort": 0.0, "del_t": 0.0, "del_v": np.zeros(2)},
        }

    def _accumulate(self, engine: Engine, state: StateArrays) -> None:
        """Add this step's effort, duration and velocity error to the accumulators."""
        dt = engine.step_size
        effort = sum([a ** 2 for a in state.activation.tolist()]) * dt
        self.d_reward["effort"] += effort
        step = self.d_reward["footstep"]
        step["effort"] += effort
        step["del_t"] += dt
        pelvis = self._array_plan().pelvis
        x, _, z = state.body_pos[pelvis].tolist()
        vx, _, vz = state.body_vel[pelvis].tolist()
        tx, ty = self.target_field().vtgt_at(x, -z)
        # del_v + (v - v_tgt) dt, component by component in Python floats (the same operations)
        dx, dy = step["del_v"].tolist()
        step["del_v"] = np.array([dx + (vx - tx) * dt, dy + (-vz - ty) * dt])

    def _pay_footstep(self, velocity_weight: float) -> tuple[float, float, float]:
        """The terms of the footstep that just ended; clears the footstep accumulators."""
        step, weight = self.d_reward["footstep"], self.d_reward["weight"]
        duration = weight["footstep"] * step["del_t"]
        velocity = -velocity_weight * float(np.linalg.norm(step["del_v"])) / self.LENGTH0
        effort = -weight["effort"] * step["effort"]
        step["del_t"], step["del_v"], step["effort"] = 0.0, np.zeros(2), 0.0
        return duration, velocity, effort

    def success(self, engine: Engine, description: StateArrays) -> bool:
        """Standing at the time limit."""
        return self.termination(engine, description) is None and engine.istep >= self.time_limit

    @staticmethod
    def _zero_terms(bonus: str) -> dict[str, float]:
        return {"alive": 0.0, "footstep_duration": 0.0, "velocity_deviation": 0.0, "effort": 0.0, bonus: 0.0}

    def _step_terms(
        self, bonus: str, engine: Engine, description: StateArrays, previous: StateArrays | None
    ) -> dict[str, float] | None:
        """The terms with ``alive`` paid and the accumulators updated; None right after a reset (no reward)."""
        if not previous:
            return None
        terms = self._zero_terms(bonus)
        terms["alive"] = self.d_reward["alive"]
        self._accumulate(engine, description)
        return terms

    def reward_1(self, engine: Engine, description: StateArrays, previous: StateArrays | None) -> Reward:
        """Round 1 (difficulty 0-2)."""
        terms = self._step_terms("success_bonus", engine, description, previous)
        if terms is None:
            return Reward(0.0, self._zero_terms("success_bonus"))
        if self.footstep["new"]:
            terms["footstep_duration"], terms["velocity_deviation"], terms["effort"] = self._pay_footstep(
                self.d_reward["weight"]["v_tgt"]
            )
        if self.success(engine, description):
            # Issue #215 fix: the original's `reward_footstep_0` existed only when a footstep was
            # paid in this call; without one it crashed. Then: 10 alone (see Quirks).
            terms["success_bonus"] = terms["footstep_duration"] + SUCCESS_BONUS
        return Reward(float(sum(terms.values())), terms)

    def reward_2(self, engine: Engine, description: StateArrays, previous: StateArrays | None) -> Reward:
        """Round 2 (difficulty 3)."""
        terms = self._step_terms("target_bonus", engine, description, previous)
        if terms is None:
            return Reward(0.0, self._zero_terms("target_bonus"))
        success = self.success(engine, description) and self.footstep["n"] > 5
        if self.footstep["new"] or success:
            terms["footstep_duration"], terms["velocity_deviation"], terms["effort"] = self._pay_footstep(
                self.d_reward["weight"]["v_tgt_R2"]
            )
        if self.flag_new_v_tgt_field:
            terms["target_bonus"] = TARGET_BONUS
        return Reward(float(sum(terms.values())), terms)

    def reward(self, engine: Engine, description: StateArrays, previous: StateArrays | None) -> Reward:
        """Round 2's reward at difficulty 3, else Round 1's."""
        if self.difficulty == 3:
            return self.reward_2(engine, description, previous)
        return self.reward_1(engine, description, previous)


class L2M2019Env(OsimEnv):
    """Walk following a target velocity field (NeurIPS 2019, osim-rl 3.0.11)."""

    task: L2M2019Task
    task_class = L2M2019Task
    model = "3D"
    time_limit: int | float = 1000
    obs_as_dict_default = True

    MASS = L2M2019Task.MASS
    G = L2M2019Task.G
    LENGTH0 = L2M2019Task.LENGTH0
    dict_muscle: ClassVar[dict[str, str]] = {mus: MUS for MUS, mus in MODEL_MUSCLE_NAMES.items()}
    act2mus: ClassVar[list[int]] = L2M2019Task.act2mus
    INIT_POSE = L2M2019Task.INIT_POSE

    obs_vtgt_space = VTgtField.vtgt_space
    obs_body_space = _body_bounds()

    footstep = task_attribute("footstep", "The footstep detector: count, new, contacts.")
    vtgt = task_attribute("vtgt", "The target velocity field.")
    v_tgt_field = task_attribute("v_tgt_field", "The local target field (2, 11, 11) of the last update.")
    flag_new_v_tgt_field = task_attribute("flag_new_v_tgt_field", "Whether the last update reached a target.")
    d_reward = task_attribute("d_reward", "The reward weights and accumulators.")
    t = task_attribute("t", "Simulated time of the episode (s).")
    Fmax = task_attribute("Fmax", "Each leg muscle's maximum isometric force (N).")
    lopt = task_attribute("lopt", "Each leg muscle's optimal fibre length (m).")
    difficulty = task_attribute("difficulty", "0 constant target; 1 sinks ahead; 2 Round 1; 3 Round 2.")

    def __init__(
        self,
        visualize: bool = True,
        integrator_accuracy: float = 5e-5,
        difficulty: int = 3,
        seed: int | None = None,
        report: str | None = None,
        **kwargs: Any,
    ) -> None:
        L2M2019Task.check_difficulty(difficulty)
        self.model = type(self).model
        task = L2M2019Task(difficulty, self.model)
        self.model_paths = task.model_paths
        super().__init__(visualize=visualize, integrator_accuracy=integrator_accuracy, task=task, **kwargs)
        self.set_difficulty(difficulty)
        self.seed(seed)
        self.task.vtgt = VTgtField(
            visualize=self.visualize, version=self.difficulty, dt=self.osim_model.stepsize, rng=self.np_random
        )
        self.obs_vtgt_space = self.task.vtgt.vtgt_space
        self._act2mus: np.ndarray = np.array(self.act2mus)
        self.open_report(report)

    # -- configuration --------------------------------------------------------------------------

    @staticmethod
    def _check_difficulty(difficulty: Any) -> None:
        L2M2019Task.check_difficulty(difficulty)

    def get_model_key(self) -> str:
        """The model in use: ``'3D'`` or ``'2D'``."""
        return self.model

    def set_difficulty(self, difficulty: int) -> None:
        """Difficulty 0-2: 1000-step episodes (Round 1 is 2); 3: 2500 steps (Round 2)."""
        self.task.set_difficulty(difficulty)
        self.time_limit = self.task.time_limit
        self.spec.timestep_limit = self.time_limit

    def seed(self, seed: int | None = None) -> list[int | None]:
        """Seed the environment's generators (the target field's too); returns the seeds used."""
        result = super().seed(seed)
        task = getattr(self, "task", None)  # absent while the base class sets up
        if task is not None and task.vtgt is not None:
            task.vtgt.rng = self.np_random
        return result

    def change_model(self, model: str = "3D", difficulty: int = 3, seed: int | None = 0) -> None:
        """Switch between the ``'3D'`` and the planar ``'2D'`` model; ``seed`` is ignored."""
        if model not in self.model_paths:
            raise ValueError(f"model must be '3D' or '2D', got {model!r}")
        if self.model != model:
            self.model = model
            self.task.set_model(model)
            self.load_model(self.task.model)
        self.set_difficulty(difficulty)

    def _target_field(self) -> VTgtField:
        return self.task.target_field()

    def _pose(self) -> np.ndarray:
        """(x, y, yaw) of the pelvis in the global 2-D frame (y = -z, leftward)."""
        return self.task.pose(self.engine)

    # -- episode --------------------------------------------------------------------------------

    def reset(  # type: ignore[override]  # positional order of the original's reset
        self,
        project: bool = True,
        seed: int | None = None,
        init_pose: Any = None,
        obs_as_dict: bool | None = True,
        **_: Any,
    ) -> Any:
        """Start an episode from ``init_pose`` with a new target field; returns the first observation."""
        pose = self.INIT_POSE if init_pose is None else np.asarray(init_pose, dtype=np.float64)
        if pose.shape != (12,) or not np.all(np.isfinite(pose)):
            raise ValueError(
                "init_pose must be 12 finite numbers (forward speed, rightward speed, pelvis height, "
                f"trunk lean, then hip adduction, hip flexion, knee extension, ankle flexion per leg); "
                f"got shape {pose.shape}"
            )
        # ``seed`` re-seeds the target field's generator (the environment's), as the original did.
        self.task.init_pose, self.task.episode_seed = pose, seed
        self.reset_episode()
        return self.observe(project, obs_as_dict)

    def step(self, action: Any, project: bool = True, obs_as_dict: bool | None = True) -> list:
        """Step with the 22 excitations in the original's action order, update footsteps and the field."""
        return super().step(action, project, obs_as_dict)

    def update_footstep(self) -> None:
        """Register a footstep when a foot's vertical load rises above 5 % of body weight."""
        self.task.update_footstep(self.task_state())

    # -- observation ----------------------------------------------------------------------------

    def get_observation_dict(self) -> dict[str, Any]:
        """The 2019 observation dict: target field, pelvis and per-leg entries, normalised."""
        return self.task.observation_dict(self.task_state())

    def get_observation_clipped(self) -> np.ndarray:
        """The observation vector clipped to the observation space's bounds."""
        return np.clip(self.get_observation(), self.observation_space.low, self.observation_space.high)

    def report_columns(self) -> tuple[list[str], list[str]]:
        """The observation names and the 22 actions by name (the original's order)."""
        return observation_names(), list(ACTION_NAMES)

    # -- reward (the original's names) ----------------------------------------------------------

    def init_reward(self) -> None:
        """Reset the reward weights and accumulators (the original's ``d_reward``)."""
        self.task.init_reward()

    init_reward_1 = init_reward

    def get_reward(self) -> float:
        """The step's reward: :meth:`get_reward_2` at difficulty 3, else :meth:`get_reward_1`."""
        return self.get_reward_2() if self.difficulty == 3 else self.get_reward_1()

    def get_reward_1(self) -> float:
        """Round 1 (difficulty 0-2)."""
        result = self.task.reward_1(self.engine, self.task_state(), self.prev_task_state())
        self.reward_terms = result.terms
        return result.total

    def get_reward_2(self) -> float:
        """Round 2 (difficulty 3)."""
        result = self.task.reward_2(self.engine, self.task_state(), self.prev_task_state())
        self.reward_terms = result.terms
        return result.total

    def close(self) -> None:
        """Close the environment, the target field's plot and the CSV report."""
        super().close()
        if self.task.vtgt is not None:
            self.task.vtgt.close()


#: Observation entries per leg: ground reaction force 3, joints 4, joint rates 4, muscles 3 each.
_LEG_SIZE = 3 + 4 + 4 + 3 * len(LEG_MUSCLES)
#: Per leg: ((joint, coordinate index in the joint), sign) of the observed hip_abd, hip, knee, ankle.
_LEG_JOINTS = ((("hip", 1), -1.0), (("hip", 0), -1.0), (("knee", 0), 1.0), (("ankle", 0), -1.0))


class _ArrayPlan:
    """Where the task's quantities are in an engine's :class:`StateArrays` (read once per engine)."""

    def __init__(self, engine: Engine, fmax: dict[str, dict[str, float]], lopt: dict[str, dict[str, float]]) -> None:
        structure = engine.structure
        column = {c.name: k for k, c in enumerate(structure.coordinates)}
        self.pelvis = [b.name for b in structure.bodies].index("pelvis")
        self.pelvis_coordinates = np.array([column[c] for c in structure.joint("ground_pelvis").coordinates[:3]])
        # hip_abd is the hip joint's second coordinate, the others their joint's first (as the original read them)
        legs = [(side, name, sign) for _, side in LEGS for name, sign in _LEG_JOINTS]
        # the pelvis's and legs' coordinate columns as Python ints (the observation reads them as
        # lists), each leg coordinate with its observation sign
        self.pelvis_columns: tuple[int, ...] = tuple(self.pelvis_coordinates.tolist())
        self.leg_columns: tuple[tuple[int, float], ...] = tuple(
            (column[structure.joint(f"{joint}_{side}").coordinates[index]], sign)
            for side, (joint, index), sign in legs)
        muscle_index = {m.name: k for k, m in enumerate(structure.muscles)}
        muscles = [muscle_index[f"{MODEL_MUSCLE_NAMES[MUS]}_{side}"] for _, side in LEGS for MUS in LEG_MUSCLES]
        fmax_values = np.array([fmax[leg][MUS] for leg, _ in LEGS for MUS in LEG_MUSCLES])
        lopt_values = np.array([lopt[leg][MUS] for leg, _ in LEGS for MUS in LEG_MUSCLES])
        self.feet = tuple(f"foot_{side}" for _, side in LEGS)
        # the observed f, l, v of each muscle in turn: entries of force, length, velocity end to end,
        # and their divisors Fmax, lopt, lopt
        n = engine.n_muscles
        self.fibre_entries = np.array([[k, n + k, 2 * n + k] for k in muscles]).ravel()
        self.fibre_divisors = np.column_stack([fmax_values, lopt_values, lopt_values]).ravel()


def _initial_pose(init_pose: np.ndarray, coordinates: list[str]) -> tuple[dict[str, float], dict[str, float]]:
    """(q, u) for :meth:`Simulation.set_pose`: the original's initial pose and speeds.

    ``init_pose`` is (forward speed, rightward speed, pelvis height, trunk lean, then per leg, right
    first: hip adduction, hip flexion, knee extension, ankle flexion). Every speed is zero but the
    pelvis's forward (x) and rightward (z) speeds; the pelvis list, rotation, x and z are zero; the
    other coordinates (hip rotations, lumbar extension) keep their default values.
    """
    p = [float(v) for v in init_pose]
    q = {
        "pelvis_list": 0.0, "pelvis_rotation": 0.0, "pelvis_tx": 0.0, "pelvis_tz": 0.0,
        "pelvis_ty": p[2],  # pelvis height
        "pelvis_tilt": -p[3],  # trunk lean (+ forward) -> pelvis tilt
        "hip_adduction_r": -p[4], "hip_flexion_r": -p[5], "knee_angle_r": p[6], "ankle_angle_r": -p[7],
        "hip_adduction_l": -p[8], "hip_flexion_l": -p[9], "knee_angle_l": p[10], "ankle_angle_l": -p[11],
    }
    u = dict.fromkeys(coordinates, 0.0)
    u["pelvis_tx"], u["pelvis_tz"] = p[0], p[1]  # forward and rightward speed
    return q, u

"""``Arm2DEnv`` and ``Arm2DVecEnv``: reaching with a planar arm (spec §3.7), as osim-rl 2018-2019.

``Arm2DEnv``: a planar two-joint arm with six muscles moves its wrist (the marker
``r_radius_styloid``) to a target ball drawn at every reset, for 200 steps. The default is the
osim-rl 3.0.11 behaviour (targets above the ground, the 3.0.11 arm model, dict observations by
default); ``release="2.1.5"`` gives the 2018 one (targets below the shoulder, the 2018 arm model,
vector observations). ``Arm2DVecEnv`` always uses vector observations and replaces NaN by 0.

Action
------
6 muscle excitations in [0, 1], held for 0.01 s, in model order ``TRIlong, TRIlat, TRImed,
BIClong, BICshort, BRA``. Values outside [0, 1] are clipped; NaN raises ``ValueError``
(``Arm2DVecEnv``: NaN becomes 0).

Observation
-----------
The vector form is a list (``obs_as_dict=False``; the default with ``release="2.1.5"`` and for
``Arm2DVecEnv``). ``obs_as_dict=True`` (the 3.0.11 default) and ``project=False`` give the
state-description dict.

Reward
------
``reach`` 1 plus ``distance = -((wrist_x - target_x)^2 + (wrist_y - target_y)^2)`` (a NaN
distance counts as -1).

Termination
-----------
Never terminated; truncated after 200 steps.

Engines
-------
``engine="mujoco"`` works, as does ``gymnasium.make("osim/Arm2D-v0", engine="mujoco")``: the
same task code (observation, reward, termination), target draws and observation layout (the
vector and the state dict). The target ball is the same 0.1 g body on a planar joint, which the
MuJoCo engine builds from its model-description part (``osim.engine.scene.arm_target_parts``);
its height is locked and unlocked in the state as on OpenSim (on MuJoCo a soft lock: the ball
sags by less than a micrometre in an episode). The arm muscles on MuJoCo are fitted to OpenSim's
(docs/engines.md); the trajectories are MuJoCo's, not OpenSim's.

Arguments
---------
=====================  ==========  ================================================================
argument               default     meaning
=====================  ==========  ================================================================
visualize              True        OpenSim's visualizer (headless with one warning without a display)
integrator_accuracy    5e-5        accuracy of the Runge-Kutta-Merson integrator
release                "3.0.11"    "3.0.11": 2019 targets and model; "2.1.5": 2018 targets and model
seed                   None        seed of the target generator (0 is a seed)
observe_new_target     False       ``reset`` returns the observation with the new target (see
                                   Quirks; the Gymnasium ids use True)
integrator             None        full ``osim.engine.IntegratorSettings``
render_mode            None        ``"rgb_array"`` for images, ``"human"`` for the visualizer
=====================  ==========  ================================================================

``reset(random_target=True, obs_as_dict=...)`` draws a new target unless ``random_target`` is
False. Targets: 3.0.11: angle ~ U(0, 2 pi / 3), radius ~ U(0.3, 0.65), target = (r cos, 0.8 - r
sin); 2.1.5: angle ~ U(9 pi / 8, 3 pi / 2), radius ~ U(0.5, 0.65), target = (r cos, r sin).

Quirks
------
* Reset observation (kept): ``reset`` computes the observation *before* drawing the new target,
  so its first two entries are the previous target ((0, 0) on the first reset).
  ``observe_new_target=True`` returns the observation with the new target instead (a reset's
  observation then depends only on the seed, as Gymnasium requires).
* After reset (fixed): everything read after ``reset`` returns (``get_state_desc()``, the
  model's state, ``render()``) shows the new target. The original's ``get_state_desc()`` kept
  serving the pre-target description until the first step, and this rebuild's engine read the
  moved ball at its old place from a copied OpenSim state until the first step. Only the returned
  observation keeps the original's pre-target values, so parity with the original's trajectories
  (the goldens) stays bit for bit.
* The 3.0.11 default ``obs_as_dict=True`` returns the whole state-description dict (the original
  had no dict observation of its own for the arm); kept.
* Seeds (fixed): the targets come from the environment's own ``random.Random`` (the original used
  the global ``random`` module); ``seed(s)`` gives the draws ``random.seed(s)`` gave.
* The original printed every new target; not done here (``env.target_x``/``target_y`` hold it).
* ``Arm2DVecEnv``: the original's NaN penalty (``reward -10``) was a no-op expression; here too
  the reward is left as it is and ``done`` becomes True.
* Docs of the original said a new target appears every 3 s; it appears only at reset.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from osim.engine import Engine, StateDescription
from osim.engine.scene import add_target, place_target, restart_integrator
from osim.env.arm2016 import ArmEnv, angular_dist, sanitify
from osim.env.base import OsimEnv
from osim.env.task import ObservationLayout, Reward, Task, part, task_attribute
from osim.models import model_path

__all__ = ["ARM_MODELS", "Arm2DEnv", "Arm2DTask", "Arm2DVecEnv", "ArmEnv", "angular_dist", "sanitify"]

ARM_MODELS: dict[str, str] = {"3.0.11": "arm2dof6musc", "2.1.5": "arm2dof6musc_2018"}
WRIST_MARKER = "r_radius_styloid"


class Arm2DTask(Task):
    """Reach a target with the wrist of the 2-DoF, 6-muscle arm (2018-2019).

    The target is (``target_x``, ``target_y``); the environment draws it and moves the target ball
    (:class:`Arm2DEnv`, through :mod:`osim.engine.scene` on either engine).
    """

    time_limit = 200
    reward_weights = {"reach": 1.0, "distance": -1.0}  # noqa: RUF012

    def __init__(self, release: str = "3.0.11") -> None:
        if release not in ARM_MODELS:
            raise ValueError(f"release must be one of {sorted(ARM_MODELS)}, got {release!r}")
        self.release = release
        self.model = model_path(ARM_MODELS[release])
        self.target_x = 0.0
        self.target_y = 0.0

    def engine_loaded(self, engine: Engine) -> None:
        """The layout of this model (its shoulder and elbow coordinates, its muscles)."""
        structure = engine.structure
        parts = [part("target", ["target.x", "target.y"], "target x, y (m)")]
        for joint, what in (("r_shoulder", "shoulder"), ("r_elbow", "elbow")):
            coordinates = structure.joint(joint).coordinates
            parts.append(part(joint, [f"{c}.{q}" for c in coordinates for q in ("angle", "speed", "acceleration")],
                              f"{what} ``{', '.join(coordinates)}``: angle (rad), angular speed, angular acceleration"))
        muscles = sorted(engine.muscle_names)
        parts.append(part("activations", [f"{m}.activation" for m in muscles],
                          "activations of ``" + ", ".join(muscles) + "`` (sorted names)"))
        parts.append(part("wrist", [f"{WRIST_MARKER}.x", f"{WRIST_MARKER}.y"],
                          f"wrist marker ``{WRIST_MARKER}`` x, y (m)"))
        self.layout = ObservationLayout(tuple(parts))


    def observation(self, engine: Engine, description: StateDescription) -> list[float]:
        """Target position, shoulder and elbow kinematics, muscle activations and the wrist."""
        d = description
        res = [self.target_x, self.target_y]
        for joint in ("r_shoulder", "r_elbow"):
            res += d["joint_pos"][joint] + d["joint_vel"][joint] + d["joint_acc"][joint]
        muscles = d["muscles"]
        res += [muscles[name]["activation"] for name in sorted(muscles)]
        res += d["markers"][WRIST_MARKER]["pos"][:2]
        return res

    def reward(self, engine: Engine, description: StateDescription, previous: StateDescription | None) -> Reward:
        """1 minus the squared wrist-to-target distance (1 when it is NaN)."""
        wrist = description["markers"][WRIST_MARKER]["pos"]
        penalty = (wrist[0] - self.target_x) ** 2 + (wrist[1] - self.target_y) ** 2
        if math.isnan(penalty):
            penalty = 1.0
        return Reward(1.0 - penalty, {"reach": 1.0, "distance": -penalty})


class Arm2DEnv(OsimEnv):
    """Reach a target with the wrist (2018-2019; 3.0.11 behaviour unless ``release="2.1.5"``)."""

    task: Arm2DTask
    task_class = Arm2DTask
    time_limit = Arm2DTask.time_limit

    def __init__(
        self,
        visualize: bool = True,
        integrator_accuracy: float = 5e-5,
        *,
        release: str = "3.0.11",
        seed: int | None = None,
        observe_new_target: bool = False,
        **kwargs: Any,
    ) -> None:
        task = Arm2DTask(release)
        self.release = release
        self.observe_new_target = bool(observe_new_target)
        self.obs_as_dict_default = release == "3.0.11"
        super().__init__(visualize=visualize, integrator_accuracy=integrator_accuracy, task=task, **kwargs)
        self.target_joint = add_target(self.engine)
        self.noutput = self.engine.n_muscles
        self.seed(seed)

    target_x = task_attribute("target_x", "The target's x (m).")
    target_y = task_attribute("target_y", "The target's y (m).")

    def generate_new_target(self) -> None:
        """Draw a target (the release's distribution) and move the ball there."""
        rng = self.py_random
        if self.release == "2.1.5":
            theta = rng.uniform(math.pi * 9 / 8, math.pi * 12 / 8)
            radius = rng.uniform(0.5, 0.65)
            self.target_x = math.cos(theta) * radius
            self.target_y = math.sin(theta) * radius
        else:
            theta = rng.uniform(math.pi * 0, math.pi * 2 / 3)
            radius = rng.uniform(0.3, 0.65)
            self.target_x = math.cos(theta) * radius
            self.target_y = -math.sin(theta) * radius + 0.8
        place_target(self.engine, self.target_joint, self.target_x, self.target_y)

    def reset(  # type: ignore[override]  # positional order of the original's reset
        self, random_target: bool = True, obs_as_dict: bool | None = None, project: bool = True, **_: Any
    ) -> Any:
        """Restart and draw a target; return the observation taken before the draw (the original's).

        Deliberately kept: the returned observation is the original's, bitwise (its first two
        entries are the previous target; see Quirks). The model and the state description are at
        the new target as soon as this returns.
        """
        observation = super().reset(project=project, obs_as_dict=obs_as_dict)
        if random_target:
            self.generate_new_target()
        restart_integrator(self.engine)
        if self.observe_new_target:
            return self.observe(project, obs_as_dict)
        return observation


class Arm2DVecEnv(Arm2DEnv):
    """``Arm2DEnv`` with vector observations; NaN actions and observations become 0 (3.0.11)."""

    def reset(  # type: ignore[override]  # positional order of the original's reset
        self, obs_as_dict: bool = False, **kwargs: Any
    ) -> Any:
        """Reset as ``Arm2DEnv``; NaN entries of a vector observation become 0."""
        observation = super().reset(obs_as_dict=obs_as_dict, **kwargs)
        if not obs_as_dict and np.isnan(observation).any():
            observation = np.nan_to_num(observation)
        return observation

    def step(self, action: Any, project: bool = True, obs_as_dict: bool | None = False) -> list:
        """Step as ``Arm2DEnv`` with NaN actions as 0; a NaN observation becomes 0 and ends the episode."""
        action = np.asarray(action, dtype=np.float64)
        if np.isnan(action).any():
            action = np.nan_to_num(action)
        observation, reward, done, info = super().step(action, project=project, obs_as_dict=obs_as_dict)
        if not obs_as_dict and project and np.isnan(observation).any():
            observation = np.nan_to_num(observation)
            done = True
        return [observation, reward, done, info]


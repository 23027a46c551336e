"""The golden cases: which original environment, how it was built, seeded and driven.

Pure data (standard library only): imported by ``record.py`` inside the original's scratch venv, and
by the loader and the data tests in the project's venv.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Example initial pose of the original reflex-controller script (osimrl_spec.md §6).
REFLEX_EXAMPLE_INIT_POSE: tuple[float, ...] = (
    1.7, 0.5, 0.9023, 0.2012, 0.0, -0.6952, -0.3231, 0.1709, 0.0, -0.0528, -0.8042, -0.1745,
)


@dataclass(frozen=True)
class Case:
    """One recorded trajectory.

    kind: "env" (an environment episode), "osimmodel" (OsimModel driven directly) or "vtgt"
    (the L2M2019 target-velocity field with a point agent, no OpenSim).
    Actions: ``numpy.random.default_rng(action_seed).uniform(action_low, action_high,
    size=(max_steps, n_actions))``, drawn before the episode; row k is given at step k.
    """

    name: str
    release: str
    kind: str
    description: str
    env_class: str = ""
    constructor_kwargs: dict[str, Any] = field(default_factory=dict)
    change_model_kwargs: dict[str, Any] | None = None  # env.change_model(**kw) after construction
    reset_kwargs: dict[str, Any] = field(default_factory=dict)
    step_kwargs: dict[str, Any] = field(default_factory=dict)
    python_random_seed: int | None = None  # random.seed(s) before construction (Arm2DEnv targets)
    max_steps: int = 100
    action_seed: int = 0
    action_low: float = 0.0
    action_high: float = 1.0
    model_file: str = ""  # osimmodel: file in the release's osim/models
    integrator_accuracy: float = 5e-5
    # env: when set, actions come from the original's reflex controller (OsimReflexCtrl, this
    # mode) with the parameters of <reference>/reflex/<controller_params>, fed the observation
    # dict; they are stored like the random ones.
    reflex_mode: str = ""
    reflex_params: str = ""
    # env: store the state description's entries (except those copied from the observations) as
    # one 16-byte digest per step instead of their values, which keeps 1000-step cases small;
    # the parity tests compare them bitwise through the digest.
    state_digests: bool = False
    # env: keep stepping after done (the original allows it) up to max_steps, so that a case whose
    # model falls early still covers what happens later in the episode (target changes).
    continue_after_done: bool = False
    # vtgt: VTgtField(version, seed) with a point agent moving along the field; the local field
    # is stored every field_stride steps and at every step where a target is reached.
    vtgt_version: int = 0
    vtgt_seed: int = 0
    field_stride: int = 50


_NO_VIS = {"visualize": False}
_L2M_VEC = {"obs_as_dict": False}

CASES: tuple[Case, ...] = (
    Case(
        "l2run", "2.1.5", "env", "L2RunEnv (9-dof, 18 muscles), excitations U(0, 0.4)",
        env_class="L2RunEnv", constructor_kwargs=_NO_VIS, max_steps=150, action_seed=101,
        action_high=0.4,
    ),
    Case(
        "prosthetics_d0", "2.1.5", "env",
        "ProstheticsEnv 3D prosthetic, difficulty 0 (round 1 reward), seed=11 at construction",
        env_class="ProstheticsEnv", constructor_kwargs={**_NO_VIS, "difficulty": 0, "seed": 11},
        max_steps=150, action_seed=111, action_high=0.4,
    ),
    Case(
        "prosthetics_d1", "2.1.5", "env",
        "ProstheticsEnv 3D prosthetic, difficulty 1 (target velocities), seed=12 at construction,"
        " reset() unseeded; extra_targets = env.targets after reset",
        env_class="ProstheticsEnv", constructor_kwargs={**_NO_VIS, "difficulty": 1, "seed": 12},
        max_steps=150, action_seed=112, action_high=1.0,
    ),
    Case(
        "prosthetics_2d_pros_d1", "2.1.5", "env",
        "ProstheticsEnv, change_model('2D', prosthetic=True, difficulty=1, seed=13), reset(seed=23)",
        env_class="ProstheticsEnv", constructor_kwargs={**_NO_VIS, "difficulty": 0, "seed": 3},
        change_model_kwargs={"model": "2D", "prosthetic": True, "difficulty": 1, "seed": 13},
        reset_kwargs={"seed": 23}, max_steps=150, action_seed=113, action_high=0.4,
    ),
    Case(
        "prosthetics_3d_nopros_d0", "2.1.5", "env",
        "ProstheticsEnv, change_model('3D', prosthetic=False, difficulty=0, seed=14)",
        env_class="ProstheticsEnv", constructor_kwargs={**_NO_VIS, "difficulty": 0, "seed": 4},
        change_model_kwargs={"model": "3D", "prosthetic": False, "difficulty": 0, "seed": 14},
        max_steps=150, action_seed=114, action_high=0.4,
    ),
    Case(
        "prosthetics_2d_nopros_d1", "2.1.5", "env",
        "ProstheticsEnv, change_model('2D', prosthetic=False, difficulty=1, seed=15)",
        env_class="ProstheticsEnv", constructor_kwargs={**_NO_VIS, "difficulty": 0, "seed": 5},
        change_model_kwargs={"model": "2D", "prosthetic": False, "difficulty": 1, "seed": 15},
        max_steps=150, action_seed=115, action_high=0.4,
    ),
    Case(
        "prosthetics_change_d2", "2.1.5", "env",
        "ProstheticsEnv built at difficulty 0, then change_model('3D', True, difficulty=2, seed=16) as"
        " the original's sim_Prosthetics_randomrun.py: 300-step limit kept, target velocities, Round 2 reward",
        env_class="ProstheticsEnv", constructor_kwargs={**_NO_VIS, "difficulty": 0, "seed": 6},
        change_model_kwargs={"model": "3D", "prosthetic": True, "difficulty": 2, "seed": 16},
        max_steps=120, action_seed=116, action_high=0.4,
    ),
    Case(
        "prosthetics_d1_long", "2.1.5", "env",
        "ProstheticsEnv 3D prosthetic, difficulty 1, seed=3: the whole 1000-step episode, stepped on after"
        " the fall, through the target-velocity changes at steps 302, 591 and 916",
        env_class="ProstheticsEnv", constructor_kwargs={**_NO_VIS, "difficulty": 1, "seed": 3},
        max_steps=1000, action_seed=117, action_high=0.4, state_digests=True, continue_after_done=True,
    ),
    Case(
        "arm2d_215", "2.1.5", "env",
        "Arm2DEnv (2018 target distribution), random.seed(21) before construction; full 200-step episode",
        env_class="Arm2DEnv", constructor_kwargs=_NO_VIS, python_random_seed=21, max_steps=210,
        action_seed=121,
    ),
    Case(
        "arm2d_3011", "3.0.11", "env",
        "Arm2DEnv (2019 target distribution), random.seed(22) before construction, vector observations;"
        " full 200-step episode",
        env_class="Arm2DEnv", constructor_kwargs=_NO_VIS, python_random_seed=22, max_steps=210,
        reset_kwargs={"obs_as_dict": False}, step_kwargs={"obs_as_dict": False}, action_seed=122,
    ),
    Case(
        "l2m_d0", "3.0.11", "env", "L2M2019Env 3D, difficulty 0 (constant target field)",
        env_class="L2M2019Env", constructor_kwargs={**_NO_VIS, "difficulty": 0, "seed": 30},
        reset_kwargs=_L2M_VEC, step_kwargs=_L2M_VEC, max_steps=120, action_seed=130, action_high=0.4,
    ),
    Case(
        "l2m_d1", "3.0.11", "env",
        "L2M2019Env 3D, difficulty 1, seed=31 at construction only (reset unseeded)",
        env_class="L2M2019Env", constructor_kwargs={**_NO_VIS, "difficulty": 1, "seed": 31},
        reset_kwargs=_L2M_VEC, step_kwargs=_L2M_VEC, max_steps=120, action_seed=131, action_high=0.4,
    ),
    Case(
        "l2m_d2", "3.0.11", "env", "L2M2019Env 3D, difficulty 2, seed=32 at construction and reset",
        env_class="L2M2019Env", constructor_kwargs={**_NO_VIS, "difficulty": 2, "seed": 32},
        reset_kwargs={**_L2M_VEC, "seed": 32}, step_kwargs=_L2M_VEC, max_steps=120, action_seed=132,
        action_high=1.0,
    ),
    Case(
        "l2m_d3", "3.0.11", "env", "L2M2019Env 3D, difficulty 3, seed=33 at construction and reset",
        env_class="L2M2019Env", constructor_kwargs={**_NO_VIS, "difficulty": 3, "seed": 33},
        reset_kwargs={**_L2M_VEC, "seed": 33}, step_kwargs=_L2M_VEC, max_steps=120, action_seed=133,
        action_high=0.4,
    ),
    Case(
        "l2m_init_pose_d2", "3.0.11", "env",
        "L2M2019Env 3D, difficulty 2, seed=35, reset(init_pose=the reflex example's INIT_POSE)",
        env_class="L2M2019Env", constructor_kwargs={**_NO_VIS, "difficulty": 2, "seed": 35},
        reset_kwargs={**_L2M_VEC, "seed": 35, "init_pose": list(REFLEX_EXAMPLE_INIT_POSE)},
        step_kwargs=_L2M_VEC, max_steps=120, action_seed=135, action_high=0.4,
    ),
    Case(
        "l2m_2d_reflex_d3", "3.0.11", "env",
        "L2M2019Env, change_model('2D', difficulty=3), seed=36, the reflex example's INIT_POSE,"
        " actions from the original reflex controller with params_2D.txt (walks: footsteps,"
        " footstep rewards); also the '2D model at difficulty 3' case",
        env_class="L2M2019Env", constructor_kwargs={**_NO_VIS, "difficulty": 3, "seed": 36},
        change_model_kwargs={"model": "2D", "difficulty": 3, "seed": 36},
        reset_kwargs={**_L2M_VEC, "seed": 36, "init_pose": list(REFLEX_EXAMPLE_INIT_POSE)},
        step_kwargs=_L2M_VEC, max_steps=160, reflex_mode="2D", reflex_params="params_2D.txt",
    ),
    Case(
        "l2m_2d_reflex_d1", "3.0.11", "env",
        "as l2m_2d_reflex_d3 with difficulty 1 (Round-1 reward) and seed=37",
        env_class="L2M2019Env", constructor_kwargs={**_NO_VIS, "difficulty": 1, "seed": 37},
        change_model_kwargs={"model": "2D", "difficulty": 1, "seed": 37},
        reset_kwargs={**_L2M_VEC, "seed": 37, "init_pose": list(REFLEX_EXAMPLE_INIT_POSE)},
        step_kwargs=_L2M_VEC, max_steps=120, reflex_mode="2D", reflex_params="params_2D.txt",
    ),
    Case(
        "l2m_2d_reflex_d3_long", "3.0.11", "env",
        "as l2m_2d_reflex_d3 with seed=38, for 1000 steps: the whole 10 s reflex walk (difficulty 3:"
        " its time limit is 2500 steps, so the run does not meet the Round-1 time-limit crash #215)",
        env_class="L2M2019Env", constructor_kwargs={**_NO_VIS, "difficulty": 3, "seed": 38},
        change_model_kwargs={"model": "2D", "difficulty": 3, "seed": 38},
        reset_kwargs={**_L2M_VEC, "seed": 38, "init_pose": list(REFLEX_EXAMPLE_INIT_POSE)},
        step_kwargs=_L2M_VEC, max_steps=1000, reflex_mode="2D", reflex_params="params_2D.txt",
        state_digests=True,
    ),
    Case(
        "vtgt_v3", "3.0.11", "vtgt",
        "VTgtField version 3 (Round 2: 2 targets), seed=41, point agent following the field for 25 s",
        vtgt_version=3, vtgt_seed=41, max_steps=2500,
    ),
    Case(
        "vtgt_v2", "3.0.11", "vtgt",
        "VTgtField version 2 (Round 1: endless targets within +-90 deg), seed=42, 25 s",
        vtgt_version=2, vtgt_seed=42, max_steps=2500,
    ),
    Case(
        "osimmodel_gait14dof22musc", "3.0.11", "osimmodel",
        "OsimModel on gait14dof22musc_20170320.osim: reset, then 10 x (actuate U(0,1), integrate)",
        model_file="gait14dof22musc_20170320.osim", max_steps=10, action_seed=140,
    ),
)

CASES_BY_NAME: dict[str, Case] = {case.name: case for case in CASES}

"""Gymnasium ids of every environment: ``gymnasium.make("osim/L2M2019-v0")`` after ``import osim``.

Each id builds :class:`osim.env.gym_adapter.OsimGymEnv` around the original-API class with the
keyword arguments listed here; further keyword arguments of ``gymnasium.make`` reach the class too
(``gymnasium.make("osim/L2M2019-v0", difficulty=1, integrator_accuracy=1e-3)``), the engine
among them (``gymnasium.make("osim/L2M2019-v0", engine="mujoco")``; default ``"opensim"``). The environments end
their episodes themselves (truncation at the original time limits); each id's ``max_episode_steps``
(:data:`MAX_EPISODE_STEPS`) is that same limit, for the trainers that read it from the spec, so
the TimeLimit wrapper ``gymnasium.make`` adds truncates at the same step. A ``difficulty`` given
to ``gymnasium.make`` does not change the id's ``max_episode_steps``: use the id of that difficulty
(``osim/L2M2019-d3-v0``: 2500 steps) or pass ``max_episode_steps`` too.
``gymnasium.make_vec(id, num_envs)`` steps the envs in worker processes (:mod:`osim.vector`);
``vectorization_mode="sync"`` or ``"async"`` gives Gymnasium's own vector envs.
"""
from __future__ import annotations

from typing import Any

import gymnasium

ENTRY_POINT = "osim.env.gym_adapter:OsimGymEnv"
#: ``gymnasium.make_vec(id, num_envs)`` without a ``vectorization_mode``: worker processes (osim.vector)
VECTOR_ENTRY_POINT = "osim.vector:make_vector_env"

#: id -> (original-API class name, constructor keyword arguments)
ENVIRONMENT_IDS: dict[str, tuple[str, dict[str, Any]]] = {
    # NeurIPS 2019 "Learn to Move - Walk Around" (difficulty 3 = Round 2, 2 = Round 1).
    "osim/L2M2019-v0": ("L2M2019Env", {}),
    **{f"osim/L2M2019-d{d}-v0": ("L2M2019Env", {"difficulty": d}) for d in range(4)},
    # NIPS 2018 "AI for Prosthetics" (difficulty 0 = Round 1, 1 = Round 2).
    "osim/Prosthetics-v0": ("ProstheticsEnv", {}),
    **{f"osim/Prosthetics-d{d}-v0": ("ProstheticsEnv", {"difficulty": d}) for d in range(2)},
    # NIPS 2017 "Learning to Run": the 2018 port and the 2017 original with obstacles.
    "osim/L2Run-v0": ("L2RunEnv", {}),
    "osim/Run-v0": ("RunEnv", {}),
    # Reaching with a 2-DoF, 6-muscle arm (2019 and 2016 versions).
    "osim/Arm2D-v0": ("Arm2DEnv", {"observe_new_target": True}),  # reset obs must depend on the seed only
    "osim/Arm-v0": ("ArmEnv", {}),
    # The 2016-17 pilot tasks.
    "osim/Gait-v0": ("GaitEnv", {}),
    "osim/Stand-v0": ("StandEnv", {}),
    "osim/Hop-v0": ("HopEnv", {}),
    "osim/Crouch-v0": ("CrouchEnv", {}),
}

#: id -> steps per episode: the environment's own time limit (``env.spec.timestep_limit``) with the
#: id's arguments (L2M2019Env: 2500 at difficulty 3, its default, else 1000; ProstheticsEnv: 300 at
#: difficulty 0, its default, 1000 at 1)
MAX_EPISODE_STEPS: dict[str, int] = {
    "osim/L2M2019-v0": 2500,
    **{f"osim/L2M2019-d{d}-v0": 2500 if d == 3 else 1000 for d in range(4)},
    "osim/Prosthetics-v0": 300,
    "osim/Prosthetics-d0-v0": 300,
    "osim/Prosthetics-d1-v0": 1000,
    "osim/L2Run-v0": 1000,
    "osim/Run-v0": 1000,
    "osim/Arm2D-v0": 200,
    "osim/Arm-v0": 200,
    **{f"osim/{task}-v0": 500 for task in ("Gait", "Stand", "Hop", "Crouch")},
}


def register_environments() -> None:
    """Register every id (idempotent)."""
    for env_id, (class_name, kwargs) in ENVIRONMENT_IDS.items():
        if env_id in gymnasium.registry:
            continue
        gymnasium.register(
            id=env_id,
            entry_point=ENTRY_POINT,
            vector_entry_point=VECTOR_ENTRY_POINT,
            kwargs={"env_class": class_name, **kwargs},
            max_episode_steps=MAX_EPISODE_STEPS[env_id],
            disable_env_checker=False,
        )

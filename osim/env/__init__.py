"""The environments, importable as in the original: ``from osim.env import L2M2019Env``.

Each is a :class:`Task` run by the generic :class:`Environment` (see docs/architecture.md).
"""
from osim.env.arm import Arm2DEnv, Arm2DVecEnv, ArmEnv
from osim.env.base import OsimEnv, OsimModel, Spec
from osim.env.environment import Environment, StepResult
from osim.env.human import CrouchEnv, GaitEnv, HopEnv, StandEnv
from osim.env.l2m2019 import L2M2019Env
from osim.env.l2run import L2RunEnv
from osim.env.prosthetics import ProstheticsEnv, rect
from osim.env.run import RunEnv
from osim.env.task import ObservationLayout, ObservationPart, Reward, Task

__all__ = [
    "Arm2DEnv", "Arm2DVecEnv", "ArmEnv", "CrouchEnv", "Environment", "GaitEnv", "HopEnv", "L2M2019Env", "L2RunEnv",
    "ObservationLayout", "ObservationPart", "OsimEnv", "OsimModel", "ProstheticsEnv", "Reward", "RunEnv", "Spec",
    "StandEnv", "StepResult", "Task", "rect",
]

"""The original's defining module, ``osim.env.osim``, as scripts written for it import it.

osim-rl 2.1.5 defined ``OsimModel``, ``Spec``, ``OsimEnv``, ``L2RunEnv``, ``rect``,
``ProstheticsEnv`` and ``Arm2DEnv`` here; 3.0.11 defined ``OsimModel``, ``OsimEnv``, ``Spec``,
``L2M2019Env`` and ``rotate_frame``. This module re-exports all of them from where they live now
(nothing is defined here), so ``from osim.env.osim import ProstheticsEnv`` keeps working.
``Arm2DEnv`` is the same class as ``osim.env.Arm2DEnv`` (3.0.11 behaviour by default; pass
``release="2.1.5"`` for the 2018 one).
"""
from osim.env.arm import Arm2DEnv
from osim.env.base import OsimEnv, OsimModel, Spec
from osim.env.l2m2019 import L2M2019Env, rotate_frame
from osim.env.l2run import L2RunEnv
from osim.env.prosthetics import ProstheticsEnv, rect

__all__ = [
    "Arm2DEnv", "L2M2019Env", "L2RunEnv", "OsimEnv", "OsimModel", "ProstheticsEnv", "Spec", "rect",
    "rotate_frame",
]

"""The environments, importable as in the original: ``from osim.env import L2M2019Env``."""
from osim.env.base import OsimEnv, OsimModel, Spec
from osim.env.l2run import L2RunEnv

__all__ = ["L2RunEnv", "OsimEnv", "OsimModel", "Spec"]

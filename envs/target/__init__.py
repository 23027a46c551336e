"""``from envs.target import VTgtField`` as in osim-rl 3.0.11: re-exports :mod:`osim.env.target`."""
from osim.env.target import VTgtConst, VTgtField, VTgtSink

__all__ = ["VTgtConst", "VTgtField", "VTgtSink"]

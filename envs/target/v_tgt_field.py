"""The original module path ``envs.target.v_tgt_field``: re-exports :mod:`osim.env.target.v_tgt_field`."""
from osim.env.target.v_tgt_field import VTgt0, VTgtConst, VTgtField, VTgtSink

__all__ = ["VTgt0", "VTgtConst", "VTgtField", "VTgtSink"]

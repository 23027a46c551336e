"""The 2019 target-velocity field (the original ``envs.target`` package)."""
from .interpolation import BilinearGrid
from .v_tgt_field import FIELD_VERSIONS, FieldVersion, VTgtConst, VTgtField, VTgtSink, generate_grid

__all__ = [
    "FIELD_VERSIONS",
    "BilinearGrid",
    "FieldVersion",
    "VTgtConst",
    "VTgtField",
    "VTgtSink",
    "generate_grid",
]

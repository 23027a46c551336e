"""The target field's per-step kernels compiled with numba (from the ``mujoco`` extra), when installed.

Every L2M2019 step interpolates the target field at the pelvis and at the 121 points of the local
grid. On OpenSim that is nothing beside the integrator; on MuJoCo, a step of about 0.3 ms, its
NumPy form (some twenty calls on small arrays, each mostly dispatch) is a tenth of the step. These
kernels do the same arithmetic point by point in compiled code: the same IEEE operations in the same
order as :class:`~.interpolation.BilinearGrid`'s NumPy path (numba compiles without fast-math, so
nothing is reassociated or fused), hence the same bits; ``tests/test_vtgt_field.py`` checks it on
random poses, inside and outside the map.

:func:`kernels` returns None when numba is not installed; the NumPy path is then used. The compiled
functions are cached on disk by numba (``cache=True``: compiled once per installation, loaded at the
first field a process builds).
"""
from __future__ import annotations

import functools
from typing import Any, NamedTuple


class Kernels(NamedTuple):
    """The compiled functions (see :func:`_compile` for their arguments)."""

    point: Any
    rotated: Any


@functools.cache
def kernels() -> Kernels | None:
    """The compiled kernels, or None without numba (or with ``OSIM_RL_COMPILED=0`` in the environment)."""
    import os

    if os.environ.get("OSIM_RL_COMPILED", "1") == "0":
        return None
    try:
        import numba  # noqa: F401  (the mujoco extra)
    except ImportError:
        return None
    from . import _numba_kernels

    return Kernels(point=_numba_kernels.point_values, rotated=_numba_kernels.rotated_values)

"""Compiled per-step kernels (numba, from the ``mujoco`` extra), used where NumPy's dispatch would
dominate a step.

On OpenSim a step is tens of milliseconds of integration; on MuJoCo it is about a quarter of a
millisecond, and a NumPy expression on a few dozen values costs a microsecond per call whatever the
work: the 2019 target field's interpolation (some twenty calls) or the tracked points' positions and
velocities (ten) were a tenth of the step. Their kernels repeat the NumPy path's IEEE operations in
its order, point by point (numba compiles without fast-math: nothing is reassociated or fused), so
they give the same bits; the tests compare the two paths bit for bit.

:func:`load` returns a kernel module, or None when numba is not installed (or ``OSIM_RL_COMPILED=0``
is set); the NumPy path is then used, the reference. The kernels have explicit signatures: numba
compiles them when their module is first imported (with the environment, not within a step) and
caches the machine code on disk (about 1.3 s the first time, 0.5 s from the cache).
"""
from __future__ import annotations

import functools
import importlib
import os
import warnings
from types import ModuleType


@functools.cache
def load(module: str) -> ModuleType | None:
    """The kernel module ``module`` (e.g. ``"osim.env.target._numba_kernels"``) imported, or None."""
    if os.environ.get("OSIM_RL_COMPILED", "1") == "0":
        return None
    try:
        import numba  # noqa: F401  (the mujoco extra)
    except ImportError:
        return None
    try:
        return importlib.import_module(module)
    except Exception as error:  # noqa: BLE001 - e.g. a numba release that no longer compiles them: slower, not wrong
        warnings.warn(f"numba could not compile {module} ({type(error).__name__}: {error}); the NumPy path "
                      "is used (the same numbers, slower)", RuntimeWarning, stacklevel=2)
        return None

"""The OpenBLAS kernels the golden trajectories were recorded with (golden/README.md).

OpenBLAS picks its kernels by CPU when it loads; Haswell kernels (also OpenBLAS's choice on AMD Zen)
and SkylakeX kernels (AVX-512 Intel) round differently, which moves accelerations by ~1e-6 within a
few steps and sends long walks elsewhere. Recording and comparing therefore pin OpenSim's bundled
OpenBLAS, and NumPy's, to the goldens' kernels wherever the CPU can run them; both must be pinned
before they load, or a child process (which inherits the setting) and its parent compute NumPy
results that differ in the last bits. Standard library only, and outside the ``golden`` package
(whose loader imports NumPy): conftest.py and the recorder import it first.
"""
from __future__ import annotations

import os
from pathlib import Path

#: The OpenBLAS kernel family of every recording in data/.
GOLDEN_OPENBLAS_CORETYPE = "Haswell"


def pin_openblas_kernels() -> None:
    """Set ``OPENBLAS_CORETYPE`` on an AVX2+FMA machine. Call before anything loads NumPy or
    opensim; child processes inherit it."""
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:  # not Linux: OpenBLAS's own choice
        return
    if "avx2" in flags and "fma" in flags:
        os.environ["OPENBLAS_CORETYPE"] = GOLDEN_OPENBLAS_CORETYPE

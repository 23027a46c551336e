"""The OpenBLAS kernels the golden trajectories were recorded with (README.md, "Cases").

OpenBLAS picks its kernels by CPU when it loads; Haswell kernels (also OpenBLAS's choice on AMD Zen)
and SkylakeX kernels (AVX-512 Intel) round differently, which moves accelerations by ~1e-6 within a
few steps and sends long walks elsewhere. Recording and comparing therefore pin OpenSim's bundled
OpenBLAS to the goldens' kernels wherever the CPU can run them. Standard library only: the recorder
imports this inside the original's scratch venv too.
"""
from __future__ import annotations

import os
from pathlib import Path

#: The OpenBLAS kernel family of every recording in data/.
GOLDEN_OPENBLAS_CORETYPE = "Haswell"


def pin_openblas_kernels() -> None:
    """Set ``OPENBLAS_CORETYPE`` on an AVX2+FMA machine. Call before anything loads opensim;
    child processes inherit it."""
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:  # not Linux: OpenBLAS's own choice
        return
    if "avx2" in flags and "fma" in flags:
        os.environ["OPENBLAS_CORETYPE"] = GOLDEN_OPENBLAS_CORETYPE

"""Shared fixtures: where the reference data lives, and OpenSim quiet by default."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from openblas_kernels import pin_openblas_kernels

# Before anything loads NumPy or opensim (no pytest plugin here does): the goldens' floating point
# depends on OpenBLAS's kernels.
pin_openblas_kernels()

REPO_ROOT = Path(__file__).resolve().parent.parent


def reference_root() -> Path:
    """The reference folder: $OSIM_RL_REFERENCE, else ``<repo>/../shared/reference``."""
    configured = os.environ.get("OSIM_RL_REFERENCE")
    return Path(configured) if configured else REPO_ROOT.parent / "shared" / "reference"


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """The reference data folder. Fails (never skips) when it is missing: CI must have it."""
    root = reference_root()
    if not (root / "models").is_dir():
        pytest.fail(
            f"reference data not found at {root}; set OSIM_RL_REFERENCE to the folder that holds "
            "models/ and reflex/ (the shared reference material)"
        )
    return root


@pytest.fixture(scope="session")
def reference_models(reference_dir: Path) -> Path:
    """Folder of the original .osim files of the last two releases (osim-rl-2.1.5/, osim-rl-3.0.11/)."""
    return reference_dir / "models"

"""TEMPORARY development shim (replaced by the model library, issue #3): serves the reference files.

Environments call :func:`model_path`; until the builder lands this resolves the original file names in
$OSIM_RL_REFERENCE/models. Nothing ships this way.
"""
from __future__ import annotations

import os
from pathlib import Path

_RELEASE_OF = {"arm2dof6musc_2018": ("osim-rl-2.1.5", "arm2dof6musc")}


def model_path(name: str, **options: object) -> Path:
    stem = name.removesuffix(".osim")
    release, stem = _RELEASE_OF.get(stem, ("osim-rl-3.0.11", stem))
    root = Path(os.environ.get("OSIM_RL_REFERENCE", Path(__file__).resolve().parents[3] / "shared" / "reference"))
    return root / "models" / release / f"{stem}.osim"

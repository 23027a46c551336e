"""Validation of excitation vectors before they reach OpenSim."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

#: The ufunc np.clip calls for float arrays, without np.clip's Python layers (the same values).
_clip: Any = getattr(getattr(getattr(np, "_core", None), "umath", None), "clip", np.clip)


def validate_excitations(action: Any, size: int) -> np.ndarray:
    """Return ``action`` as a float64 vector of ``size`` values clipped to [0, 1].

    Raises ``ValueError`` for a wrong length or shape (saying which shape was expected) and for NaN or
    infinite entries (naming their indices). Values outside [0, 1] are clipped, as the original has
    done since 2.1.5.
    """
    try:
        values = np.asarray(action, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"action must be a sequence of {size} numbers in [0, 1]; could not convert it: {error}"
        ) from None
    if values.shape != (size,):
        if values.size == size and values.ndim > 1 and max(values.shape) == size:
            values = values.reshape(size)  # accept (1, n) or (n, 1) batches of one
        else:
            raise ValueError(
                f"action must have shape ({size},), one excitation per muscle; got shape {values.shape}"
            )
    # A sum of finite squares is finite unless it overflows: only then, or with a non-finite entry,
    # are the entries checked one by one (one dot product per call otherwise, the cheapest reduction).
    if not math.isfinite(values.dot(values)) and not (finite := np.isfinite(values)).all():
        bad = np.flatnonzero(~finite)
        described = ", ".join(f"[{i}]={values[i]}" for i in bad[:10])
        more = "" if bad.size <= 10 else f" and {bad.size - 10} more"
        raise ValueError(
            f"action has {bad.size} non-finite entries ({described}{more}); "
            "NaN or infinite excitations are not allowed: values in [0, 1] are required"
        )
    return _clip(values, 0.0, 1.0)


def validate_strength(strength: Any, n_muscles: int) -> np.ndarray:
    """``strength`` as a float array of one finite, non-negative factor per muscle (``set_strength``).

    Raises:
        ValueError: wrong length, or a factor that is negative or not finite.
    """
    values = np.asarray(strength, dtype=float)
    if values.shape != (n_muscles,):
        raise ValueError(f"strength must have shape ({n_muscles},), one factor per muscle; got {values.shape}")
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError("strength factors must be finite and >= 0 (1 = the muscle as built)")
    return values

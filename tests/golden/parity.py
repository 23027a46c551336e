"""Checks shared by the parity tests: a live state description against a recorded row."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

try:  # imported as part of the package (tests) or as a plain module next to loader.py
    from .loader import flatten_state_desc
except ImportError:  # pragma: no cover
    from loader import flatten_state_desc  # type: ignore[no-redef]


def key_tolerances(keys: list[str], default: float, by_top_key: Mapping[str, float]) -> np.ndarray:
    """Per-column tolerance: ``by_top_key[first path element]`` where given, else ``default``."""
    return np.asarray([by_top_key.get(key.split("/", 1)[0], default) for key in keys], dtype=np.float64)


def assert_state_desc_matches(
    desc: dict[str, Any], case: dict[str, Any], step: int | None, default: float,
    by_top_key: Mapping[str, float] | None = None,
) -> None:
    """Every key and value of ``desc`` (a ``get_state_desc()`` dict) against the case's row for
    ``step`` (None: right after reset): the same keys in the same order, each value within its
    tolerance (0.0: bitwise equal)."""
    keys, values = flatten_state_desc(desc)
    where = "after reset" if step is None else f"step {step}"
    assert keys == case["state_keys"], f"{where}: the state description's keys differ"
    expected = case["initial_state_desc"] if step is None else case["state_desc"][step]
    deviation = np.abs(np.asarray(values, dtype=np.float64) - expected)
    excess = deviation - key_tolerances(keys, default, by_top_key or {})
    worst = int(excess.argmax())
    assert excess[worst] <= 0.0, (
        f"{where}: {keys[worst]} = {values[worst]!r}, the original had {expected[worst]!r} "
        f"(deviation {deviation[worst]:.3g})"
    )

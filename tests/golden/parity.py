"""Checks shared by the parity tests: a live state description against a recorded row."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

try:  # imported as part of the package (tests) or as a plain module next to loader.py
    from .loader import flatten_state_desc, state_digest
except ImportError:  # pragma: no cover
    from loader import flatten_state_desc, state_digest  # type: ignore[no-redef]


def key_tolerances(keys: list[str], default: float, by_top_key: Mapping[str, float]) -> np.ndarray:
    """Per-column tolerance: ``by_top_key[first path element]`` where given, else ``default``."""
    return np.asarray([by_top_key.get(key.split("/", 1)[0], default) for key in keys], dtype=np.float64)


def assert_state_desc_matches(
    desc: dict[str, Any], case: dict[str, Any], step: int | None, default: float,
    by_top_key: Mapping[str, float] | None = None,
) -> None:
    """Every key and value of ``desc`` (a ``get_state_desc()`` dict) against the case's row for
    ``step`` (None: right after reset): the same keys in the same order, each value within its
    tolerance (0.0: bitwise equal). In a case recorded with state digests, the entries the digest
    covers must be bitwise equal whatever their tolerance; the others are compared by value."""
    keys, values = flatten_state_desc(desc)
    where = "after reset" if step is None else f"step {step}"
    assert keys == case["state_keys"], f"{where}: the state description's keys differ"
    live = np.asarray(values, dtype=np.float64)
    expected = case["initial_state_desc"] if step is None else case["state_desc"][step]
    compared = np.ones(len(keys), dtype=bool)
    if step is not None and "state_digests" in case:
        columns = case["state_digest_columns"]
        assert np.array_equal(state_digest(live[columns]), case["state_digests"][step]), (
            f"{where}: the state description is not bitwise the original's (digest of {len(columns)} entries)"
        )
        compared[columns] = False
    deviation = np.where(compared, np.abs(live - expected), 0.0)
    excess = deviation - key_tolerances(keys, default, by_top_key or {})
    worst = int(excess.argmax())
    assert excess[worst] <= 0.0, (
        f"{where}: {keys[worst]} = {values[worst]!r}, the original had {expected[worst]!r} "
        f"(deviation {deviation[worst]:.3g})"
    )

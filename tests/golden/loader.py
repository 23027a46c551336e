"""Load the golden trajectories recorded from the original osim-rl (see README.md for the format).

    from golden import load_case            # tests/ is on sys.path under pytest
    case = load_case("l2m_d3")
    case["observations"][k]                 # observation returned by step k (0-based)
    case["state_desc"][k, case["state_keys"].index("forces/foot_r/1")]
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

try:  # imported as part of the package (tests) or as a plain module next to cases.py (record.py)
    from .cases import CASES, CASES_BY_NAME, Case
except ImportError:  # pragma: no cover - record.py imports this folder's modules directly
    from cases import CASES, CASES_BY_NAME, Case  # type: ignore[no-redef]

DATA_DIR = Path(__file__).resolve().parent / "data"
RECORD_COMMAND = "python tests/golden/record.py"

_ENV_ARRAYS = ("actions", "observations", "initial_observation", "rewards", "dones")


def case_names() -> tuple[str, ...]:
    """Names of all golden cases, in recording order."""
    return tuple(case.name for case in CASES)


def case_definition(name: str) -> Case:
    """How the case was built and driven (cases.py)."""
    if name not in CASES_BY_NAME:
        raise KeyError(f"unknown golden case {name!r}; known: {', '.join(case_names())}")
    return CASES_BY_NAME[name]


def case_paths(name: str, data_dir: Path | None = None) -> tuple[Path, Path]:
    """The case's ``.npz`` and ``.json`` files."""
    folder = DATA_DIR if data_dir is None else data_dir
    return folder / f"{name}.npz", folder / f"{name}.json"


def state_digest(values: Any) -> np.ndarray:
    """The 16-byte BLAKE2b digest (as uint8) of state values' float64 bytes: equal digests mean
    bitwise-equal values (a -0.0 differs from 0.0)."""
    data = np.ascontiguousarray(values, dtype="<f8").tobytes()
    return np.frombuffer(hashlib.blake2b(data, digest_size=16).digest(), dtype=np.uint8)


def digest_columns(n_columns: int, copies: np.ndarray) -> np.ndarray:
    """Indices of the state columns a digest covers: all but the copies of observation columns."""
    from_observation = np.zeros(n_columns, dtype=bool)
    from_observation[copies[copies[:, 1] == 0, 0]] = True
    return np.flatnonzero(~from_observation)


def _restore_copies(stored: np.ndarray, n_columns: int, copies: np.ndarray, obs: np.ndarray | None) -> np.ndarray:
    """Undo the recorder's de-duplication: put back columns that were copies of others."""
    full = np.empty((*stored.shape[:-1], n_columns), dtype=np.float64)
    copied = np.zeros(n_columns, dtype=bool)
    copied[copies[:, 0]] = True
    full[..., ~copied] = stored
    for column, kind, source, sign in copies:
        if kind == 0:
            if obs is None:
                raise ValueError("state column copied from an observation, but the case has none")
            full[..., column] = sign * obs[..., source]
        else:
            full[..., column] = sign * full[..., source]
    return full


def load_case(name: str, data_dir: Path | None = None) -> dict[str, Any]:
    """Everything recorded for one case.

    Environment and OsimModel cases: ``actions`` (n, n_actions); ``observations`` (n, n_obs) and
    ``initial_observation`` (n_obs,) (None for OsimModel); ``rewards`` (n,); ``dones`` (n,) bool;
    ``state_desc`` (n, n_keys) and ``initial_state_desc`` (n_keys,); ``state_keys`` (list of key
    paths); for cases recorded with ``state_digests``, ``state_digests`` (n, 16) (``state_digest``
    of row k's ``state_digest_columns``), whose columns are NaN in ``state_desc``; ``extras`` (dict
    of extra arrays, e.g. ``targets``); ``meta`` (the JSON metadata).
    Row k of every per-step array belongs to step k (0-based); "initial" is right after reset.

    Target-field cases (kind "vtgt"): ``poses``, ``flags``, ``vtgt_global``, ``field_steps``,
    ``fields``, ``sinks_after_flag``, ``initial_sink`` and ``meta``.
    """
    definition = case_definition(name)
    npz_path, json_path = case_paths(name, data_dir)
    if not npz_path.is_file() or not json_path.is_file():
        raise FileNotFoundError(
            f"golden case {name!r} is missing ({npz_path.name}/{json_path.name} in {npz_path.parent}); "
            f"re-record it with `{RECORD_COMMAND} {name}`"
        )
    meta = json.loads(json_path.read_text())
    with np.load(npz_path, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    if definition.kind == "vtgt":
        return {**arrays, "meta": meta}

    keys = [str(key) for key in arrays["state_keys"]]
    copies = arrays["state_copies"]
    obs = arrays.get("observations")
    obs0 = arrays.get("initial_observation")
    result: dict[str, Any] = {name_: arrays.get(name_) for name_ in _ENV_ARRAYS}
    digests = arrays.get("state_digests")
    # A digest case stores no state values: its non-copied columns are NaN.
    stored = arrays["state_desc"] if digests is None else np.full((len(digests), len(keys) - len(copies)), np.nan)
    result["state_desc"] = _restore_copies(stored, len(keys), copies, obs)
    if digests is not None:
        result["state_digests"] = digests
        result["state_digest_columns"] = digest_columns(len(keys), copies)
    result["initial_state_desc"] = _restore_copies(arrays["initial_state_desc"], len(keys), copies, obs0)
    result["state_keys"] = keys
    result["extras"] = {key[len("extra_"):]: value for key, value in arrays.items() if key.startswith("extra_")}
    result["meta"] = meta
    return result


def episode_total(rewards: Any) -> float:
    """An episode's total reward as a grader adds it up: step by step, from 0.0."""
    total = 0.0
    for reward in rewards:
        total += float(reward)
    return total


def state_column(case: dict[str, Any], key: str) -> np.ndarray:
    """The (n,) series of one state-description entry, e.g. ``"joint_pos/ground_pelvis/3"``."""
    try:
        index = case["state_keys"].index(key)
    except ValueError:
        raise KeyError(f"{key!r} is not a state-description key of this case") from None
    return case["state_desc"][:, index]


def flatten_state_desc(desc: dict[str, Any]) -> tuple[list[str], list[float]]:
    """Flatten a state description dict the way the recorder did: key paths in dict order
    ("forces/foot_r/5", "muscles/soleus_r/fiber_force", "v_tgt_field/1/3/4") and float values."""
    keys: list[str] = []
    values: list[float] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for name, item in value.items():
                walk(f"{prefix}/{name}" if prefix else str(name), item)
        elif isinstance(value, (list, tuple)) or (isinstance(value, np.ndarray) and value.ndim > 0):
            for index, item in enumerate(value):
                walk(f"{prefix}/{index}", item)
        else:
            keys.append(prefix)
            values.append(float(value))

    walk("", desc)
    return keys, values

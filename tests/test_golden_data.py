"""The golden trajectories of the original osim-rl are all present and well-formed.

Missing or truncated data must fail here (not only in the parity tests that use it). Expected
sizes come from the behavioural spec of the original (osimrl_spec.md §3.4-§3.7), not from the data.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from golden import case_definition, case_names, load_case, state_column
from golden.loader import DATA_DIR, episode_total

README = Path(__file__).resolve().parent / "golden" / "README.md"

# Observation-vector sizes per environment (spec §3.4-§3.7).
L2RUN_OBS = 43
PROSTHETICS_OBS = {True: 160, False: 169}
L2M_OBS = 339
ARM_OBS = 16
ARM_TIME_LIMIT = 200
MIN_STEPS = 100


def _readme_case_names() -> list[str]:
    """Names in the first column of the README's "Cases" table."""
    section = README.read_text().split("\n## Cases\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([a-z0-9_]+)` \|", section, flags=re.MULTILINE)


def test_readme_lists_exactly_the_recorded_cases() -> None:
    assert sorted(_readme_case_names()) == sorted(case_names())


def test_data_folder_has_no_strays_and_stays_small() -> None:
    files = sorted(p.name for p in DATA_DIR.iterdir())
    expected = sorted(f"{name}.{ext}" for name in case_names() for ext in ("npz", "json"))
    assert files == expected
    total = sum(p.stat().st_size for p in DATA_DIR.iterdir())
    assert total < 12 * 2**20, f"golden data grew to {total / 2**20:.1f} MiB"


def _expected_obs_size(name: str) -> int:
    case = case_definition(name)
    if case.env_class == "L2RunEnv":
        return L2RUN_OBS
    if case.env_class == "ProstheticsEnv":
        prosthetic = (case.change_model_kwargs or {}).get("prosthetic", True)
        return PROSTHETICS_OBS[prosthetic]
    if case.env_class == "L2M2019Env":
        return L2M_OBS
    if case.env_class == "Arm2DEnv":
        return ARM_OBS
    raise AssertionError(f"no expected observation size for {case.env_class}")


def _check_state(data: dict, n_steps: int, env_class: str) -> None:
    keys = data["state_keys"]
    assert len(keys) == len(set(keys)), "state keys must be unique"
    assert data["state_desc"].shape == (n_steps, len(keys))
    assert data["initial_state_desc"].shape == (len(keys),)
    assert np.isfinite(data["initial_state_desc"]).all()
    restored = np.ones(len(keys), dtype=bool)
    if "state_digests" in data:  # long cases: the entries not copied from observations are digests
        assert data["state_digests"].shape == (n_steps, 16) and data["state_digests"].dtype == np.uint8
        assert len(np.unique(data["state_digests"], axis=0)) == n_steps, "every step's state differs"
        restored[data["state_digest_columns"]] = False
        assert np.isnan(data["state_desc"][:, ~restored]).all()
    assert np.isfinite(data["state_desc"][:, restored]).all()
    expected = ["misc/mass_center_pos/2"]
    if env_class == "Arm2DEnv":  # spec §3.7: joints r_shoulder, r_elbow; marker r_radius_styloid
        expected += ["joint_pos/r_elbow/0", "markers/r_radius_styloid/pos/1"]
    else:
        expected += ["joint_pos/ground_pelvis/0", "body_pos/pelvis/1", "forces/foot_l/1"]
    for key in expected:
        assert key in keys
    assert any(re.fullmatch(r"muscles/[^/]+/fiber_force", key) for key in keys)


@pytest.mark.parametrize("name", case_names())
def test_case_is_well_formed(name: str) -> None:
    case = case_definition(name)
    data = load_case(name)
    meta = data["meta"]
    assert meta["case"] == name and meta["release"] == case.release and meta["kind"] == case.kind
    assert meta["versions"]["opensim"].startswith("4.6")

    if case.kind == "vtgt":
        _check_vtgt(data, case.max_steps, case.vtgt_version)
        return

    n = meta["n_steps"]
    actions = data["actions"]
    assert actions.ndim == 2 and actions.shape[0] == n and np.isfinite(actions).all()
    _check_state(data, n, case.env_class)
    if case.kind == "osimmodel":
        assert n == case.max_steps
        assert actions.shape[1] == 22  # gait14dof22musc: 22 muscles
        assert data["observations"] is None
        return

    obs_size = _expected_obs_size(name)
    assert data["observations"].shape == (n, obs_size)
    assert data["initial_observation"].shape == (obs_size,)
    assert np.isfinite(data["observations"]).all() and np.isfinite(data["initial_observation"]).all()
    assert data["rewards"].shape == (n,) and np.isfinite(data["rewards"]).all()
    if "total_reward" in meta:  # recorded since the long cases: the original's episode total
        assert meta["total_reward"] == episode_total(data["rewards"])
    dones = data["dones"]
    assert dones.shape == (n,) and dones.dtype == bool
    if case.continue_after_done:
        assert n == case.max_steps, "a case that continues after done runs all its steps"
        first_done = int(dones.argmax()) if dones.any() else n
        assert dones[first_done:].all(), "once done, done stays set"
    else:
        assert not dones[:-1].any(), "recording stops at the first done"
    assert n <= case.max_steps
    if not dones[-1]:
        assert n == case.max_steps
    else:
        assert meta["ended_by_done"]
    if case.env_class == "Arm2DEnv":
        assert n == ARM_TIME_LIMIT and dones[-1], "Arm2DEnv: one full episode up to its time limit"
    elif not dones[-1]:
        assert n >= MIN_STEPS

    if case.reflex_mode:
        assert ((actions >= 0.0) & (actions <= 1.0)).all()
    else:
        drawn = np.random.default_rng(case.action_seed).uniform(
            case.action_low, case.action_high, size=(case.max_steps, actions.shape[1])
        )
        np.testing.assert_array_equal(actions, drawn[:n])

    if case.env_class == "L2M2019Env":
        # Vector layout (spec §3.6): v_tgt_field flattened, then the pelvis height.
        vtgt_keys = [k for k in data["state_keys"] if k.startswith("v_tgt_field/")]
        assert len(vtgt_keys) == 2 * 11 * 11
        np.testing.assert_array_equal(data["observations"][:, 242], state_column(data, "body_pos/pelvis/1"))
    if case.env_class == "ProstheticsEnv":
        difficulty = (case.change_model_kwargs or case.constructor_kwargs)["difficulty"]
        assert ("target_vel/0" in data["state_keys"]) == (difficulty > 0)
        if difficulty > 0:
            targets = data["extras"]["targets"]
            # time_limit + 1 rows: 1000 steps at difficulty 1; a difficulty 2 set by change_model
            # keeps the limit in place (300 after difficulty 0).
            assert targets.shape == (data["meta"]["time_limit"] + 1, 3)


def _check_vtgt(data: dict, n_steps: int, version: int) -> None:
    assert data["poses"].shape == (n_steps, 3)
    assert data["flags"].shape == (n_steps,)
    assert data["vtgt_global"].shape == (n_steps, 2)
    steps = data["field_steps"]
    assert data["fields"].shape == (len(steps), 2, 11, 11)
    assert (np.diff(steps) > 0).all() and steps[0] == 0 and steps[-1] < n_steps
    assert set(np.flatnonzero(data["flags"])) <= set(steps.tolist())
    for key in ("poses", "vtgt_global", "fields", "initial_sink"):
        assert np.isfinite(data[key]).all()
    reached = int(data["flags"].sum())
    assert reached >= 1, "the point agent should reach at least one target"
    if version == 3:
        assert reached <= 2  # Round 2: two targets at most (spec §3.6.1)
    assert data["sinks_after_flag"].shape == (reached, 2)


def test_meta_files_are_json_objects() -> None:
    for name in case_names():
        meta = json.loads((DATA_DIR / f"{name}.json").read_text())
        assert isinstance(meta, dict) and meta["case"] == name

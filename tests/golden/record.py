"""Record golden trajectories from the ORIGINAL osim-rl releases (2.1.5, 3.0.11) into ``data/``.

Re-record everything (from the repository root, with any Python >= 3.11)::

    python tests/golden/record.py                 # all cases
    python tests/golden/record.py l2m_d3 arm2d_215 # some cases
    python tests/golden/record.py --determinism   # also: replay in-process and in a second process

The outer run prepares each release with ``osim/bench/original.py`` (download + patch + scratch
venv, cached) and re-runs this file inside that venv with ``--inside``, where ``osim`` is the
original package. The case table is ``cases.py``; the file format is described in README.md and
read by ``loader.py``.
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import math
import os
import platform
import random
import sys
import tempfile
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from openblas_kernels import pin_openblas_kernels

pin_openblas_kernels()  # before NumPy and the original (so opensim) load; the inner run inherits it

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
DATA_DIR = HERE / "data"

sys.path.insert(0, str(HERE))
from cases import CASES, CASES_BY_NAME, Case  # noqa: E402 - after the sys.path insert
from loader import flatten_state_desc  # noqa: E402

# ---------------------------------------------------------------------------------------------
# Inside the original's scratch venv
# ---------------------------------------------------------------------------------------------

class _Trajectory:
    """Accumulates one episode and writes it as ``<case>.npz`` + ``<case>.json``."""

    def __init__(self, case: Case) -> None:
        self.case = case
        self.state_keys: list[str] | None = None
        self.state_rows: list[list[float]] = []
        self.observations: list[np.ndarray] = []
        self.rewards: list[float] = []
        self.dones: list[bool] = []
        self.extras: dict[str, np.ndarray] = {}
        self.meta: dict[str, Any] = {}

    def add_state(self, desc: dict[str, Any]) -> None:
        keys, values = flatten_state_desc(desc)
        if self.state_keys is None:
            self.state_keys = keys
        elif keys != self.state_keys:
            raise RuntimeError(f"{self.case.name}: the state description's keys changed during the episode")
        self.state_rows.append(values)

    def arrays(self, actions: np.ndarray) -> dict[str, np.ndarray]:
        """The arrays as the loader returns them (full state description)."""
        out: dict[str, np.ndarray] = {
            "actions": np.asarray(actions, dtype=np.float64),
            "initial_state_desc": np.asarray(self.state_rows[0], dtype=np.float64),
            "state_desc": np.asarray(self.state_rows[1:], dtype=np.float64),
            "state_keys": np.asarray(self.state_keys, dtype=str),
        }
        if self.observations:
            out["initial_observation"] = self.observations[0]
            out["observations"] = np.asarray(self.observations[1:], dtype=np.float64)
            out["rewards"] = np.asarray(self.rewards, dtype=np.float64)
            out["dones"] = np.asarray(self.dones, dtype=bool)
        out.update({f"extra_{name}": value for name, value in self.extras.items()})
        return out


def _without_copies(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Drop state columns that are bitwise copies (or exact negations) of an observation column or
    of an earlier state column (e.g. the L2M2019 v_tgt_field is in both; the pelvis body position
    equals the ground_pelvis coordinates).

    Lossless: each row (state column, source kind 0 = observation / 1 = state, source column,
    sign) of ``state_copies`` tells the loader how to put a dropped column back."""
    state = np.vstack([arrays["initial_state_desc"], arrays["state_desc"]])
    sources: dict[bytes, tuple[int, int]] = {}
    if "observations" in arrays:
        obs = np.vstack([arrays["initial_observation"], arrays["observations"]])
        for col in range(obs.shape[1]):
            sources.setdefault(np.ascontiguousarray(obs[:, col]).tobytes(), (0, col))
    copies = []
    for col in range(state.shape[1]):
        for sign in (1, -1):
            source = sources.get(np.ascontiguousarray(sign * state[:, col]).tobytes())
            if source is not None:
                copies.append((col, source[0], source[1], sign))
                break
        else:
            sources[np.ascontiguousarray(state[:, col]).tobytes()] = (1, col)
    keep = np.setdiff1d(np.arange(state.shape[1]), [row[0] for row in copies])
    out = dict(arrays)
    out["initial_state_desc"] = arrays["initial_state_desc"][keep]
    out["state_desc"] = arrays["state_desc"][:, keep]
    out["state_copies"] = np.asarray(copies, dtype=np.int64).reshape(-1, 4)
    return out


def _with_state_digests(stored: dict[str, np.ndarray], full_state: np.ndarray) -> dict[str, np.ndarray]:
    """Replace the per-step state values by one digest per step (``Case.state_digests``): of every
    column that is not a copy of an observation column (those are restored from the observations)."""
    from loader import digest_columns, state_digest

    columns = digest_columns(full_state.shape[1], stored["state_copies"])
    out = {name: value for name, value in stored.items() if name != "state_desc"}
    out["state_digests"] = np.asarray([state_digest(row[columns]) for row in full_state]).reshape(-1, 16)
    return out


def _save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """An ordinary .npz (np.load reads it) whose members are LZMA-compressed (smaller than deflate)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_LZMA) as archive:
        for name, value in arrays.items():
            with archive.open(f"{name}.npy", "w") as member:
                # Column-major: a column is one quantity over time, which compresses better.
                np.lib.format.write_array(member, np.asfortranarray(value), allow_pickle=False)


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    found = {"python": platform.python_version()}
    for dist in ("opensim", "numpy", "scipy", "gym"):
        try:
            found[dist] = md.version(dist)
        except md.PackageNotFoundError:
            found[dist] = "missing"
    return found


def _draw_actions(case: Case, n_actions: int) -> np.ndarray:
    rng = np.random.default_rng(case.action_seed)
    return rng.uniform(case.action_low, case.action_high, size=(case.max_steps, n_actions))


def _reseed_like_construction(case: Case) -> None:
    """Re-apply the global seeding that construction/change_model did (for in-process replays)."""
    if case.python_random_seed is not None:
        random.seed(case.python_random_seed)
    seed = (case.change_model_kwargs or {}).get("seed", case.constructor_kwargs.get("seed"))
    if case.env_class == "ProstheticsEnv":
        random.seed(seed)
        np.random.seed(seed)
    elif case.env_class == "L2M2019Env" and case.constructor_kwargs.get("seed"):
        np.random.seed(case.constructor_kwargs["seed"])


def reference_dir() -> Path:
    """The shared reference folder: $OSIM_RL_REFERENCE, else ``<repo>/../shared/reference``."""
    configured = os.environ.get("OSIM_RL_REFERENCE")
    return Path(configured) if configured else REPO_ROOT.parent / "shared" / "reference"


class _ReflexActions:
    """Actions from the original reflex controller (fresh controller state per episode)."""

    def __init__(self, case: Case, env: Any) -> None:
        from osim.control.osim_loco_reflex_song2019 import OsimReflexCtrl

        path = reference_dir() / "reflex" / case.reflex_params
        self.params = np.loadtxt(path)
        self.params_sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
        # The original compares the mode with `is`: it must be an interned string.
        self.controller = OsimReflexCtrl(mode=sys.intern(case.reflex_mode), dt=env.osim_model.stepsize)
        self.controller.set_control_params(self.params)
        self.env = env
        self.taken: list[np.ndarray] = []

    def __call__(self, step: int) -> np.ndarray:
        action = np.asarray(self.controller.update(self.env.get_observation_dict()), dtype=np.float64)
        self.taken.append(action)
        return action


def _run_env_episode(env: Any, case: Case, actions: np.ndarray | None) -> tuple[_Trajectory, float, np.ndarray]:
    """reset + up to max_steps steps (stops after done unless the case continues); returns the
    trajectory, the step wall time and the actions given (the pre-drawn ones, or the reflex
    controller's when actions is None)."""
    traj = _Trajectory(case)
    obs = env.reset(**case.reset_kwargs)
    reflex = _ReflexActions(case, env) if actions is None else None
    next_action = reflex if reflex is not None else actions.__getitem__
    traj.observations.append(np.asarray(obs, dtype=np.float64))
    traj.add_state(env.get_state_desc())
    if case.env_class == "ProstheticsEnv" and env.difficulty > 0:
        traj.extras["targets"] = np.asarray(env.targets, dtype=np.float64)
    step_seconds = 0.0
    for step in range(case.max_steps):
        action = next_action(step)
        start = time.perf_counter()
        obs, reward, done, info = env.step(action, **case.step_kwargs)
        step_seconds += time.perf_counter() - start
        if info != {}:
            raise RuntimeError(f"{case.name}: unexpected info {info!r}")
        traj.observations.append(np.asarray(obs, dtype=np.float64))
        traj.rewards.append(float(reward))
        traj.dones.append(bool(done))
        traj.add_state(env.get_state_desc())
        if done and not case.continue_after_done:
            break
    if reflex is not None:
        traj.meta["reflex_params_sha256"] = reflex.params_sha256
        return traj, step_seconds, np.asarray(reflex.taken)
    return traj, step_seconds, actions[: len(traj.rewards)]


def _internals(env: Any, case: Case) -> dict[str, Any]:
    """Random draws made by the env that parity tests may want to see directly."""
    if case.env_class == "Arm2DEnv":
        return {"target_x": float(env.target_x), "target_y": float(env.target_y)}
    if case.env_class == "L2M2019Env" and hasattr(env.vtgt, "p_sink"):
        return {
            "p_sink": [float(v) for v in env.vtgt.p_sink],
            "t0_target": float(env.vtgt.t0_target),
            "path_th": float(env.vtgt.path_th),
        }
    return {}


def _record_env(case: Case, out_dir: Path, determinism: bool) -> dict[str, Any]:
    import osim.env

    if case.python_random_seed is not None:
        random.seed(case.python_random_seed)
    env = getattr(osim.env, case.env_class)(**case.constructor_kwargs)
    if case.change_model_kwargs is not None:
        env.change_model(**case.change_model_kwargs)
    drawn = None if case.reflex_mode else _draw_actions(case, env.osim_model.get_action_space_size())
    traj, step_seconds, actions = _run_env_episode(env, case, drawn)
    traj.meta.update({
        "internals": _internals(env, case),
        "step_seconds": step_seconds,
        "time_limit": env.spec.timestep_limit,
    })
    if case.env_class == "L2M2019Env":
        traj.meta["footsteps"] = int(env.footstep["n"])
    arrays = traj.arrays(actions)
    if determinism:
        traj.meta.update(_replays(case, arrays, env.osim_model, lambda: _run_env_episode(env, case, drawn)[0]))
    return _write(case, out_dir, arrays, traj.meta, obs_size=int(arrays["observations"].shape[1]))


def _record_vtgt(case: Case, out_dir: Path, determinism: bool) -> dict[str, Any]:
    """A point agent moved by the target field itself (as the original's test_v_tgt.py does), with a
    slowly turning yaw so that the body-frame rotation of the local field is exercised."""
    from envs.target import VTgtField

    dt = 0.01

    def episode() -> dict[str, np.ndarray]:
        field = VTgtField(visualize=False, version=case.vtgt_version, dt=dt, seed=case.vtgt_seed)
        field.reset(version=case.vtgt_version, seed=case.vtgt_seed)
        x = y = 0.0
        poses, flags, global_v, field_steps, fields, sinks = [], [], [], [], [], []
        for step in range(case.max_steps):
            yaw = 0.3 * math.sin(step * dt)
            pose = np.array([x, y, yaw])
            local, flag = field.update(pose)
            v = field.get_vtgt(pose[0:2])  # shape (2, 1), global frame
            poses.append(pose)
            flags.append(int(flag))
            global_v.append(np.ravel(v))
            if step % case.field_stride == 0 or flag:
                field_steps.append(step)
                fields.append(np.asarray(local, dtype=np.float64))
            if flag:
                sinks.append(np.asarray(field.p_sink, dtype=np.float64).copy())
            x += float(v[0, 0]) * dt
            y += float(v[1, 0]) * dt
        return {
            "poses": np.asarray(poses), "flags": np.asarray(flags, dtype=np.int64),
            "vtgt_global": np.asarray(global_v), "field_steps": np.asarray(field_steps, dtype=np.int64),
            "fields": np.asarray(fields), "sinks_after_flag": np.asarray(sinks).reshape(-1, 2),
            "initial_sink": np.asarray(first_sink),
        }

    probe = VTgtField(visualize=False, version=case.vtgt_version, dt=dt, seed=case.vtgt_seed)
    probe.reset(version=case.vtgt_version, seed=case.vtgt_seed)
    first_sink = np.asarray(probe.p_sink, dtype=np.float64).copy()
    start = time.perf_counter()
    arrays = episode()
    meta: dict[str, Any] = {
        "step_seconds": time.perf_counter() - start,
        "targets_reached_at_steps": [int(i) for i in np.flatnonzero(arrays["flags"])],
        "t0_target_first": float(probe.t0_target),
        "agent": "pose_k = (x_k, y_k, 0.3 sin(k dt)); update(pose_k); v = get_vtgt(pose_k[:2]); "
        "x_{k+1} = x_k + v_x dt, y_{k+1} = y_k + v_y dt (dt = 0.01)",
    }
    if determinism:
        meta["in_process_replay"] = _compare(arrays, episode())
    out_dir.mkdir(parents=True, exist_ok=True)
    _save_npz(out_dir / f"{case.name}.npz", arrays)
    full = {
        "case": case.name, "kind": case.kind, "release": case.release, "description": case.description,
        "vtgt_version": case.vtgt_version, "seed": case.vtgt_seed, "n_steps": case.max_steps,
        "field_stride": case.field_stride, "versions": _versions(), **meta,
    }
    (out_dir / f"{case.name}.json").write_text(json.dumps(full, indent=1, sort_keys=True) + "\n")
    return {**full, "ended_by_done": False, "observation_size": 0, "state_desc_size": 0}


def _record_osimmodel(case: Case, out_dir: Path, determinism: bool) -> dict[str, Any]:
    import osim.env.osim as original

    path = os.path.join(os.path.dirname(original.__file__), "..", "models", case.model_file)

    def episode(model: Any, actions: np.ndarray) -> _Trajectory:
        traj = _Trajectory(case)
        model.reset()
        traj.add_state(model.get_state_desc())
        for action in actions:
            model.actuate(action)
            model.integrate()
            traj.add_state(model.get_state_desc())
        return traj

    model = original.OsimModel(path, False, integrator_accuracy=case.integrator_accuracy)
    actions = _draw_actions(case, model.get_action_space_size())
    start = time.perf_counter()
    arrays = episode(model, actions).arrays(actions)
    meta: dict[str, Any] = {"step_seconds": time.perf_counter() - start}
    if determinism:
        meta.update(_replays(case, arrays, model, lambda: episode(model, actions)))
    return _write(case, out_dir, arrays, meta, obs_size=0)


def _replays(case: Case, arrays: dict[str, np.ndarray], model: Any, episode: Any) -> dict[str, Any]:
    """Replay the case twice in this process: right after the first episode (the controls in place
    at the reset are the last action's), and after restoring the fresh model's controls (all 1.0,
    the PrescribedController's initial Constant(1.0))."""
    result = {}
    for label, restore_controls in (("in_process_replay", True), ("in_process_replay_stale_controls", False)):
        if restore_controls:
            model.actuate(np.ones(model.get_action_space_size()))
        _reseed_like_construction(case)
        replay = episode()
        result[label] = _compare(arrays, replay.arrays(arrays["actions"][: len(replay.state_rows) - 1]))
    return result


def _compare(first: dict[str, np.ndarray], second: dict[str, np.ndarray]) -> dict[str, Any]:
    """Bitwise equality and largest absolute difference per array (shapes must agree)."""
    report: dict[str, Any] = {}
    for name, a in first.items():
        b = second.get(name)
        if b is None or a.shape != b.shape:
            report[name] = {"equal": False, "note": f"shape {a.shape} vs {None if b is None else b.shape}"}
        elif a.dtype.kind in "fb":
            diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
            report[name] = {
                "bitwise_equal": bool(np.array_equal(a, b, equal_nan=True)),
                "max_abs_diff": float(np.nanmax(diff)) if diff.size else 0.0,
            }
        else:
            report[name] = {"bitwise_equal": bool(np.array_equal(a, b))}
    return report


def _actions_meta(case: Case, n_actions: int) -> dict[str, Any]:
    if case.reflex_mode:
        return {
            "how": f"original OsimReflexCtrl(mode='{case.reflex_mode}', dt=0.01) with "
            f"set_control_params(<reference>/reflex/{case.reflex_params}); before step k it is given "
            "env.get_observation_dict() and its output (a list) is passed to step k",
            "max_steps": case.max_steps, "n_actions": n_actions,
        }
    return {
        "how": "numpy.random.default_rng(seed).uniform(low, high, size=(max_steps, n_actions)); "
        "row k is passed (as a float64 array) to step k",
        "seed": case.action_seed, "low": case.action_low, "high": case.action_high,
        "max_steps": case.max_steps, "n_actions": n_actions,
    }


def _write(case: Case, out_dir: Path, arrays: dict[str, np.ndarray], meta: dict[str, Any],
           obs_size: int) -> dict[str, Any]:
    n_steps = int(arrays["actions"].shape[0])
    from loader import episode_total

    full = {
        "case": case.name,
        "kind": case.kind,
        "release": case.release,
        "description": case.description,
        "env_class": case.env_class or "OsimModel",
        "model_file": case.model_file,
        "constructor_kwargs": case.constructor_kwargs,
        "change_model_kwargs": case.change_model_kwargs,
        "reset_kwargs": case.reset_kwargs,
        "step_kwargs": case.step_kwargs,
        "integrator_accuracy": case.integrator_accuracy,
        "python_random_seed_before_construction": case.python_random_seed,
        "actions": _actions_meta(case, int(arrays["actions"].shape[1])),
        "n_steps": n_steps,
        "ended_by_done": bool(arrays["dones"][-1]) if "dones" in arrays else False,
        "total_reward": episode_total(arrays["rewards"]) if "rewards" in arrays else None,
        "observation_size": obs_size,
        "state_desc_size": int(arrays["state_keys"].shape[0]),
        "versions": _versions(),
        **meta,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    stored = _without_copies(arrays)
    if case.state_digests:
        stored = _with_state_digests(stored, arrays["state_desc"])
    _save_npz(out_dir / f"{case.name}.npz", stored)
    (out_dir / f"{case.name}.json").write_text(json.dumps(full, indent=1, sort_keys=True) + "\n")
    return full


def _inside(names: Sequence[str], out_dir: Path, determinism: bool) -> None:
    import osim

    if (REPO_ROOT / "osim") in Path(osim.__file__).resolve().parents:
        raise RuntimeError("imported the project's osim package instead of the original; run via record.py")
    for name in names:
        case = CASES_BY_NAME[name]
        recorder = {"osimmodel": _record_osimmodel, "vtgt": _record_vtgt, "env": _record_env}[case.kind]
        meta = recorder(case, out_dir, determinism)
        replay = meta.get("in_process_replay")
        same = None if replay is None else all(v.get("bitwise_equal", False) for v in replay.values())
        rate = meta["n_steps"] / meta["step_seconds"] if meta["step_seconds"] else math.nan
        print(
            f"[golden] {name}: {meta['n_steps']} steps, done={meta['ended_by_done']}, "
            f"obs={meta['observation_size']}, state={meta['state_desc_size']}, {rate:.0f} steps/s"
            + ("" if same is None else f", in-process replay bitwise equal: {same}"),
            flush=True,
        )


# ---------------------------------------------------------------------------------------------
# Outside: prepare the releases and run this file inside them
# ---------------------------------------------------------------------------------------------

def _original_runner() -> Any:
    # By file, not by import: this outer run needs neither the project installed nor its dependencies.
    path = REPO_ROOT / "osim" / "bench" / "original.py"
    spec = importlib.util.spec_from_file_location("original_osimrl", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["original_osimrl"] = module  # dataclasses need the module registered
    spec.loader.exec_module(module)
    return module


def _record_all(names: Sequence[str], out_dir: Path, cache: Path | None, determinism: bool) -> None:
    runner = _original_runner()
    for release in runner.RELEASES:
        selected = [n for n in names if CASES_BY_NAME[n].release == release]
        if not selected:
            continue
        args = [str(Path(__file__).resolve()), "--inside", "--out", str(out_dir)]
        args += ["--determinism"] if determinism else []
        runner.run(release, args + selected, cache, check=True)


def _compare_dirs(names: Sequence[str], first: Path, second: Path) -> None:
    for name in names:
        with np.load(first / f"{name}.npz") as a, np.load(second / f"{name}.npz") as b:
            report = _compare(dict(a), dict(b))
        same = all(v.get("bitwise_equal", False) for v in report.values())
        worst = max((v.get("max_abs_diff", 0.0) for v in report.values()), default=0.0)
        print(f"[golden] {name}: second process bitwise equal: {same} (max abs diff {worst:g})")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Record golden trajectories from the original osim-rl.")
    parser.add_argument("cases", nargs="*", help="case names (default: all)")
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="output folder (default: data/)")
    parser.add_argument("--cache", type=Path, default=None, help="cache folder of osim/bench/original.py")
    parser.add_argument("--determinism", action="store_true",
                        help="replay each case in-process and record it again in a second process")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    ns = parser.parse_args(argv)
    names = ns.cases or [case.name for case in CASES]
    unknown = [n for n in names if n not in CASES_BY_NAME]
    if unknown:
        parser.error(f"unknown case(s) {unknown}; known: {', '.join(CASES_BY_NAME)}")
    if ns.inside:
        _inside(names, ns.out, ns.determinism)
        return 0
    _record_all(names, ns.out, ns.cache, ns.determinism)
    if ns.determinism:
        with tempfile.TemporaryDirectory() as tmp:
            _record_all(names, Path(tmp), ns.cache, False)
            _compare_dirs(names, ns.out, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())

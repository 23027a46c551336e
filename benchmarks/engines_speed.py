"""Speed of the engines (issue #14 item 4): the original osim-rl, ours on OpenSim, ours on MuJoCo and
MyoSuite's myoLegWalk-v0, on one core in the same run; vector stepping on MuJoCo; where the MuJoCo
path spends its time.

    python benchmarks/run_suite.py engines --myosuite        # writes results/engines.json

* Envs: L2M2019Env (3-D), L2M2019Env-2D (the same env after ``change_model(model="2D")``, the planar
  model, in every variant: the original's ``change_model`` too) and L2RunEnv.
* Speed: every round times, one after the other and each in a fresh child pinned to the same core
  (``os.sched_setaffinity``, inherited by the children, one BLAS/OpenMP thread), the original
  release (:mod:`osim.bench.original`), ours with ``engine="opensim"`` and ours with
  ``engine="mujoco"`` (:func:`osim.bench.run_worker`, the same harness and random actions), per env;
  then MyoSuite in its own venv (:mod:`osim.bench.myosuite`, opt-in: it installs MyoSuite with pip
  once). Ratios are medians of the per-round ratios to the original of the same round. The timed runs
  are not instrumented: the cost split's wrappers (two CPU-clock reads per wrapped call) cost about 5 %
  of a MuJoCo step and nothing visible of an OpenSim one, so the split comes from one more run per env
  and variant after the rounds, instrumented and not part of any ratio.
* Vector stepping: N MuJoCo envs in one process stepped in turn (a plain loop: what one core gives
  N envs), and ``mujoco.rollout`` with one thread per core stepping N copies of the model (physics
  only, the controls held for each 10 ms step): what the engine gives when no Python runs between
  steps. And the engine alone (step + state description) as the floor under the env's Python.
* Profile: cProfile of the MuJoCo env's loop, the functions with the most own time per step.
"""
from __future__ import annotations

import cProfile
import os
import pstats
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from osim import bench
from osim.engine.errors import SimulationError

#: the variants timed per env, in their order within a round (the original is the reference)
VARIANTS = ("original", "opensim", "mujoco")
#: the envs timed: name -> (environment class, the model its ``change_model`` switches to, or None)
ENGINE_CASES: dict[str, tuple[str, str | None]] = {
    "L2M2019Env": ("L2M2019Env", None),
    "L2M2019Env-2D": ("L2M2019Env", "2D"),  # after change_model(model="2D"): the planar model
    "L2RunEnv": ("L2RunEnv", None),
    "Arm2DEnv": ("Arm2DEnv", None),
    "RunEnv": ("RunEnv", None),
}
ENGINE_ENVS = tuple(ENGINE_CASES)


def _pin(cpu: int | None) -> set[int] | None:
    """Pin this process (and so its children) to ``cpu``; the previous affinity, or None if not pinned."""
    if cpu is None or not hasattr(os, "sched_setaffinity"):
        return None
    previous = os.sched_getaffinity(0)
    if cpu not in previous:
        raise ValueError(f"cpu {cpu} is not one this process may run on ({sorted(previous)})")
    os.sched_setaffinity(0, {cpu})
    return previous


def _brief(run: dict[str, Any]) -> dict[str, Any]:
    """What a timed run keeps in the results file (no fingerprints, no RSS samples)."""
    kept = {key: run[key] for key in ("steps", "resets", "wall_seconds", "cpu_seconds", "steps_per_second",
                                      "steps_per_cpu_second") if key in run}
    if run.get("split_cpu_seconds"):  # (empty when the run was not instrumented)
        kept["split_ms_per_step"] = {k: 1e3 * v / run["steps"] for k, v in run["split_cpu_seconds"].items()}
    return kept


def _summary(runs: list[dict[str, Any]], reference: list[dict[str, Any]] | None,
             split_run: dict[str, Any] | None = None) -> dict[str, Any]:
    """Medians over rounds and, against ``reference`` (the original's runs, same rounds), paired ratios;
    the cost split of ``split_run`` (the instrumented run), else of the runs that have one."""
    summary: dict[str, Any] = {
        "steps_per_second": statistics.median(r["steps_per_second"] for r in runs),
        "steps_per_cpu_second": statistics.median(r["steps_per_cpu_second"] for r in runs),
    }
    splits = [r["split_ms_per_step"] for r in ([split_run] if split_run else runs) if "split_ms_per_step" in r]
    if splits:
        summary["split_ms_per_step"] = {k: statistics.median(s.get(k, 0.0) for s in splits) for k in splits[0]}
    if reference:
        pairs = list(zip(runs, reference))
        summary["paired_ratios_cpu"] = [r["steps_per_cpu_second"] / o["steps_per_cpu_second"] for r, o in pairs]
        summary["paired_ratios_wall"] = [r["steps_per_second"] / o["steps_per_second"] for r, o in pairs]
        summary["ratio_cpu"] = statistics.median(summary["paired_ratios_cpu"])
        summary["ratio_wall"] = statistics.median(summary["paired_ratios_wall"])
    return summary


def engines_speed(
    envs: Sequence[str] = ENGINE_ENVS,
    steps: int = 200,
    fast_steps: int = 3000,
    rounds: int = 3,
    *,
    original: bool = True,
    myosuite: bool = False,
    cpu: int | None = 0,
    progress: Callable[[str], None] = lambda line: None,
) -> dict[str, Any]:
    """Steps/s per env and variant in alternating rounds on one core (see the module docstring).

    ``steps`` are the OpenSim runs' steps (ours and the original), ``fast_steps`` the MuJoCo ones
    (ours and MyoSuite's): every run then lasts seconds, long enough to time, short enough to alternate."""
    if steps < 1 or fast_steps < 1 or rounds < 1:
        raise ValueError(f"expected steps >= 1, fast_steps >= 1 and rounds >= 1, got {steps}, {fast_steps}, {rounds}")
    unknown = sorted(set(envs) - set(ENGINE_ENVS))
    if unknown:
        raise ValueError(f"envs must be among {list(ENGINE_ENVS)}, got {unknown}")
    variants = [v for v in VARIANTS if original or v != "original"]
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {env: {v: [] for v in variants} for env in envs}
    errors: dict[str, str] = {}
    myosuite_runs: list[dict[str, Any]] = []
    split_runs: dict[str, dict[str, dict[str, Any]]] = {env: {} for env in envs}

    def timed(env: str, variant: str, split: bool) -> dict[str, Any]:
        name, model = ENGINE_CASES[env]
        if variant == "original":
            return bench.run_worker(name, "original", steps, model=model, split=split)
        # OpenSim is the envs' default engine: asked for by not naming one
        return bench.run_worker(name, "ours", fast_steps if variant == "mujoco" else steps,
                                engine="mujoco" if variant == "mujoco" else None, model=model, split=split)

    load_before = os.getloadavg()
    previous = _pin(cpu)
    try:
        for round_index in range(rounds):
            for env in envs:
                for variant in variants:
                    key = f"{env}/{variant}"
                    if key in errors:
                        continue
                    progress(f"round {round_index + 1}/{rounds}: {env} {variant}")
                    try:
                        run = timed(env, variant, split=False)
                    except RuntimeError as error:  # e.g. an engine this checkout does not have yet
                        errors[key] = str(error)[-2000:]
                        continue
                    runs[env][variant].append(_brief(run))
            if myosuite:
                from osim.bench.myosuite import run_myosuite

                progress(f"round {round_index + 1}/{rounds}: MyoSuite myoLegWalk-v0")
                myosuite_runs.append(_brief(run_myosuite(fast_steps)))
        for env in envs:
            for variant in variants:
                if f"{env}/{variant}" not in errors:
                    progress(f"cost split: {env} {variant}")
                    split_runs[env][variant] = _brief(timed(env, variant, split=True))
    finally:
        if previous is not None:
            os.sched_setaffinity(0, previous)
    result: dict[str, Any] = {
        "machine": bench.machine_details(), "cpu": cpu, "load_average_before": load_before,
        "load_average_after": os.getloadavg(), "rounds": rounds, "steps": {"opensim": steps, "mujoco": fast_steps},
        "envs": {}, "errors": errors,
    }
    for env in envs:
        reference = runs[env].get("original") or None
        result["envs"][env] = {
            "runs": runs[env],
            "split_runs": split_runs[env],
            "variants": {v: _summary(r, None if v == "original" else reference, split_runs[env].get(v))
                         for v, r in runs[env].items() if r},
        }
    if myosuite_runs:
        summary = _summary(myosuite_runs, None)
        for env in envs:  # MyoSuite against the original and our MuJoCo env, per round
            for variant in ("original", "mujoco"):
                theirs = runs[env].get(variant)
                if theirs and len(theirs) == len(myosuite_runs):
                    summary[f"ratio_cpu_to_{env}_{variant}"] = statistics.median(
                        m["steps_per_cpu_second"] / o["steps_per_cpu_second"] for m, o in zip(myosuite_runs, theirs))
        result["myosuite"] = {"env": "myoLegWalk-v0", "runs": myosuite_runs, "summary": summary}
    return result


# -- vector stepping ------------------------------------------------------------------------------


def _make_mujoco_env(env: str) -> Any:
    return bench.load_ours(env)(visualize=False, engine="mujoco")


def _vector_kwargs(env: Any) -> tuple[dict[str, bool], dict[str, bool]]:
    """reset's and step's keyword for vector observations, where they take it (as the harness asks)."""
    vector = {"obs_as_dict": False}
    return (vector if bench.harness._accepts(env.reset, "obs_as_dict") else {},
            vector if bench.harness._accepts(env.step, "obs_as_dict") else {})


def _env_loop(env: str, count: int, steps: int, seed: int) -> dict[str, float]:
    """``count`` MuJoCo envs in this process stepped in turn, ``steps`` each (resets timed)."""
    envs = [_make_mujoco_env(env) for _ in range(count)]
    n_actions = int(envs[0].get_action_space_size())
    actions = np.random.default_rng(seed).random((steps, n_actions))
    reset_kwargs, step_kwargs = _vector_kwargs(envs[0])
    for e in envs:
        e.reset(**reset_kwargs)
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(steps):
        for e in envs:
            if e.step(actions[i], **step_kwargs)[2]:
                e.reset(**reset_kwargs)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    for e in envs:
        e.close()
    return {"steps_per_second": count * steps / wall, "steps_per_cpu_second": count * steps / cpu}


#: the Gymnasium id of each env (the vector env is made through it)
GYM_IDS = {"L2M2019Env": "osim/L2M2019-v0", "L2RunEnv": "osim/L2Run-v0"}


def _vector_env(env: str, count: int, steps: int, seed: int) -> dict[str, float]:
    """``gymnasium.make_vec(id, count, engine="mujoco")`` (osim.vector: one worker process per env),
    ``steps`` batches of the same actions for every env; CPU time is the parent's and the workers'."""
    import gymnasium

    import osim  # noqa: F401 - registers the ids

    vector = gymnasium.make_vec(GYM_IDS[env], num_envs=count, engine="mujoco")
    actions = np.random.default_rng(seed).random((steps, *vector.single_action_space.shape)).astype(np.float32)
    vector.reset(seed=[seed] * count)
    children = os.times()
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(steps):
        vector.step(np.repeat(actions[i][None], count, axis=0))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    vector.close()  # the workers' CPU time is counted once they are joined
    after = os.times()
    cpu += (after.children_user - children.children_user) + (after.children_system - children.children_system)
    return {"steps_per_second": count * steps / wall, "steps_per_cpu_second": count * steps / cpu}


def _engine_of(env: Any) -> Any:
    """The MuJoCo engine under a MuJoCo env (``osim_model`` is its adapter)."""
    return env.osim_model._engine


def _engine_only(env: str, steps: int, seed: int) -> dict[str, float]:
    """The engine alone: step + state description (what every env step needs before its Python)."""
    engine = _engine_of(_make_mujoco_env(env))
    engine.reset()
    actions = np.random.default_rng(seed).random((steps, engine.n_muscles))
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(steps):
        try:
            engine.step(actions[i])
        except SimulationError:  # the state diverged: start again, as an env would
            engine.reset()
        engine.state_description()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"steps_per_second": steps / wall, "steps_per_cpu_second": steps / cpu}


def _rollout(env: str, count: int, steps: int, threads: int, seed: int) -> dict[str, float]:
    """``mujoco.rollout`` of ``count`` copies of the env's model for ``steps`` env steps on ``threads``."""
    import mujoco
    from mujoco import rollout

    engine = _engine_of(_make_mujoco_env(env))
    model, data = engine.mj_model, engine.mj_data
    engine.reset()
    spec = mujoco.mjtState.mjSTATE_FULLPHYSICS
    state = np.empty(mujoco.mj_stateSize(model, spec))
    mujoco.mj_getState(model, data, state, spec)
    held = np.random.default_rng(seed).random((count, steps, model.nu))
    control = np.repeat(held, engine.substeps, axis=1)  # each env step's excitation held for its substeps
    datas = [mujoco.MjData(model) for _ in range(threads)]
    wall, cpu = time.perf_counter(), time.process_time()
    rollout.rollout(model, datas, np.tile(state, (count, 1)), control, skip_checks=False)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"steps_per_second": count * steps / wall, "steps_per_cpu_second": count * steps / cpu}


def vector_mujoco(env: str = "L2M2019Env", counts: Sequence[int] = (1, 2, 4, 8), steps: int = 1000,
                  rounds: int = 3, seed: int = 0,
                  progress: Callable[[str], None] = lambda line: None) -> dict[str, Any]:
    """Env steps/s of N MuJoCo envs: a plain loop in one process, ``mujoco.rollout`` on 1 thread and
    on every core; medians over ``rounds`` (each round times every way back to back)."""
    if steps < 1 or rounds < 1 or not counts or min(counts) < 1:
        raise ValueError(f"expected steps >= 1, rounds >= 1 and counts >= 1, got {steps}, {rounds}, {list(counts)}")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    ways: dict[str, Callable[[int], dict[str, float]]] = {
        "env loop": lambda n: _env_loop(env, n, steps, seed),
        "osim.vector": lambda n: _vector_env(env, n, steps, seed),
        "rollout, 1 thread": lambda n: _rollout(env, n, steps, 1, seed),
        f"rollout, {cores} threads": lambda n: _rollout(env, n, steps, min(n, cores), seed),
    }
    table: dict[str, dict[str, list[dict[str, float]]]] = {str(n): {w: [] for w in ways} for n in counts}
    floor: list[dict[str, float]] = []
    load_before = os.getloadavg()
    for round_index in range(rounds):
        progress(f"vector round {round_index + 1}/{rounds}")
        floor.append(_engine_only(env, steps, seed))
        for n in counts:
            for way, measure in ways.items():
                table[str(n)][way].append(measure(n))
    medians = {n: {way: {key: statistics.median(r[key] for r in rows) for key in rows[0]}
                   for way, rows in cells.items()} for n, cells in table.items()}
    return {"env": env, "steps_per_env": steps, "rounds": rounds, "cores": cores,
            "load_average_before": load_before, "load_average_after": os.getloadavg(),
            "engine_only": {key: statistics.median(r[key] for r in floor) for key in floor[0]},
            "counts": medians}


# -- profile ---------------------------------------------------------------------------------------


def profile_mujoco(env: str = "L2M2019Env", steps: int = 3000, top: int = 15, seed: int = 0) -> dict[str, Any]:
    """cProfile of ``steps`` random steps of ``env`` on MuJoCo: the ``top`` functions by own time."""
    instance = _make_mujoco_env(env)
    actions = np.random.default_rng(seed).random((steps, int(instance.get_action_space_size())))
    reset_kwargs, step_kwargs = _vector_kwargs(instance)
    instance.reset(**reset_kwargs)
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(steps):
        if instance.step(actions[i], **step_kwargs)[2]:
            instance.reset(**reset_kwargs)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt  # type: ignore[attr-defined]  # set by Stats
    rows = []
    entries = stats.stats  # type: ignore[attr-defined]  # (file, line, name) -> (cc, nc, tt, ct, callers)
    for (path, line, name), (_, calls, own, cumulative, _) in sorted(entries.items(), key=lambda kv: -kv[1][2])[:top]:
        where = path.split("site-packages/")[-1].split("/osim/")[-1] if path != "~" else "builtin"
        rows.append({"function": f"{where}:{line}({name})", "calls_per_step": calls / steps,
                     "own_us_per_step": 1e6 * own / steps, "cumulative_us_per_step": 1e6 * cumulative / steps,
                     "own_share": own / total})
    return {"env": env, "steps": steps, "profiled_us_per_step": 1e6 * total / steps, "top": rows}


# -- tables ----------------------------------------------------------------------------------------


def summary_lines(result: dict[str, Any], machine_line: str) -> list[str]:
    """The Markdown section of ``results/engines.json`` (summary.md, docs/performance.md)."""
    load = ", ".join(f"{x:.1f}" for x in result["load_average_before"])
    lines = ["## Engines: the original, ours on OpenSim, ours on MuJoCo, MyoSuite (one core, same run)", "",
             f"Command: `{result.get('command', '')}`  ", f"Machine: {machine_line}  ",
             (f"One core (cpu {result['cpu']}), {result['rounds']} alternating rounds, {result['steps']['opensim']} "
              f"steps per OpenSim run and {result['steps']['mujoco']} per MuJoCo run, random excitations; "
              f"load average {load} at the start. *Ratio*: median of the per-round ratios to the original "
              f"(CPU seconds; wall in brackets)."), "",
             "| env | engine | steps/s (wall) | steps/CPU s | ratio to the original | per round (CPU) |",
             "|---|---|---|---|---|---|"]
    for env, row in result["envs"].items():
        for variant, v in row["variants"].items():
            ratio = (f"{v['ratio_cpu']:.1f} ({v['ratio_wall']:.1f}) | "
                     + ", ".join(f"{r:.1f}" for r in v["paired_ratios_cpu"]) if "ratio_cpu" in v
                     else "1 | " if variant == "original" else "no original timed | ")
            lines.append(f"| {env} | {variant} | {v['steps_per_second']:.1f} | {v['steps_per_cpu_second']:.1f} | "
                         f"{ratio} |")
    myo = result.get("myosuite")
    if myo:
        s = myo["summary"]
        ratios = ", ".join(f"{s[k]:.2f} x {k.removeprefix('ratio_cpu_to_').replace('_', ' ')}"
                           for k in s if k.startswith("ratio_cpu_to_"))
        lines.append(f"| MyoSuite {myo['env']} (80 muscles) | mujoco | {s['steps_per_second']:.1f} | "
                     f"{s['steps_per_cpu_second']:.1f} | {ratios} | |")
    for key, error in result.get("errors", {}).items():
        lines.append(f"| {key.replace('/', ' | ')} | not available: {error.strip().splitlines()[-1][:100]} | | | |")
    lines.append("")
    splits = [(env, v["split_ms_per_step"]) for env, row in result["envs"].items()
              for name, v in row["variants"].items() if name == "mujoco" and "split_ms_per_step" in v]
    if splits:
        keys = ["integration", "state_description", "observation", "reward", "reset", "other"]
        lines += ["Cost split on MuJoCo (CPU ms per step; *integration* is the engine's step):", "",
                  "| env | " + " | ".join(keys) + " |", "|---|" + "---|" * len(keys)]
        lines += [f"| {env} | " + " | ".join(f"{split.get(k, 0.0):.3f}" for k in keys) + " |" for env, split in splits]
        lines.append("")
    vector = result.get("vector")
    if vector:
        floor = vector["engine_only"]
        lines += [(f"### Vector stepping on MuJoCo ({vector['env']}, {vector['steps_per_env']} steps per env, "
                   f"{vector['cores']} cores, medians of {vector['rounds']} rounds)"), "",
                  (f"The engine alone (step + state description, no env Python): "
                   f"{floor['steps_per_second']:.0f} steps/s ({floor['steps_per_cpu_second']:.0f} per CPU s). "
                   "*env loop*: N envs stepped in turn in one process; *osim.vector*: "
                   "`gymnasium.make_vec(id, N, engine=\"mujoco\")`, one worker process per env (CPU: parent and "
                   "workers); *rollout*: `mujoco.rollout` of N copies of the model (physics only, no observation, "
                   "reward or reset)."), "",
                  "| N | way | env steps/s (wall) | per CPU s |", "|---|---|---|---|"]
        for n, ways in vector["counts"].items():
            for way, cell in ways.items():
                lines.append(f"| {n} | {way} | {cell['steps_per_second']:.0f} | {cell['steps_per_cpu_second']:.0f} |")
        lines.append("")
    profile = result.get("profile")
    if profile:
        lines += [(f"### Where the MuJoCo env's time goes ({profile['env']}, cProfile over {profile['steps']} "
                   f"steps, {profile['profiled_us_per_step']:.0f} us per step under the profiler)"), "",
                  "| function | calls/step | own us/step | cumulative us/step | share of own time |",
                  "|---|---|---|---|---|"]
        for row in profile["top"]:
            lines.append(f"| `{row['function']}` | {row['calls_per_step']:.1f} | {row['own_us_per_step']:.1f} | "
                         f"{row['cumulative_us_per_step']:.1f} | {row['own_share']:.1%} |")
        lines.append("")
    return lines

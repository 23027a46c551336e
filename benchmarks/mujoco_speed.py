"""Speed sample of the MuJoCo models: 0.01 s environment steps, random excitations.

    python benchmarks/mujoco_speed.py --out benchmarks/results/mujoco_speed.json

Steps the 2D (gait9dof18musc) and 3D (gait14dof22musc) models at timestep x substeps = 0.01 s,
single thread, and reports env steps/s per CPU second of this process (``time.process_time``,
what the engine costs) and per wall second (what a user sees on this machine at its load), medians
of rounds, with the load average. Only mj_step is timed: no observation or reward code (the
environments' Python work is measured in docs/performance.md). A round that diverges (MuJoCo's
bad-qacc warning) is timed up to its divergence and the model is reported unstable.

The second table times the engine (:class:`osim.engine.mujoco.engine.MujocoSimulation`, what the
environments step) on the L2M2019Env models (2D and 3D) and gait9dof18musc (L2RunEnv): its ``step``
alone, and ``step`` followed by ``state_description`` (the dictionary the observations are read
from), at its default 2 ms x 5.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import mujoco
import numpy as np

from osim.engine.mujoco import build_mjcf
from osim.engine.mujoco.engine import MujocoSimulation
from osim.models import model_path

MODELS = {"2D gait9dof18musc": "gait9dof18musc", "3D gait14dof22musc": "gait14dof22musc_20170320"}
SETTINGS = [(0.002, 5), (0.005, 2)]
#: The engine's models, by the environment that runs them.
ENGINE_MODELS = {"L2M2019Env 2D": "gait14dof22musc_planar_20170320", "L2M2019Env 3D": "gait14dof22musc_20170320",
                 "L2RunEnv gait9dof18musc": "gait9dof18musc"}


def run_round(model: mujoco.MjModel, substeps: int, steps: int, seed: int) -> dict[str, float]:
    """CPU and wall seconds of ``steps`` env steps of random excitations held for 0.1 s, and the
    env steps done before the state diverged (``steps`` if it stayed finite)."""
    data = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, data, 0)
    controls = np.random.default_rng(seed).uniform(0, 1, (steps // 10 + 1, model.nu))
    done = steps
    cpu, wall = time.process_time(), time.perf_counter()
    for step in range(steps):
        data.ctrl[:] = controls[step // 10]
        mujoco.mj_step(model, data, nstep=substeps)
        if data.warning[mujoco.mjtWarning.mjWARN_BADQACC].number:
            done = step + 1
            break
    return {"cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall, "done": done}


def measure(model: mujoco.MjModel, substeps: int, steps: int, rounds: int) -> dict[str, float | int | bool]:
    """Median env steps/s (CPU and wall) over ``rounds`` seeds, and the shortest stable run."""
    runs = [run_round(model, substeps, steps, seed) for seed in range(rounds)]
    return {"env_steps_per_cpu_s": round(statistics.median(r["done"] / r["cpu"] for r in runs)),
            "env_steps_per_wall_s": round(statistics.median(r["done"] / r["wall"] for r in runs)),
            "mj_step_per_cpu_s": round(statistics.median(r["done"] * substeps / r["cpu"] for r in runs)),
            "stable": all(r["done"] == steps for r in runs),
            "env_steps_before_divergence": [r["done"] for r in runs]}


def engine_round(engine: MujocoSimulation, steps: int, seed: int, describe: bool) -> dict[str, float]:
    """CPU and wall seconds of ``steps`` engine steps (random excitations held for 0.1 s), each
    followed by ``state_description()`` when ``describe``."""
    engine.reset()
    controls = np.random.default_rng(seed).uniform(0, 1, (steps // 10 + 1, engine.n_muscles))
    cpu, wall = time.process_time(), time.perf_counter()
    for step in range(steps):
        engine.step(controls[step // 10])
        if describe:
            engine.state_description()
    return {"cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall}


def measure_engine(name: str, steps: int, rounds: int) -> dict[str, float | int]:
    """Median engine steps/s (CPU and wall) without and with the state description."""
    engine = MujocoSimulation(model_path(name))
    row: dict[str, float | int] = {}
    for label, describe in (("step", False), ("step_and_description", True)):
        runs = [engine_round(engine, steps, seed, describe) for seed in range(rounds)]
        row[f"{label}_per_cpu_s"] = round(statistics.median(steps / r["cpu"] for r in runs))
        row[f"{label}_per_wall_s"] = round(statistics.median(steps / r["wall"] for r in runs))
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--engine-only", action="store_true", help="time the engine only (not mj_step alone)")
    arguments = parser.parse_args()
    load_before = os.getloadavg()[0]
    rows = []
    for label, name in ({} if arguments.engine_only else MODELS).items():
        for timestep, substeps in SETTINGS:
            model = mujoco.MjModel.from_xml_string(build_mjcf(name, timestep=timestep))
            row = {"model": label, "nv": model.nv, "neq": model.neq, "nu": model.nu, "ntendon": model.ntendon,
                   "timestep": timestep, "substeps": substeps,
                   **measure(model, substeps, arguments.steps, arguments.rounds)}
            rows.append(row)
            print(f"{label:22s} {timestep * 1000:g} ms x {substeps}: {row['env_steps_per_cpu_s']:7d} env steps/CPU-s "
                  f"{row['env_steps_per_wall_s']:7d} /wall-s  "
                  f"stable={row['stable']} {row['env_steps_before_divergence']}")
    engine_rows = []
    for label, name in ENGINE_MODELS.items():
        row = {"model": label, "preset": name, **measure_engine(name, arguments.steps, arguments.rounds)}
        engine_rows.append(row)
        print(f"engine {label:24s} step {row['step_per_cpu_s']:6d}/CPU-s {row['step_per_wall_s']:6d}/wall-s; "
              f"step + state_description {row['step_and_description_per_cpu_s']:6d}/CPU-s "
              f"{row['step_and_description_per_wall_s']:6d}/wall-s")
    if arguments.out:
        result = {"mujoco": mujoco.__version__, "machine": platform.machine(), "cpus": os.cpu_count(),
                  "threads": 1, "load_average_1min": {"before": round(load_before, 2),
                                                      "after": round(os.getloadavg()[0], 2)},
                  "steps": arguments.steps, "rounds": arguments.rounds, "rows": rows,
                  "engine_rows": engine_rows}
        arguments.out.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Speed sample of the MuJoCo models: 0.01 s environment steps, random excitations.

    python benchmarks/mujoco_speed.py --out benchmarks/results/mujoco_speed.json

Steps the 2D (gait9dof18musc) and 3D (gait14dof22musc) models at timestep x substeps = 0.01 s,
single thread, and prints env steps/s (median of rounds). Only mj_step is timed: no observation
or reward code (the environments' Python work is measured in docs/performance.md).
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import mujoco
import numpy as np

from osim.engine.mujoco import build_mjcf

MODELS = {"2D gait9dof18musc": "gait9dof18musc", "3D gait14dof22musc": "gait14dof22musc_20170320"}
SETTINGS = [(0.002, 5), (0.005, 2)]


def env_steps_per_second(model: mujoco.MjModel, substeps: int, steps: int, seed: int) -> tuple[float, bool]:
    """Env steps/s over ``steps`` steps of random excitations held for 0.1 s; and whether the
    state stayed finite (MuJoCo resets a diverged state and warns)."""
    data = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, data, 0)
    controls = np.random.default_rng(seed).uniform(0, 1, (steps // 10 + 1, model.nu))
    start = time.perf_counter()
    for step in range(steps):
        data.ctrl[:] = controls[step // 10]
        mujoco.mj_step(model, data, nstep=substeps)
    elapsed = time.perf_counter() - start
    diverged = data.warning[mujoco.mjtWarning.mjWARN_BADQACC].number > 0
    return steps / elapsed, not diverged


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path)
    arguments = parser.parse_args()
    rows = []
    for label, name in MODELS.items():
        for timestep, substeps in SETTINGS:
            model = mujoco.MjModel.from_xml_string(build_mjcf(name, timestep=timestep))
            runs = [env_steps_per_second(model, substeps, arguments.steps, seed) for seed in range(arguments.rounds)]
            rate = statistics.median(rate for rate, _ in runs)
            rows.append({"model": label, "nv": model.nv, "neq": model.neq, "nu": model.nu,
                         "timestep": timestep, "substeps": substeps, "env_steps_per_s": round(rate),
                         "stable": all(ok for _, ok in runs)})
            print(f"{label:22s} nv {model.nv:2d} eq {model.neq}  {timestep * 1000:g} ms x {substeps}: "
                  f"{rate:8.0f} env steps/s  stable={rows[-1]['stable']}")
    if arguments.out:
        result = {"mujoco": mujoco.__version__, "machine": platform.machine(), "threads": 1,
                  "steps": arguments.steps, "rounds": arguments.rounds, "rows": rows}
        arguments.out.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

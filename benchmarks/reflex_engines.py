"""The 2-D reflex walk on both engines: published ``params_2D`` and the MuJoCo-optimised parameters.

    python benchmarks/reflex_engines.py --out benchmarks/results/reflex_engines.json

For each parameter set and engine: L2M2019Env(difficulty=3, seed=36) with the planar model, the
example's initial pose, up to 1000 steps (10 s). Reports the distance the pelvis moved forward,
the steps before the episode ended (a fall: pelvis below 0.6 m) and, per parameter set, the RMS
difference of the joint angles (pelvis tilt, hips, knees, ankles) between the engines over the
steps both ran. Wall time is of this machine at its load (both engines single thread).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

from osim.control import EXAMPLE_INIT_POSE, OsimReflexCtrl, load_published_params, reflex_parameters, teacher_parameters
from osim.env.l2m2019 import L2M2019Env

ENGINES = ("opensim", "mujoco")
#: (joint, coordinate index) of the compared angles, in the state description's ``joint_pos``.
ANGLES = (("ground_pelvis", 0), ("hip_r", 0), ("knee_r", 0), ("ankle_r", 0), ("hip_l", 0), ("knee_l", 0),
          ("ankle_l", 0))


def walk(params: np.ndarray, engine: str, steps: int = 1000, difficulty: int = 3, seed: int = 36) -> dict[str, Any]:
    """One reflex episode on ``engine``: distance, steps, footsteps, wall time and the joint angles per step."""
    env = L2M2019Env(visualize=False, difficulty=difficulty, seed=seed, engine=engine)
    env.change_model(model="2D", difficulty=difficulty)
    controller = OsimReflexCtrl(mode="2D", dt=env.osim_model.stepsize, params=params)
    obs = env.reset(init_pose=list(EXAMPLE_INIT_POSE))
    x0 = env.get_state_desc()["body_pos"]["pelvis"][0]
    angles, done, start = [], False, time.perf_counter()
    while len(angles) < steps and not done:
        obs, _, done, _ = env.step(controller.update(obs))
        joint_pos = env.get_state_desc()["joint_pos"]
        angles.append([joint_pos[joint][index] for joint, index in ANGLES])
    return {"distance_m": float(env.get_state_desc()["body_pos"]["pelvis"][0] - x0), "steps": len(angles),
            "fell": bool(done and len(angles) < steps), "footsteps": int(env.footstep["n"]),
            "wall_s": time.perf_counter() - start, "angles": np.array(angles)}


def compare(params: np.ndarray, steps: int) -> dict[str, Any]:
    """``params`` on both engines, and the joint-angle RMS between them over the common steps."""
    runs = {engine: walk(params, engine, steps) for engine in ENGINES}
    common = min(run["steps"] for run in runs.values())
    difference = runs["opensim"]["angles"][:common] - runs["mujoco"]["angles"][:common]
    rms = np.sqrt(np.mean(difference**2, axis=0))
    return {
        **{engine: {k: v for k, v in run.items() if k != "angles"} for engine, run in runs.items()},
        "common_steps": common,
        "joint_angle_rms_rad": {f"{joint}[{index}]": float(value) for (joint, index), value in zip(ANGLES, rms)},
        "joint_angle_rms_mean_rad": float(rms.mean()),
    }


def main() -> None:
    """Run both parameter sets on both engines and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=None)
    ns = parser.parse_args()
    results = {
        "setup": "L2M2019Env(difficulty=3, seed=36), planar model, EXAMPLE_INIT_POSE, 0.01 s steps",
        "params_2D (published)": compare(load_published_params("2D"), ns.steps),
        "params_2D_mujoco (optimised on MuJoCo; the walking recipe's teacher)":
            compare(teacher_parameters("2D", "mujoco"), ns.steps),
        "params_2D_mujoco_walk (CMA-ES then coordinate search on MuJoCo)":
            compare(reflex_parameters("2D", "mujoco"), ns.steps),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "load_average": os.getloadavg()},
    }
    text = json.dumps(results, indent=2)
    print(text)
    if ns.out is not None:
        ns.out.write_text(text + "\n")


if __name__ == "__main__":
    main()

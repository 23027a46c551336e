"""A walking policy on both engines: distance, fall and joint-angle differences.

    python benchmarks/walk_transfer.py --out benchmarks/results/walk_transfer.json
    python benchmarks/walk_transfer.py --policy runs/walk/policy.npz

Runs the shipped ``walk2d-mujoco`` policy (or ``--policy FILE``) and, for comparison, its reflex
teacher on the task the policy was trained for (planar L2M2019Env, difficulty 0, the example's
initial pose, 1000 steps of 0.01 s) on MuJoCo and on OpenSim. Reports per engine the distance the
pelvis moved forward, the steps before the episode ended, whether the model fell, the footsteps,
and the RMS difference of the joint angles between the engines over the steps both ran; then, on
MuJoCo, both again with noise on the initial pose or on the excitations (``--robustness-episodes``).
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

from osim.control import load_reflex_params, reflex_parameters
from osim.train.mlp import MLPPolicy
from osim.train.pretrained import load_pretrained
from osim.train.walking import COMPARED_ANGLES, Exploration, WalkEpisode, WalkTask, make_walk_env, run_walk

ENGINES = ("mujoco", "opensim")


def _angle_rms(first: WalkEpisode, second: WalkEpisode) -> dict[str, Any]:
    common = min(first.steps, second.steps)
    rms = np.sqrt(np.mean((first.joint_angles[:common] - second.joint_angles[:common]) ** 2, axis=0))
    return {"common_steps": common, "mean_rad": float(rms.mean()),
            **{f"{joint}[{index}]": float(value) for (joint, index), value in zip(COMPARED_ANGLES, rms)}}


def on_both_engines(student: MLPPolicy | None, teacher_params: np.ndarray | None) -> dict[str, Any]:
    """The student (or, without one, the teacher) on each engine, and the angle RMS between them."""
    episodes, rows = {}, {}
    for engine in ENGINES:
        task = WalkTask(engine=engine)
        start = time.perf_counter()
        episodes[engine] = run_walk(make_walk_env(task), task, student, None if student else teacher_params)
        rows[engine] = {**episodes[engine].summary(), "wall_s": round(time.perf_counter() - start, 1)}
    return {**rows, "joint_angle_rms_between_engines": _angle_rms(episodes["mujoco"], episodes["opensim"])}


def robustness(student: MLPPolicy | None, teacher_params: np.ndarray | None, episodes: int,
               engine: str = "mujoco") -> list[dict[str, Any]]:
    """Episodes with noise on the initial pose or on the excitations: how many walk the 10 s, how far.

    A gait can be an unstable orbit that only its exact start and exact actions keep (the reflex
    teacher's is); a policy that users run must survive small errors."""
    task = WalkTask(engine=engine)
    env = make_walk_env(task)
    rows = []
    for pose_noise, action_noise in ((0.01, 0.0), (0.0, 0.002), (0.0, 0.02)):
        outcomes = [run_walk(env, task, student, None if student else teacher_params,
                             Exploration(pose_noise=pose_noise, action_noise=action_noise, seed=seed))
                    for seed in range(1, episodes + 1)]
        rows.append({"engine": engine, "pose_noise": pose_noise, "action_noise": action_noise, "episodes": episodes,
                     "walked_10_s": sum(not e.fell and e.steps == task.max_steps for e in outcomes),
                     "distance_m_mean": round(float(np.mean([e.distance for e in outcomes])), 3),
                     "seconds_standing_mean": round(float(np.mean([e.seconds_standing for e in outcomes])), 2)})
    return rows


def main() -> None:
    """Evaluate and print (and write) the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", type=Path, default=None, help="policy file (default: the shipped walk2d-mujoco)")
    parser.add_argument("--teacher-params", type=Path, default=None,
                        help="the teacher's 37 reflex parameters (default: the packaged MuJoCo ones)")
    parser.add_argument("--robustness-episodes", type=int, default=10,
                        help="noisy episodes per noise setting on MuJoCo (0: none)")
    parser.add_argument("--out", type=Path, default=None)
    ns = parser.parse_args()
    student = MLPPolicy.load(ns.policy) if ns.policy else load_pretrained("walk2d-mujoco")
    teacher = load_reflex_params(ns.teacher_params, "2D") if ns.teacher_params else reflex_parameters("2D", "mujoco")
    results = {
        "setup": "planar L2M2019Env, difficulty 0, env seed 0, EXAMPLE_INIT_POSE, up to 1000 steps of 0.01 s",
        "policy": {"file": str(ns.policy) if ns.policy else "walk2d-mujoco (shipped)",
                   "trained": {k: student.metadata.get(k)
                               for k in ("engine", "dagger_iteration", "samples", "ppo_timesteps")}},
        "student": on_both_engines(student, None),
        "reflex teacher": on_both_engines(None, teacher),
        "robustness": {"student": robustness(student, None, ns.robustness_episodes),
                       "reflex teacher": robustness(None, teacher, ns.robustness_episodes)}
        if ns.robustness_episodes > 0 else {},
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "load_average": os.getloadavg()},
    }
    text = json.dumps(results, indent=2)
    print(text)
    if ns.out is not None:
        ns.out.write_text(text + "\n")


if __name__ == "__main__":
    main()

"""Passive drop on both engines: zero excitation from the default pose, pelvis height and joint angles.

``python -m osim.engine.mujoco.drop --model gait9dof18musc --out benchmarks/results/mujoco_drop_gait9dof18musc.json``
steps the model's default pose with every excitation at 0 for ``--seconds`` on the OpenSim engine
and on the MuJoCo engine and reports, over the first half and the whole run, how far the pelvis
height and the rotational coordinates of the legs are apart (max and RMS over time).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from osim.engine.interface import Engine

from .parity import model_command, write_json

#: The joints compared (the first coordinate of each: the sagittal angle).
JOINTS = ("hip_r", "knee_r", "ankle_r", "hip_l", "knee_l", "ankle_l")


def drop_trajectory(engine: Engine, steps: int) -> np.ndarray:
    """(steps, 1 + joints): pelvis height and the joints' first coordinate after each zero-excitation step."""
    engine.reset()
    zeros = np.zeros(engine.n_muscles)
    rows = []
    for _ in range(steps):
        engine.step(zeros)
        description = engine.state_description()
        rows.append([description["body_pos"]["pelvis"][1], *(description["joint_pos"][j][0] for j in JOINTS)])
    return np.array(rows)


def compare(ours: np.ndarray, theirs: np.ndarray) -> dict[str, Any]:
    """Pelvis height max/RMS difference (mm) and per-joint angle max/RMS difference (rad)."""
    difference = np.abs(ours - theirs)
    rms = np.sqrt((difference ** 2).mean(axis=0))
    return {"pelvis_height_max_mm": round(float(difference[:, 0].max()) * 1000, 1),
            "pelvis_height_rms_mm": round(float(rms[0]) * 1000, 1),
            "joint_angle_rms_rad": {j: round(float(v), 3) for j, v in zip(JOINTS, rms[1:])},
            "joint_angle_max_rad": {j: round(float(v), 3) for j, v in zip(JOINTS, difference[:, 1:].max(axis=0))}}


def measure(name: str, seconds: float = 1.0, step_size: float = 0.01) -> dict[str, Any]:
    """The drop of preset ``name`` on both engines, compared over the first half and the whole run."""
    from osim.engine import Simulation
    from osim.models import model_path

    from .engine import MujocoSimulation

    path = model_path(name)
    steps = round(seconds / step_size)
    theirs = drop_trajectory(Simulation(path, step_size=step_size), steps)
    ours = drop_trajectory(MujocoSimulation(path, step_size=step_size), steps)
    half = steps // 2
    return {"model": name, "seconds": seconds, "step_size": step_size,
            "first_half": compare(ours[:half], theirs[:half]), "whole": compare(ours, theirs),
            "pelvis_height_m": {"opensim": [round(float(v), 4) for v in theirs[9::10, 0]],
                                "mujoco": [round(float(v), 4) for v in ours[9::10, 0]]}}


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: measure one model's drop on both engines, print it, optionally write the JSON."""
    import json

    arguments = model_command("osim.engine.mujoco.drop", __doc__, "write the comparison (JSON) here", argv)
    report = measure(arguments.model)
    if arguments.out:
        write_json(arguments.out, report)
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Parity of the MuJoCo models with the OpenSim ones: moment arms and muscle forces.

``python -m osim.engine.mujoco.parity --model gait9dof18musc --out results.json`` measures, for
every muscle and each coordinate it spans, the moment arm over the coordinate's range on both
engines (RMS and max, mm), and the muscle force at activations 0, 0.5 and 1 over a posture grid
(OpenSim: the equilibrated Thelen2003 tendon force; MuJoCo: the muscle actuator force at zero
velocity), error in units of the muscle's max isometric force. It reports the direct mapping
("before") and the stored fit ("after", see :mod:`osim.engine.mujoco.fit`).
"""
from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import require_mujoco
from .mjcf import Description, coordinate_limits, coordinate_specs, is_muscle, model_description
from .simulate import effective_moment_arms, set_posture

#: Activations of the force comparison.
ACTIVATIONS = (0.0, 0.5, 1.0)
#: Points of each moment-arm sweep and postures of the force grid.
SWEEP_POINTS = 25
GRID_POSTURES = 120


def muscles(description: Description) -> list[dict[str, Any]]:
    """The muscle specs in force-set (action) order."""
    return [force for force in description["forces"] if is_muscle(force)]


def body_parents(description: Description) -> dict[str, tuple[str, dict[str, Any]]]:
    """Child body -> (parent body, joint spec)."""
    return {joint["child"].rsplit("/", 1)[-1]: (joint["parent"].rsplit("/", 1)[-1], joint)
            for joint in description["joints"]}


def spanned_coordinates(description: Description, muscle: dict[str, Any]) -> list[str]:
    """The free coordinates of the joints between the bodies a muscle's path touches."""
    parents = body_parents(description)

    def chain(body: str) -> list[str]:
        bodies = [body]
        while bodies[-1] in parents:
            bodies.append(parents[bodies[-1]][0])
        return bodies

    chains = [chain(point["frame"].rsplit("/", 1)[-1]) for point in muscle["path"]["points"]]
    common = set.intersection(*(set(c) for c in chains))
    joints = []
    for bodies in chains:
        for body in bodies:
            if body in common:
                break
            joint = parents[body][1]
            if joint not in joints:
                joints.append(joint)
    names = [c["name"] for joint in description["joints"] if joint in joints
             for c in joint.get("coordinates", []) if not c.get("locked")]
    return names


def coordinate_range(description: Description, name: str) -> tuple[float, float]:
    """The range swept for a coordinate: its limit force's limits, else its own range."""
    limits = coordinate_limits(description)
    if name in limits:
        return limits[name]
    low, high = coordinate_specs(description)[name]["range"]
    return float(low), float(high)


def muscle_coordinates(description: Description) -> list[str]:
    """Every coordinate some muscle spans, in description order."""
    spanned = {name for muscle in muscles(description) for name in spanned_coordinates(description, muscle)}
    return [name for name in coordinate_specs(description) if name in spanned]


def posture_grid(description: Description, count: int, seed: int = 0) -> list[dict[str, float]]:
    """``count`` postures: the muscle-spanned coordinates uniform in their ranges (seeded)."""
    rng = np.random.default_rng(seed)
    names = muscle_coordinates(description)
    ranges = [coordinate_range(description, name) for name in names]
    return [{name: float(rng.uniform(low, high)) for name, (low, high) in zip(names, ranges)}
            for _ in range(count)]


class OpenSimProbe:
    """The real OpenSim model of a description, posed by coordinate name."""

    def __init__(self, description: Description) -> None:
        from osim.models.builder import build

        self.model = build(description)
        self.state = self.model.initSystem()
        self.coordinates = self.model.getCoordinateSet()
        self.muscles = self.model.getMuscles()
        self.defaults = {c["name"]: float(c.get("default_value", 0.0))
                         for c in coordinate_specs(description).values()}

    def pose(self, posture: dict[str, float]) -> None:
        """Coordinates at their defaults, then ``posture``; speeds zero."""
        for name, value in {**self.defaults, **posture}.items():
            coordinate = self.coordinates.get(name)
            if not coordinate.getLocked(self.state):
                coordinate.setValue(self.state, value, False)
            coordinate.setSpeedValue(self.state, 0.0)
        self.model.realizePosition(self.state)

    def moment_arm(self, muscle: str, coordinate: str) -> float:
        """OpenSim's moment arm (m) of ``muscle`` about ``coordinate`` at the current posture."""
        return float(self.muscles.get(muscle).computeMomentArm(self.state, self.coordinates.get(coordinate)))

    def tendon_forces(self, activation: float) -> np.ndarray:
        """Equilibrated tendon force (N) of every muscle at one activation, current posture."""
        for index in range(self.muscles.getSize()):
            self.muscles.get(index).setActivation(self.state, activation)
        try:
            self.model.equilibrateMuscles(self.state)
        except RuntimeError:
            return np.full(self.muscles.getSize(), np.nan)
        self.model.realizeDynamics(self.state)
        return np.array([self.muscles.get(i).getTendonForce(self.state) for i in range(self.muscles.getSize())])


class MujocoProbe:
    """The compiled MuJoCo model of a description, posed by OpenSim coordinate name."""

    def __init__(self, description: Description, fitted: bool = True) -> None:
        from .mjcf import build_mjcf

        mujoco = require_mujoco()
        self.description = description
        self.model = mujoco.MjModel.from_xml_string(build_mjcf(description, fitted=fitted))
        self.data = mujoco.MjData(self.model)
        mujoco.mj_resetDataKeyframe(self.model, self.data, 0)
        self.default_qpos = self.data.qpos.copy()

    def pose(self, posture: dict[str, float]) -> None:
        """Put the model in ``posture`` (coordinate name -> value), the rest at the default."""
        self.data.qpos[:] = self.default_qpos
        set_posture(self.model, self.data, posture)

    def moment_arms(self, coordinate: str) -> np.ndarray:
        """Every muscle's moment arm (m) about ``coordinate`` at the current posture."""
        return effective_moment_arms(self.model, self.data, coordinate)

    def tendon_lengths(self) -> np.ndarray:
        """Every tendon's length (m) at the current posture."""
        return np.array(self.data.ten_length)

    def muscle_forces(self, activation: float) -> np.ndarray:
        """Muscle tension (N, positive pulling) at one activation and zero velocity."""
        mujoco = require_mujoco()
        self.data.act[:] = activation
        mujoco.mj_fwdActuation(self.model, self.data)
        return -np.array(self.data.actuator_force)


def moment_arm_table(description: Description, opensim_probe: OpenSimProbe,
                     mujoco_probe: MujocoProbe) -> dict[str, dict[str, dict[str, float]]]:
    """muscle -> coordinate -> {rms_mm, max_mm}: sweeps over each coordinate's range."""
    names = [m["name"] for m in muscles(description)]
    table: dict[str, dict[str, dict[str, float]]] = {}
    for coordinate in muscle_coordinates(description):
        low, high = coordinate_range(description, coordinate)
        spanning = [m["name"] for m in muscles(description) if coordinate in spanned_coordinates(description, m)]
        errors: dict[str, list[float]] = {name: [] for name in spanning}
        for value in np.linspace(low, high, SWEEP_POINTS):
            opensim_probe.pose({coordinate: value})
            mujoco_probe.pose({coordinate: value})
            arms = mujoco_probe.moment_arms(coordinate)
            for name in spanning:
                errors[name].append(arms[names.index(name)] - opensim_probe.moment_arm(name, coordinate))
        for name, differences in errors.items():
            millimetres = 1000 * np.abs(np.asarray(differences))
            table.setdefault(name, {})[coordinate] = {"rms_mm": round(float(np.sqrt(np.mean(millimetres ** 2))), 3),
                                                      "max_mm": round(float(millimetres.max()), 3)}
    return table


def opensim_force_grid(description: Description, opensim_probe: OpenSimProbe,
                       postures: Sequence[dict[str, float]]) -> np.ndarray:
    """OpenSim tendon forces, shape (activations, postures, muscles)."""
    forces = np.empty((len(ACTIVATIONS), len(postures), len(muscles(description))))
    for p, posture in enumerate(postures):
        opensim_probe.pose(posture)
        for a, activation in enumerate(ACTIVATIONS):
            forces[a, p] = opensim_probe.tendon_forces(activation)
    return forces


def mujoco_force_grid(mujoco_probe: MujocoProbe, postures: Sequence[dict[str, float]]) -> np.ndarray:
    """MuJoCo muscle forces, shape (activations, postures, muscles)."""
    forces = np.empty((len(ACTIVATIONS), len(postures), mujoco_probe.model.nu))
    for p, posture in enumerate(postures):
        mujoco_probe.pose(posture)
        for a, activation in enumerate(ACTIVATIONS):
            forces[a, p] = mujoco_probe.muscle_forces(activation)
    return forces


def max_isometric_forces(description: Description) -> np.ndarray:
    """Each muscle's maximum isometric force (N), in the description's order."""
    return np.array([float(m["properties"]["max_isometric_force"]) for m in muscles(description)])


def force_table(description: Description, reference: np.ndarray, candidate: np.ndarray) -> dict[str, dict[str, float]]:
    """muscle -> mean/max |error| in Fmax (over postures and activations) and per activation."""
    errors = np.abs(candidate - reference) / max_isometric_forces(description)
    table = {}
    for index, muscle in enumerate(muscles(description)):
        values = errors[:, :, index]
        valid = np.isfinite(values)
        row = {"mean": round(float(values[valid].mean()), 4), "max": round(float(values[valid].max()), 4)}
        for a, activation in enumerate(ACTIVATIONS):
            row[f"mean_a{activation:g}"] = round(float(np.nanmean(values[a])), 4)
        table[muscle["name"]] = row
    return table


def summary(moment_arms: dict, forces: dict) -> dict[str, float]:
    """Headline numbers: worst and mean moment-arm RMS, mean and worst force error."""
    rms = [entry["rms_mm"] for per_muscle in moment_arms.values() for entry in per_muscle.values()]
    means = [row["mean"] for row in forces.values()]
    return {"moment_arm_rms_mm_mean": round(float(np.mean(rms)), 3),
            "moment_arm_rms_mm_worst": round(float(np.max(rms)), 3),
            "pairs_within_5mm": int(sum(value <= 5.0 for value in rms)), "pairs": len(rms),
            "force_error_fmax_mean": round(float(np.mean(means)), 4),
            "force_error_fmax_worst_muscle_mean": round(float(np.max(means)), 4)}


def measure(name: str) -> dict[str, Any]:
    """The parity report of preset ``name`` (direct mapping and stored fit)."""
    description = model_description(name)
    opensim_probe = OpenSimProbe(description)
    postures = posture_grid(description, GRID_POSTURES, seed=1)
    reference = opensim_force_grid(description, opensim_probe, postures)
    report: dict[str, Any] = {"model": name, "activations": list(ACTIVATIONS), "sweep_points": SWEEP_POINTS,
                              "force_postures": len(postures), "mujoco": require_mujoco().__version__}
    for label, fitted in (("before", False), ("after", True)):
        probe = MujocoProbe(description, fitted=fitted)
        moment_arms = moment_arm_table(description, opensim_probe, probe)
        forces = force_table(description, reference, mujoco_force_grid(probe, postures))
        report[label] = {"summary": summary(moment_arms, forces), "moment_arms": moment_arms, "forces": forces}
    return report


def model_command(module: str, doc: str, out_help: str, argv: Sequence[str] | None,
                  options: Sequence[tuple[str, dict[str, Any]]] = ()) -> argparse.Namespace:
    """Arguments of the ``--model NAME [--out FILE]`` commands of this package, plus ``options``
    (flag, ``add_argument`` keywords)."""
    parser = argparse.ArgumentParser(prog=f"python -m {module}", description=doc.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a preset name, e.g. gait9dof18musc")
    parser.add_argument("--out", type=Path, help=out_help)
    for flag, keywords in options:
        parser.add_argument(flag, **keywords)
    return parser.parse_args(argv)


def write_json(path: Path, data: dict[str, Any]) -> None:
    """``data`` as indented JSON at ``path`` (folders created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: measure one model's parity, print the summary, optionally write the JSON."""
    arguments = model_command("osim.engine.mujoco.parity", __doc__, "write the report (JSON) here", argv)
    report = measure(arguments.model)
    if arguments.out:
        write_json(arguments.out, report)
    print(json.dumps({"model": arguments.model, "before": report["before"]["summary"],
                      "after": report["after"]["summary"]}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

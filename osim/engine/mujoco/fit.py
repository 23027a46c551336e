"""Fit each muscle's MuJoCo geometry and parameters to the OpenSim muscle; store them as data.

``python -m osim.engine.mujoco.fit --model gait9dof18musc`` writes
``osim/engine/mujoco/data/gait9dof18musc.json``, which :func:`osim.engine.mujoco.build_mjcf` uses.

1. Geometry: the locations of the ConditionalPathPoints and MovingPathPoints (sites fixed in
   their body), where a conditional point's joint has other free coordinates the first path
   point across that joint (see :func:`fitted_points`), and the ends of wrapped segments (the arm;
   within 2 cm of their path points) are fitted to the OpenSim moment arms over the coordinate
   sweeps and a random posture grid (scipy ``least_squares``).
2. Force: tendon slack length, optimal length, force scale, ``lmin``, ``lmax`` and ``fpmax`` are
   fitted to the equilibrated OpenSim tendon force over a posture x activation grid
   (activations 0, 0.5, 1), the error in units of Fmax; bounds keep every length positive.

Left and right muscles share one set of parameters (the left sites are the right ones mirrored
in z), so the fit stays symmetric. The grids use another seed than the parity report.

``--refit MUSCLE ...`` fits only those muscles and keeps the other stored entries (a model with no
fit file yet gets one holding only those muscles; its others keep the fit they borrow: the
prosthesis models' right-thigh muscles were fitted that way). ``--freeze``
stores the fit a model builds with now (often borrowed from a model spanning the same joints,
see :func:`osim.engine.mujoco.mjcf.fitted_parameters`) as that model's own, so that refitting the
other model leaves it as it is: the planar gait14dof22musc's (a PPO policy and reflex parameters
were tuned on it). A frozen file is not refitted unless ``--out`` says where to write.
"""
from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import least_squares

from . import require_mujoco
from .mjcf import (
    Description,
    default_location,
    direct_muscle_parameters,
    fitted_parameters,
    model_description,
    muscle_fingerprint,
    wrap_positions,
)
from .parity import (
    ACTIVATIONS,
    SWEEP_POINTS,
    MujocoProbe,
    OpenSimProbe,
    coordinate_range,
    model_command,
    muscles,
    opensim_force_grid,
    posture_grid,
    spanned_coordinates,
    write_json,
)

MIRROR = np.array([1.0, 1.0, -1.0])
#: Fitted muscle parameters, their bounds relative to the direct mapping or absolute.
MUSCLE_PARAMETERS = ("slack", "optimal", "force", "lmin", "lmax", "fpmax")
RELATIVE_BOUNDS = {"slack": (0.5, 1.5), "optimal": (0.4, 2.5), "force": (0.5, 1.5)}
ABSOLUTE_BOUNDS = {"lmin": (0.05, 0.95), "lmax": (1.05, 3.0), "fpmax": (0.0, 20.0)}
FIT_POSTURES = 80
#: How far (m) a wrapped segment's end may move from its path point in the geometry fit.
WRAP_END_REACH = 0.02
FIT_SEED = 2


def symmetric_groups(description: Description) -> list[list[tuple[dict[str, Any], bool]]]:
    """Muscles fitted together: a right muscle with its left partner (mirrored), else alone."""
    by_name = {m["name"]: m for m in muscles(description)}
    groups, seen = [], set()
    for name, muscle in by_name.items():
        if name in seen:
            continue
        partner = name[:-2] + "_l" if name.endswith("_r") else None
        if partner in by_name:
            groups.append([(muscle, False), (by_name[partner], True)])
            seen.update({name, partner})
        else:
            groups.append([(muscle, False)])
            seen.add(name)
    return groups


def fitted_points(description: Description, muscle: dict[str, Any]) -> list[dict[str, Any]]:
    """The path points whose sites are fitted, in path order: the points a fixed site can only
    approximate (conditional and moving), the first point past a conditional point on another
    body when the conditional point's joint has other free coordinates, and the two ends of each
    segment that wraps over an object.

    One fixed site can follow a conditional point's switch along its own coordinate, or the other
    coordinates of that joint, not both: the 3D iliopsoas' site fitted alone leaves 6.8 mm RMS at
    hip adduction (weighting adduction 2-4x: 6.5 mm, flexion 4.5 mm); with the femur point across
    the hip fitted too, both are under 5 mm. The planar and 2D hips have no second free coordinate,
    so their fits are fitted as before. MuJoCo's sphere and cylinder stand in for OpenSim's wrap
    ellipsoids, one object per segment (the arm's muscles): the sites around a wrapped segment are
    fitted to make up for it."""
    points = muscle["path"]["points"]
    chosen = {index for index, p in enumerate(points) if p["type"] in ("ConditionalPathPoint", "MovingPathPoint")}
    free = {f"/jointset/{joint['name']}/{c['name']}": [o["name"] for o in joint.get("coordinates", [])
                                                        if not o.get("locked")]
            for joint in description["joints"] for c in joint.get("coordinates", [])}
    for index, point in enumerate(points):
        if point["type"] != "ConditionalPathPoint" or len(free.get(point["coordinate"], [])) < 2:
            continue
        across = next((k for k in range(index + 1, len(points)) if points[k]["frame"] != point["frame"]), None)
        if across is not None:
            chosen.add(across)
    chosen |= wrapped_ends(description, muscle)
    return [points[index] for index in sorted(chosen)]


def wrapped_ends(description: Description, muscle: dict[str, Any]) -> set[int]:
    """Indices of the path points at the ends of the muscle's segments that wrap over an object."""
    points = muscle["path"]["points"]
    wrapped = wrap_positions(description, points, muscle["path"].get("wraps", []))
    return {index for segment in wrapped for index in (segment, segment + 1)}


def mirrored_name(point: str) -> str:
    """The left path point's name of a right one (``semimem_r-P2`` -> ``semimem_l-P2``)."""
    return point.replace("_r-", "_l-")


class GeometryTargets:
    """OpenSim moment arms of one muscle at the postures the geometry fit uses."""

    def __init__(self, description: Description, opensim_probe: OpenSimProbe, muscle: dict[str, Any],
                 postures: Sequence[dict[str, float]]) -> None:
        self.coordinates = spanned_coordinates(description, muscle)
        sweeps = [{c: v} for c in self.coordinates
                  for v in np.linspace(*coordinate_range(description, c), SWEEP_POINTS)]
        self.postures = sweeps + list(postures)
        self.arms = np.empty((len(self.postures), len(self.coordinates)))
        for p, posture in enumerate(self.postures):
            opensim_probe.pose(posture)
            self.arms[p] = [opensim_probe.moment_arm(muscle["name"], c) for c in self.coordinates]


def site_ids(probe: MujocoProbe, muscle: dict[str, Any]) -> list[int]:
    """MuJoCo site ids of ``muscle``'s fitted path points, in path order."""
    mujoco = require_mujoco()
    return [mujoco.mj_name2id(probe.model, mujoco.mjtObj.mjOBJ_SITE, f"{muscle['name']}-{p['name']}")
            for p in fitted_points(probe.description, muscle)]


def moment_arm_residuals(probe: MujocoProbe, group, targets: list[GeometryTargets],
                         locations: np.ndarray) -> np.ndarray:
    """MuJoCo minus OpenSim moment arms (m) of a group for fitted site ``locations`` (n x 3)."""
    residuals = []
    for (muscle, mirrored), target in zip(group, targets):
        probe.model.site_pos[site_ids(probe, muscle)] = locations * (MIRROR if mirrored else 1.0)
        tendon = muscles(probe.description).index(muscle)
        for posture, arms in zip(target.postures, target.arms):
            probe.pose(posture)
            residuals.append([probe.moment_arms(c)[tendon] for c in target.coordinates] - arms)
    return np.concatenate(residuals)


def fit_geometry(probe: MujocoProbe, group, targets: list[GeometryTargets]) -> dict[str, list[float]]:
    """Fitted locations of the group leader's conditional/moving points (leader frame)."""
    leader = group[0][0]
    points = fitted_points(probe.description, leader)
    if not points:
        return {}
    start = np.array([default_location(p) for p in points], float)
    # A wrapped segment's fixed ends stay within WRAP_END_REACH of the model's points (unbounded, the
    # arm's TRIlong end moved 10 cm off the humerus and its force fit got worse); the others are free.
    ends = {leader["path"]["points"][k]["name"] for k in wrapped_ends(probe.description, leader)}
    reach = np.array([WRAP_END_REACH if p["name"] in ends and p["type"] == "PathPoint" else np.inf for p in points])
    reach = reach[:, None] * np.ones(3)
    result = least_squares(lambda x: moment_arm_residuals(probe, group, targets, x.reshape(-1, 3)),
                           start.ravel(), x_scale=0.01, diff_step=1e-3, max_nfev=200,
                           bounds=((start - reach).ravel(), (start + reach).ravel()))
    moment_arm_residuals(probe, group, targets, result.x.reshape(-1, 3))  # leave the fit in place
    return {p["name"]: [round(float(v), 6) for v in xyz] for p, xyz in zip(points, result.x.reshape(-1, 3))}


def muscle_forces(lengths: np.ndarray, values: dict[str, float]) -> np.ndarray:
    """MuJoCo muscle tension (N) at tendon ``lengths`` (postures) for each activation, zero speed."""
    mujoco = require_mujoco()
    from .mjcf import NORMALISED_RANGE

    low, high = NORMALISED_RANGE
    length_range = np.array([values["slack"] + low * values["optimal"], values["slack"] + high * values["optimal"]])
    prm = np.array([low, high, values["force"], 1.0, values["lmin"], values["lmax"], values["vmax"],
                    values["fpmax"], values["fvmax"]])
    gain = np.array([mujoco.mju_muscleGain(L, 0.0, length_range, 0.0, prm) for L in lengths])
    bias = np.array([mujoco.mju_muscleBias(L, length_range, 0.0, prm) for L in lengths])
    return -(np.asarray(ACTIVATIONS)[:, None] * gain[None, :] + bias[None, :])


def fit_muscle(leader: dict[str, Any], lengths: list[np.ndarray], references: list[np.ndarray]) -> dict[str, float]:
    """Fitted muscle parameters shared by a group: ``lengths[i]`` (postures) and
    ``references[i]`` (activations x postures) per member."""
    direct = direct_muscle_parameters(leader)
    fmax = float(leader["properties"]["max_isometric_force"])
    lower = [direct[k] * RELATIVE_BOUNDS[k][0] if k in RELATIVE_BOUNDS else ABSOLUTE_BOUNDS[k][0]
             for k in MUSCLE_PARAMETERS]
    upper = [direct[k] * RELATIVE_BOUNDS[k][1] if k in RELATIVE_BOUNDS else ABSOLUTE_BOUNDS[k][1]
             for k in MUSCLE_PARAMETERS]
    start = np.clip([direct[k] for k in MUSCLE_PARAMETERS], lower, upper)

    def residuals(x: np.ndarray) -> np.ndarray:
        values = {**direct, **dict(zip(MUSCLE_PARAMETERS, x))}
        errors = [(muscle_forces(L, values) - F) / fmax for L, F in zip(lengths, references)]
        stacked = np.concatenate([e.ravel() for e in errors])
        return np.nan_to_num(stacked[np.isfinite(stacked)])

    result = least_squares(residuals, start, bounds=(lower, upper), x_scale="jac", max_nfev=400)
    return {k: round(float(v), 6) for k, v in zip(MUSCLE_PARAMETERS, result.x)}


def fit_model(name: str, refit: Collection[str] = ()) -> dict[str, Any]:
    """Fitted sites and muscle parameters of every muscle of preset ``name``; with ``refit``
    (muscle names), only those muscles' groups are fitted and the other stored entries are kept
    as they are (each refitted entry records the MuJoCo version it was fitted with)."""
    description = model_description(name)
    order = [m["name"] for m in muscles(description)]
    unknown = sorted(set(refit) - set(order))
    if unknown:
        raise ValueError(f"{name} has no muscle {unknown}; expected some of {order}")
    path = data_path(name)
    # a model without a fit of its own starts empty: its other muscles keep the fit they borrow
    stored = json.loads(path.read_text()) if refit and path.exists() else {"muscles": {}}
    version = require_mujoco().__version__
    opensim_probe = OpenSimProbe(description)
    probe = MujocoProbe(description, fitted=False)
    postures = posture_grid(description, FIT_POSTURES, seed=FIT_SEED)
    reference = opensim_force_grid(description, opensim_probe, postures)
    fitted: dict[str, Any] = dict(stored["muscles"])
    for group in symmetric_groups(description):
        if refit and not any(muscle["name"] in refit for muscle, _ in group):
            continue
        targets = [GeometryTargets(description, opensim_probe, muscle, postures[:40]) for muscle, _ in group]
        sites = fit_geometry(probe, group, targets)
        lengths = []
        for muscle, _ in group:
            tendon = order.index(muscle["name"])
            row = []
            for posture in postures:
                probe.pose(posture)
                row.append(probe.tendon_lengths()[tendon])
            lengths.append(np.array(row))
        references = [reference[:, :, order.index(muscle["name"])] for muscle, _ in group]
        parameters = fit_muscle(group[0][0], lengths, references)
        for muscle, mirrored in group:
            fitted[muscle["name"]] = {
                "fingerprint": muscle_fingerprint(description, muscle),
                "sites": {(mirrored_name(point) if mirrored else point):
                          [round(float(v), 6) for v in np.asarray(xyz) * (MIRROR if mirrored else 1.0)]
                          for point, xyz in sites.items()},
                "muscle": parameters,
                **({"mujoco": version} if refit else {}),
            }
    command = f"python -m osim.engine.mujoco.fit --model {name}"
    refit_command = f"{command} --refit {' '.join(refit)}"
    # a file holding only refitted muscles is made again by the refit, not by a whole fit
    result = {"model": name, "regenerate": stored.get("regenerate", refit_command if refit else command),
              "mujoco": stored.get("mujoco", version)}
    if refit:
        result["refit"] = refit_command
    return {**result, "muscles": fitted}


def freeze_model(name: str) -> dict[str, Any]:
    """The fit preset ``name`` builds with now (its own, or one it borrows from a model spanning
    the same joints), stored under its own fingerprints: refitting that other model then leaves
    this one as it is."""
    description = model_description(name)
    frozen: dict[str, Any] = {}
    for muscle in muscles(description):
        parameters = fitted_parameters(description, muscle)
        if parameters is None:
            raise ValueError(f"{name}: muscle {muscle['name']!r} has no stored fit to freeze")
        frozen[muscle["name"]] = {**parameters, "fingerprint": muscle_fingerprint(description, muscle)}
    versions = sorted({str(entry["mujoco"]) for entry in frozen.values()})
    return {"model": name, "frozen": f"python -m osim.engine.mujoco.fit --model {name} --freeze",
            "mujoco": ", ".join(versions), "muscles": frozen}


def data_path(name: str) -> Path:
    """Where the fit of preset ``name`` is stored (next to the builder)."""
    return Path(__file__).parent / "data" / f"{name}.json"


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: fit one model's muscles (or freeze the fit it uses) and write the fit data (JSON)."""
    arguments = model_command("osim.engine.mujoco.fit", __doc__, "default: osim/engine/mujoco/data/<model>.json", argv,
                              options=[("--freeze", {"action": "store_true",
                                                     "help": "store the fit the model builds with now as its own"}),
                                       ("--refit", {"nargs": "+", "default": [], "metavar": "MUSCLE",
                                                    "help": "fit only these muscles (and their mirrored partners), "
                                                            "keep the other stored entries"})])
    out = arguments.out or data_path(arguments.model)
    if not arguments.freeze and arguments.out is None and out.exists() and "frozen" in json.loads(out.read_text()):
        raise SystemExit(f"{out} is a frozen fit (policies were tuned on it); refitting it needs an explicit --out")
    result = freeze_model(arguments.model) if arguments.freeze else fit_model(arguments.model, arguments.refit)
    write_json(out, result)
    print(f"wrote {out} ({len(result['muscles'])} muscles)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

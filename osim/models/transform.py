"""Options that change a model description's numbers: scaling, muscle model, display geometry.

Each function takes a description and returns a new one; the builder then turns it into a model.
With the defaults (no scaling, Thelen2003 muscles) nothing is touched, so presets stay exact.
"""
from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np

Description = dict[str, Any]

#: Standing height (m) of the subject the gait models represent. Both families derive from
#: OpenSim's generic gait2354/gait2392 model of a 1.8 m, 75.16 kg adult (the 14-dof model keeps
#: that mass exactly: 75.1646 kg; the 9-dof model adds a 4.5 kg head).
NOMINAL_HEIGHT = {"gait9dof18musc": 1.8, "gait14dof22musc": 1.8}

#: Muscle models the builder can use instead of the originals' Thelen2003Muscle.
MUSCLE_MODELS = {
    "Thelen2003": "Thelen2003Muscle",
    "Millard2012Equilibrium": "Millard2012EquilibriumMuscle",
    "DeGrooteFregly2016": "DeGrooteFregly2016Muscle",
}

# Properties every muscle class shares with Thelen2003Muscle (same name, same meaning).
_COMMON_MUSCLE_PROPERTIES = (
    "appliesForce", "min_control", "max_control", "optimal_force", "max_isometric_force",
    "optimal_fiber_length", "tendon_slack_length", "pennation_angle_at_optimal",
    "max_contraction_velocity", "activation_time_constant", "deactivation_time_constant",
)
# Thelen parameters with an exact counterpart in DeGrooteFregly2016Muscle (both are strains at
# one normalised force). Millard2012's curves are left at their defaults: its tendon curve is
# built for a 4.9 % strain (the gait models' value) and needs a matching stiffness otherwise.
_DEGROOTE_FROM_THELEN = {
    "FmaxTendonStrain": "tendon_strain_at_one_norm_force",
    "FmaxMuscleStrain": "passive_fiber_strain_at_one_norm_force",
}


def total_mass(description: Description) -> float:
    """Sum of the body masses (kg)."""
    return float(sum(body["mass"] for body in description["bodies"]))


def is_muscle(force: dict[str, Any]) -> bool:
    """Whether a described force is a muscle (its type ends with ``Muscle``)."""
    return force["type"].endswith("Muscle")


def with_muscle_model(description: Description, muscle_model: str) -> Description:
    """Every Thelen2003Muscle replaced by ``muscle_model`` with the shared parameters carried over."""
    if muscle_model not in MUSCLE_MODELS:
        raise ValueError(f"muscle_model must be one of {sorted(MUSCLE_MODELS)}, got {muscle_model!r}")
    if muscle_model == "Thelen2003":
        return description
    target = MUSCLE_MODELS[muscle_model]
    result = copy.deepcopy(description)
    for force in result["forces"]:
        if force["type"] != "Thelen2003Muscle":
            continue
        old = force["properties"]
        new = {key: old[key] for key in _COMMON_MUSCLE_PROPERTIES if key in old}
        if target == "DeGrooteFregly2016Muscle":
            new.pop("optimal_force", None)  # DeGroote refuses it (max_isometric_force is the scale)
            new.update({_DEGROOTE_FROM_THELEN[key]: old[key] for key in _DEGROOTE_FROM_THELEN if key in old})
        force["type"], force["properties"] = target, new
    return result


def _translational_coordinates(description: Description) -> set[str]:
    """Coordinates measured in metres (scaled with length)."""
    names: set[str] = set()
    for joint in description["joints"]:
        coordinates = [c["name"] for c in joint.get("coordinates", [])]
        if joint["type"] == "PlanarJoint":
            names.update(coordinates[1:])  # rz, tx, ty
        elif joint["type"] in ("SliderJoint",):
            names.update(coordinates)
        elif joint["type"] == "FreeJoint":
            names.update(coordinates[3:])
        elif joint["type"] == "CustomJoint":
            rotational = {n for axis in joint["spatial_transform"][:3] for n in axis["coordinates"]}
            translational = {n for axis in joint["spatial_transform"][3:] for n in axis["coordinates"]}
            names.update(translational - rotational)
    return names


def _scale_function(function: dict[str, Any], factor: float) -> None:
    """Scale a function's output by ``factor`` (in place)."""
    if function["type"] == "Constant":
        function["value"] *= factor
    elif function["type"] == "LinearFunction":
        function["coefficients"] = [c * factor for c in function["coefficients"]]
    elif function["type"] == "SimmSpline":
        function["y"] = [y * factor for y in function["y"]]
    else:
        raise ValueError(f"cannot scale a {function['type']}")


def _times(values: list[float], factor: float) -> list[float]:
    return [v * factor for v in values]


def scaled(description: Description, family: str, height: float | None, mass: float | None) -> Description:
    """The description scaled to a subject of ``height`` (m) and ``mass`` (kg).

    Geometric similarity: every length by s = height / nominal height (segment frames, centres of
    mass, knee translation splines, path points, wrap objects, contact spheres, markers, fibre and
    tendon slack lengths, translational coordinates), every mass by k = mass / nominal mass and
    inertias by k s². Forces that must carry the body's weight scale so that the scaled subject
    stands like the original: muscle strength by k (same fraction of strength in the same pose),
    ligament and spring stiffness/damping (torque per angle) by k s, Hunt-Crossley stiffness by
    k / s² (so the feet sink in by s times the original depth).
    """
    if height is None and mass is None:
        return description
    nominal_mass = total_mass(description)
    if family not in NOMINAL_HEIGHT:
        raise ValueError(f"scaling is available for the gait models only, not for family {family!r}")
    for label, value in (("height", height), ("mass", mass)):
        if value is not None and not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise ValueError(f"{label} must be a positive number, got {value!r}")
    s = 1.0 if height is None else float(height) / NOMINAL_HEIGHT[family]
    k = 1.0 if mass is None else float(mass) / nominal_mass
    result = copy.deepcopy(description)
    translational = _translational_coordinates(result)
    for body in result["bodies"]:
        body["mass"] *= k
        body["mass_center"] = _times(body["mass_center"], s)
        body["inertia"] = _times(body["inertia"], k * s * s)
    for owner in [result.get("ground", {}), *result["bodies"]]:
        for wrap in owner.get("wrap_objects", []):
            for key in ("translation", "dimensions"):
                if key in wrap:
                    wrap[key] = _times(wrap[key], s)
            for key in ("radius", "length"):
                if key in wrap:
                    wrap[key] *= s
    for joint in result["joints"]:
        for key in ("parent_offset", "child_offset"):
            joint[key]["translation"] = _times(joint[key]["translation"], s)
        for axis in joint.get("spatial_transform", [])[3:]:
            # A translation driven by a translational coordinate already scales with it (the
            # coordinate's values are scaled below); one driven by an angle (knee) or constant
            # is a length itself.
            if not set(axis["coordinates"]) & translational:
                _scale_function(axis["function"], s)
        for coordinate in joint.get("coordinates", []):
            if coordinate["name"] in translational:
                for key in ("default_value", "default_speed_value"):
                    if key in coordinate:
                        coordinate[key] *= s
                if "range" in coordinate:
                    coordinate["range"] = _times(coordinate["range"], s)
    for force in result["forces"]:
        props = force.get("properties", {})
        if is_muscle(force):
            for key in ("optimal_fiber_length", "tendon_slack_length"):
                props[key] *= s
            props["max_isometric_force"] *= k
            for point in force["path"]["points"]:
                if "location" in point:
                    point["location"] = _times(point["location"], s)
                for axis in "xyz":
                    if axis in point:
                        _scale_function(point[axis]["function"], s)
        elif force["type"] == "HuntCrossleyForce":
            for parameters in force["contact_parameters"]:
                parameters["stiffness"] *= k / (s * s)
        elif force["type"] == "CoordinateLimitForce":
            for key in ("upper_stiffness", "lower_stiffness", "damping"):
                props[key] *= k * s
        elif force["type"] == "SpringGeneralizedForce":
            for key in ("stiffness", "viscosity"):
                props[key] *= k * s
        else:
            raise ValueError(f"do not know how to scale a {force['type']}")
    for geometry in result["contact_geometry"]:
        geometry["location"] = _times(geometry["location"], s)
        if "radius" in geometry:
            geometry["radius"] *= s
    for marker in result["markers"]:
        marker["location"] = _times(marker["location"], s)
    return result


def _function_value(function: dict[str, Any], x: float) -> float:
    if function["type"] == "Constant":
        return float(function["value"])
    if function["type"] == "LinearFunction":
        slope, intercept = function["coefficients"]
        return slope * x + intercept
    # A display estimate only: linear interpolation of the spline knots is close enough.
    return float(np.interp(x, function["x"], function["y"]))


def _joint_offset(joint: dict[str, Any]) -> np.ndarray:
    """Where the child's joint frame sits in the parent body at default coordinates (display only)."""
    offset = np.array(joint["parent_offset"]["translation"], dtype=float)
    if joint["type"] == "CustomJoint":
        defaults = {c["name"]: c.get("default_value", 0.0) for c in joint.get("coordinates", [])}
        for axis in joint["spatial_transform"][3:]:
            x = defaults.get(axis["coordinates"][0], 0.0) if axis["coordinates"] else 0.0
            offset = offset + np.array(axis["axis"]) * _function_value(axis["function"], x)
    return offset


def _orientation_y_to(direction: np.ndarray) -> list[float]:
    """Body-fixed XYZ angles of a rotation that takes the y axis onto ``direction``."""
    u = direction / np.linalg.norm(direction)
    y = np.array([0.0, 1.0, 0.0])
    axis = np.cross(y, u)
    sin, cos = np.linalg.norm(axis), float(np.dot(y, u))
    if sin < 1e-12:
        rotation = np.eye(3) if cos > 0 else np.diag([1.0, -1.0, -1.0])
    else:
        k = axis / sin
        skew = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
        rotation = np.eye(3) + sin * skew + (1 - cos) * skew @ skew
    beta = math.asin(max(-1.0, min(1.0, rotation[0, 2])))
    alpha = math.atan2(-rotation[1, 2], rotation[2, 2])
    gamma = math.atan2(-rotation[0, 1], rotation[0, 0])
    return [alpha, beta, gamma]


def _inertia_ellipsoid(body: dict[str, Any]) -> list[float]:
    """Semi-axes of the uniform solid ellipsoid with the body's mass and principal inertia."""
    if body["mass"] <= 0:
        return [0.0, 0.0, 0.0]
    xx, yy, zz = body["inertia"][:3]
    factor = 5.0 / (2.0 * body["mass"])  # I_xx = m (b^2 + c^2) / 5, and so on
    return [math.sqrt(max(factor * (b + c - a), 0.0)) for a, b, c in
            ((xx, yy, zz), (yy, zz, xx), (zz, xx, yy))]


def with_display_geometry(description: Description) -> Description:
    """Simple shapes for every body, sized from the segment (display only, no dynamics).

    A body gets one ellipsoid along each segment from its origin to a child joint (radius a tenth
    of the length, or half the girth of the body's inertia ellipsoid if larger); a body without such
    a segment (feet ends, head, hand, prosthetic foot) gets the ellipsoid of uniform density with its
    mass and inertia, centred at its centre of mass.
    Radii are clamped to 1.5-30 cm so that tiny or massless bodies stay visible and sane.
    """
    result = copy.deepcopy(description)
    display: dict[str, list[dict[str, Any]]] = {}
    for body in result["bodies"]:
        name = body["name"]
        shapes: list[dict[str, Any]] = []
        inertia_radii = sorted(_inertia_ellipsoid(body))
        # A heavy, wide segment (the torso) gets half the girth of its inertia ellipsoid.
        girth = 0.25 * (inertia_radii[0] + inertia_radii[1]) if body["mass"] > 0 else 0.0
        for joint in result["joints"]:
            if joint["parent"] != name:
                continue
            segment = _joint_offset(joint)
            length = float(np.linalg.norm(segment))
            if length < 0.04:
                continue
            half = length / 2
            thickness = min(max(0.1 * length, min(girth, 0.35 * length), 0.015), 0.3)
            shapes.append({"name": f"{name}_display_{len(shapes) + 1}", "type": "Ellipsoid",
                           "center": (segment / 2).tolist(), "orientation": _orientation_y_to(segment),
                           "radii": [thickness, half, thickness]})
        if not shapes and body["mass"] > 0:
            radii = _inertia_ellipsoid(body)
            shapes.append({"name": f"{name}_display_1", "type": "Ellipsoid",
                           "center": list(body["mass_center"]), "orientation": [0.0, 0.0, 0.0],
                           "radii": [min(max(r, 0.015), 0.3) for r in radii]})
        if shapes:
            display[name] = shapes
    result["display"] = display
    return result

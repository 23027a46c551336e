"""MJCF text from a model description (the data :mod:`osim.models.builder` builds OpenSim from).

What maps how (see docs/engines.md for the measurements):

* bodies: ``<body>`` nested along the joint tree, mass, centre of mass and full inertia exact;
* PinJoint -> hinge; PlanarJoint -> two slides + hinge; WeldJoint -> no joint; CustomJoint ->
  one slide/hinge per transform axis: an axis driven by one coordinate with slope 1 is that
  coordinate's joint, an axis driven by a spline (the knee translations) is an extra slide tied to
  its coordinate by a joint equality with a least-squares quartic (``polycoef``);
* locked coordinates stay joints (so the coordinate count matches) held by a joint equality;
  ``lockable`` ones (a scene's, e.g. the arm's target) get one that starts inactive;
* CoordinateLimitForce -> the joint's range; SpringGeneralizedForce -> joint stiffness/damping;
* muscles -> spatial tendons through sites + MuJoCo ``muscle`` actuators, in the force-set order
  (the action order of the OpenSim environments); ConditionalPathPoint and MovingPathPoint ->
  sites at fitted fixed locations (``data/*.json``; without a fit: the location at coordinate 0);
* ContactSphere -> sphere geoms, ContactHalfSpace -> a plane: a HuntCrossleyForce with a
  half-space is MuJoCo's automatic sphere-plane collision; one between spheres only (RunEnv's
  obstacles and the feet) is explicit frictionless contact pairs, its first sphere against each of
  the others on another body (OpenSim also makes the others touch one another, as the spheres of
  one foot force do; MuJoCo leaves those out for both kinds), with an impedance of
  :data:`~osim.engine.mujoco.sphere_contact.PAIR_IMPEDANCE` and a ``solref`` that the engine sets
  from the force's law once the bodies' inertias are compiled (:mod:`.sphere_contact`);
* wrap cylinders -> cylinder geoms, wrap ellipsoids -> spheres of the mean radius;
* a coordinate's ``armature`` (a scene's locked obstacle: its lock then holds under a foot's
  load, which a 0.1 g body's would not) -> the joint's armature.

The world keeps OpenSim's axes (y up), so every position is copied unchanged.
"""
from __future__ import annotations

import hashlib
import json
import math
import xml.etree.ElementTree as ET
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation

Description = dict[str, Any]

#: Simulation step of the generated model (s): five steps make one 0.01 s environment step.
DEFAULT_TIMESTEP = 0.002
#: Degree of the polynomial tying a spline-driven joint axis to its coordinate.
COUPLING_DEGREE = 4
#: MuJoCo normalised-length interval the tendon-length interval is mapped onto (see muscle_element).
NORMALISED_RANGE = (0.5, 1.5)


class MjcfError(ValueError):
    """A description uses something this MJCF builder does not map."""


def model_description(name: str, **options: Any) -> Description:
    """The description of preset ``name`` (what :func:`osim.models.build_model` would build)."""
    from osim.models import model_description as describe

    return describe(name, geometry=False, **options)


def numbers(values: Any) -> str:
    """Space-separated numbers, the MJCF way."""
    return " ".join(f"{float(v):.10g}" for v in np.ravel(values))


def quaternion(xyz_body_rotation: Any) -> np.ndarray:
    """MuJoCo quaternion (w, x, y, z) of OpenSim's body-fixed X-Y-Z rotation angles."""
    x, y, z, w = Rotation.from_euler("XYZ", [float(v) for v in xyz_body_rotation]).as_quat()
    return np.array([w, x, y, z])


def rotation_matrix(xyz_body_rotation: Any) -> np.ndarray:
    """Rotation matrix of OpenSim's body-fixed X-Y-Z rotation angles."""
    return Rotation.from_euler("XYZ", [float(v) for v in xyz_body_rotation]).as_matrix()


def function_values(spec: dict[str, Any], x: np.ndarray) -> np.ndarray:
    """Values of an OpenSim function spec (Constant, LinearFunction, SimmSpline) at ``x``."""
    import opensim

    from osim.models.builder import make_function

    function = make_function(spec)
    return np.array([function.calcValue(opensim.Vector(1, float(value))) for value in np.ravel(x)])


def quartic_fit(spec: dict[str, Any], lower: float, upper: float) -> tuple[np.ndarray, float]:
    """Least-squares polynomial (ascending coefficients) of a function over [lower, upper]
    and its largest deviation there (m)."""
    x = np.linspace(lower, upper, 200)
    y = function_values(spec, x)
    coefficients = np.polynomial.polynomial.polyfit(x, y, COUPLING_DEGREE)
    error = float(np.max(np.abs(np.polynomial.polynomial.polyval(x, coefficients) - y)))
    return coefficients, error


def frame_body(path: str) -> str:
    """Body name of an OpenSim frame path (``/bodyset/tibia_r`` -> ``tibia_r``; ground -> world)."""
    name = path.rstrip("/").rsplit("/", 1)[-1]
    return "world" if name == "ground" else name


def is_muscle(force: dict[str, Any]) -> bool:
    """Whether a force spec is a muscle (an actuator of the environments)."""
    return force["type"].endswith("Muscle")


def muscle_fingerprint(description: Description, muscle: dict[str, Any]) -> str:
    """A hash of everything a muscle's fitted parameters depend on (its spec and the joints)."""
    key = json.dumps({"muscle": muscle, "joints": description["joints"]}, sort_keys=True)
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def spanned_joints(description: Description, muscle: dict[str, Any]) -> list[dict[str, Any]]:
    """The joints between the bodies a muscle's path touches (what its length depends on)."""
    by_child = {frame_body(joint["child"]): joint for joint in description["joints"]}

    def chain(body: str) -> list[str]:
        bodies = [body]
        while bodies[-1] in by_child:
            bodies.append(frame_body(by_child[bodies[-1]]["parent"]))
        return bodies

    chains = [chain(frame_body(point["frame"])) for point in muscle["path"]["points"]]
    common = set.intersection(*(set(c) for c in chains)) if chains else set()
    joints: list[dict[str, Any]] = []
    for bodies in chains:
        for body in bodies:
            if body in common:
                break
            if by_child[body] not in joints:
                joints.append(by_child[body])
    return joints


def geometry_fingerprint(description: Description, muscle: dict[str, Any], keep_locked: bool = False) -> str:
    """A hash of the muscle and of the joints it spans, without their ``locked`` flags unless
    ``keep_locked``: what its fit depends on. Locking a coordinate (the planar variants) or changing
    another limb (the prosthesis) keeps a muscle's fit."""
    joints = [joint if keep_locked else
              {**joint, "coordinates": [{k: v for k, v in c.items() if k != "locked"}
                                        for c in joint.get("coordinates", [])]}
              for joint in spanned_joints(description, muscle)]
    key = json.dumps({"muscle": muscle, "joints": joints}, sort_keys=True)
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def free_coordinate_count(description: Description, muscle: dict[str, Any]) -> int:
    """How many unlocked coordinates the joints a muscle spans have."""
    return sum(not c.get("locked") for joint in spanned_joints(description, muscle)
               for c in joint.get("coordinates", []))


FitIndex = dict[str, dict[str, Any]]


@cache
def _fitted_index() -> tuple[FitIndex, FitIndex, FitIndex]:
    """The stored fits by exact fingerprint, by geometry fingerprint with the locked flags, and by
    geometry fingerprint alone. The geometry indexes are read off each fitted preset (the file's
    name) where its fit is still current; of two presets with the same geometry and different
    locks, the one with more free coordinates gives the locks-aside entry (a fit made with a
    coordinate free covers it locked; the planar model's frozen fit is for its own locks)."""
    folder = resources.files("osim.engine.mujoco").joinpath("data")
    exact: FitIndex = {}
    same_locks: FitIndex = {}
    geometry: FitIndex = {}
    free: dict[str, int] = {}
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if not entry.name.endswith(".json"):
            continue
        data = json.loads(entry.read_text())
        stored = data["muscles"]
        for parameters in stored.values():
            parameters.setdefault("mujoco", data["mujoco"])  # the version it was fitted with
            exact[parameters["fingerprint"]] = parameters
        description = model_description(entry.name[:-5])
        for muscle in description["forces"]:
            parameters = stored.get(muscle["name"]) if is_muscle(muscle) else None
            if parameters is None or parameters["fingerprint"] != muscle_fingerprint(description, muscle):
                continue
            same_locks.setdefault(geometry_fingerprint(description, muscle, keep_locked=True), parameters)
            key, count = geometry_fingerprint(description, muscle), free_coordinate_count(description, muscle)
            if count > free.get(key, -1):
                geometry[key], free[key] = parameters, count
    return exact, same_locks, geometry


def fitted_parameters(description: Description, muscle: dict[str, Any]) -> dict[str, Any] | None:
    """The stored fit of this muscle in this model, else in a model where it spans the same joints
    with the same locks, else in one where it spans the same joints; or None (then the direct
    mapping is used)."""
    exact, same_locks, geometry = _fitted_index()
    return (exact.get(muscle_fingerprint(description, muscle))
            or same_locks.get(geometry_fingerprint(description, muscle, keep_locked=True))
            or geometry.get(geometry_fingerprint(description, muscle)))


def coordinate_limits(description: Description) -> dict[str, tuple[float, float]]:
    """Joint ranges from the CoordinateLimitForces (radians), by coordinate name."""
    limits = {}
    for force in description["forces"]:
        if force["type"] == "CoordinateLimitForce":
            p = force["properties"]
            limits[p["coordinate"]] = (math.radians(p["lower_limit"]), math.radians(p["upper_limit"]))
    return limits


def coordinate_specs(description: Description) -> dict[str, dict[str, Any]]:
    """Coordinate specs by name."""
    return {c["name"]: c for joint in description["joints"] for c in joint.get("coordinates", [])}


def joint_axes(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The moving axes of a joint as ``{kind, axis, coordinate, function}`` (function None when
    the axis is the coordinate itself), translations first (they act in the parent frame)."""
    kind = spec["type"]
    names = [c["name"] for c in spec.get("coordinates", [])]
    if kind == "WeldJoint":
        return []
    if kind == "PinJoint":
        return [{"kind": "hinge", "axis": [0, 0, 1], "coordinate": names[0], "function": None}]
    if kind == "PlanarJoint":
        return [{"kind": "slide", "axis": [1, 0, 0], "coordinate": names[1], "function": None},
                {"kind": "slide", "axis": [0, 1, 0], "coordinate": names[2], "function": None},
                {"kind": "hinge", "axis": [0, 0, 1], "coordinate": names[0], "function": None}]
    if kind != "CustomJoint":
        raise MjcfError(f"joint {spec['name']!r}: type {kind!r} is not mapped to MJCF "
                        "(expected PinJoint, PlanarJoint, WeldJoint or CustomJoint)")
    axes = []
    for transform_axis in spec["spatial_transform"]:
        function = transform_axis["function"]
        rotation = transform_axis["name"].startswith("rotation")
        if function["type"] == "Constant":
            if float(function["value"]) != 0.0:
                raise MjcfError(f"joint {spec['name']!r}: a constant non-zero {transform_axis['name']}"
                                " is not mapped")
            continue
        if len(transform_axis["coordinates"]) != 1:
            raise MjcfError(f"joint {spec['name']!r}: {transform_axis['name']} depends on "
                            f"{transform_axis['coordinates']}; one coordinate per axis is expected")
        identity = function["type"] == "LinearFunction" and list(function["coefficients"]) == [1.0, 0.0]
        if rotation and not identity:
            raise MjcfError(f"joint {spec['name']!r}: {transform_axis['name']} must be the coordinate "
                            "itself (LinearFunction 1, 0)")
        axes.append({"kind": "hinge" if rotation else "slide", "axis": transform_axis["axis"],
                     "coordinate": transform_axis["coordinates"][0],
                     "function": None if identity else function,
                     "name": f"{spec['name']}_{transform_axis['name']}"})
    return sorted(axes, key=lambda axis: axis["kind"] != "slide")


class MjcfWriter:
    """Accumulates the MJCF tree of one description."""

    def __init__(self, description: Description, timestep: float, fitted: bool) -> None:
        self.description = description
        self.fitted = fitted
        self.coordinates = coordinate_specs(description)
        self.limits = coordinate_limits(description)
        self.root = ET.Element("mujoco", model=str(description["model"]["name"]))
        compiler = ET.SubElement(self.root, "compiler", angle="radian", autolimits="true")
        ET.SubElement(compiler, "lengthrange", mode="none")  # set explicitly by muscle_element
        ET.SubElement(self.root, "option", timestep=f"{timestep:g}", integrator="implicitfast",
                      gravity=numbers(description["model"]["gravity"]))
        self.world = ET.SubElement(self.root, "worldbody")
        self.tendons = ET.Element("tendon")
        self.actuators = ET.Element("actuator")
        self.equalities = ET.Element("equality")
        self.contact_pairs = ET.Element("contact")
        self.bodies: dict[str, ET.Element] = {"world": self.world}
        #: Largest deviation of each coupling polynomial from its spline (m), by joint name.
        self.coupling_errors: dict[str, float] = {}
        #: Default posture (the coordinates' default values) by MuJoCo joint name.
        self.default_qpos: dict[str, float] = {}

    def joint_element(self, body: ET.Element, joint: dict[str, Any], axis: dict[str, Any],
                      child_rotation: np.ndarray, anchor: np.ndarray) -> None:
        """One hinge/slide in ``body``; a spline axis also gets its coupling equality."""
        coordinate = axis["coordinate"]
        name = coordinate if axis["function"] is None else axis["name"]
        attributes = {"name": name, "type": axis["kind"], "pos": numbers(anchor),
                      "axis": numbers(child_rotation @ np.asarray(axis["axis"], float))}
        if axis["function"] is None:
            spec = self.coordinates[coordinate]
            if coordinate in self.limits:
                attributes["range"] = numbers(self.limits[coordinate])
            stiffness = self.spring(coordinate)
            if stiffness:
                attributes.update(stiffness)
            if "armature" in spec:
                attributes["armature"] = numbers([spec["armature"]])
            self.default_qpos[name] = float(spec.get("default_value", 0.0))
            if spec.get("locked") or spec.get("lockable"):
                # a lockable coordinate (locked and unlocked in the state, as OpenSim's setLocked):
                # its lock starts inactive; a stiff impedance so that a near-massless body under
                # gravity sags by under a micrometre in an episode, not by a fraction of a millimetre
                lock = {"name": f"lock_{coordinate}", "joint1": coordinate,
                        "polycoef": numbers([spec.get("default_value", 0.0), 0, 0, 0, 0])}
                if not spec.get("locked"):
                    lock.update(active="false", solimp="0.9999 0.9999 0.001")
                ET.SubElement(self.equalities, "joint", lock)
        else:
            lower, upper = self.coordinates[coordinate]["range"]
            coefficients, error = quartic_fit(axis["function"], lower, upper)
            self.coupling_errors[name] = error
            coupling = [0.0, *coefficients[1:]]  # the constant part is in the body position
            default = float(self.coordinates[coordinate].get("default_value", 0.0))
            self.default_qpos[name] = float(np.polynomial.polynomial.polyval(default, coupling))
            ET.SubElement(self.equalities, "joint", name=f"couple_{name}", joint1=name,
                          joint2=coordinate, polycoef=numbers(coupling))
        ET.SubElement(body, "joint", attributes)

    def spring(self, coordinate: str) -> dict[str, str]:
        """Joint stiffness/damping from a SpringGeneralizedForce on ``coordinate``."""
        for force in self.description["forces"]:
            p = force.get("properties", {})
            if force["type"] == "SpringGeneralizedForce" and p.get("coordinate") == coordinate:
                return {"stiffness": numbers([p["stiffness"]]), "springref": numbers([p["rest_length"]]),
                        "damping": numbers([p.get("viscosity", 0.0)])}
        return {}

    def add_body(self, body: dict[str, Any], joint: dict[str, Any]) -> None:
        """The child body of ``joint`` inside its parent, with the joint's MuJoCo joints."""
        parent = self.bodies.get(frame_body(joint["parent"]))
        if parent is None:
            raise MjcfError(f"joint {joint['name']!r}: parent body {joint['parent']!r} is not defined before it")
        axes = joint_axes(joint)
        parent_rotation = rotation_matrix(joint["parent_offset"]["orientation"])
        child_rotation = rotation_matrix(joint["child_offset"]["orientation"])
        child_translation = np.asarray(joint["child_offset"]["translation"], float)
        rest = np.zeros(3)  # translation of the joint at its coordinates' zero, parent-frame axes
        for axis in axes:
            if axis["kind"] == "slide" and axis["function"] is not None:
                lower, upper = self.coordinates[axis["coordinate"]]["range"]
                coefficients, _ = quartic_fit(axis["function"], lower, upper)
                rest += coefficients[0] * np.asarray(axis["axis"], float)
        position = (np.asarray(joint["parent_offset"]["translation"], float) + parent_rotation @ rest
                    - parent_rotation @ child_rotation.T @ child_translation)
        orientation = Rotation.from_matrix(parent_rotation @ child_rotation.T).as_quat()
        element = ET.SubElement(parent, "body", name=body["name"], pos=numbers(position),
                                quat=numbers([orientation[3], *orientation[:3]]))
        inertial = inertial_attributes(body)
        if inertial:
            ET.SubElement(element, "inertial", inertial)
        for axis in axes:
            self.joint_element(element, joint, axis, child_rotation, child_translation)
        self.bodies[body["name"]] = element

    def add_bodies(self) -> None:
        """All bodies, nested along the joint tree."""
        bodies = {body["name"]: body for body in self.description["bodies"]}
        for joint in self.description["joints"]:
            if frame_body(joint["child"]) not in bodies:
                raise MjcfError(f"joint {joint['name']!r}: unknown child body {joint['child']!r}")
            self.add_body(bodies[frame_body(joint["child"])], joint)
        missing = sorted(set(bodies) - set(self.bodies))
        if missing:
            raise MjcfError(f"bodies without a joint: {missing}")

    def add_wrap_objects(self) -> None:
        """Wrap cylinders and (as spheres) wrap ellipsoids, as non-colliding geoms."""
        sources = [("world", self.description.get("ground", {}).get("wrap_objects", []))]
        sources += [(body["name"], body.get("wrap_objects", [])) for body in self.description["bodies"]]
        for body, wraps in sources:
            for wrap in wraps:
                attributes = {"name": f"wrap_{wrap['name']}", "pos": numbers(wrap["translation"]),
                              "quat": numbers(quaternion(wrap["xyz_body_rotation"])),
                              "contype": "0", "conaffinity": "0", "group": "3", "mass": "0"}
                if wrap["type"] == "WrapCylinder":
                    attributes.update(type="cylinder", size=numbers([wrap["radius"], wrap["length"] / 2]))
                elif wrap["type"] in ("WrapEllipsoid", "WrapSphere"):
                    radius = wrap.get("radius", float(np.mean(wrap.get("dimensions", [0.01]))))
                    attributes.update(type="sphere", size=numbers([radius]))
                else:
                    raise MjcfError(f"wrap object type {wrap['type']!r} is not mapped")
                ET.SubElement(self.bodies[body], "geom", attributes)
                side = wrap_side(wrap)
                if side is not None:
                    ET.SubElement(self.bodies[body], "site", name=f"side_{wrap['name']}",
                                  pos=numbers(np.asarray(wrap["translation"], float) + side), group="3")

    def add_contacts(self) -> None:
        """Contact spheres and the ground half-space; the contact pairs of the sphere-only forces."""
        half_spaces = {g["name"] for g in self.description["contact_geometry"] if g["type"] == "ContactHalfSpace"}
        friction = {}
        for force in self.description["forces"]:
            for parameters in force.get("contact_parameters", []):
                if half_spaces & set(parameters["geometry"]):
                    for name in parameters["geometry"]:
                        friction[name] = parameters["dynamic_friction"]
        for geometry in self.description["contact_geometry"]:
            body = self.bodies[frame_body(geometry["frame"])]
            attributes = {"name": geometry["name"], "pos": numbers(geometry["location"]),
                          "friction": numbers([friction.get(geometry["name"], 0.8), 0.005, 0.0001])}
            if geometry["type"] == "ContactSphere":
                # a sphere of no ground force touches only through its force's pairs
                grounded = geometry["name"] in friction
                attributes.update(type="sphere", size=numbers([geometry["radius"]]),
                                  contype="1" if grounded else "0", conaffinity="0", mass="0")
            elif geometry["type"] == "ContactHalfSpace":
                # OpenSim's half-space has its outward normal along -x; MuJoCo's plane along +z.
                rotation = rotation_matrix(geometry["orientation"]) @ Rotation.from_euler("y", -math.pi / 2).as_matrix()
                x, y, z, w = Rotation.from_matrix(rotation).as_quat()
                attributes.update(type="plane", size="0 0 1", contype="0", conaffinity="1",
                                  quat=numbers([w, x, y, z]))
            else:
                raise MjcfError(f"contact geometry type {geometry['type']!r} is not mapped")
            ET.SubElement(body, "geom", attributes)
        self.add_sphere_pairs(half_spaces)

    def add_sphere_pairs(self, half_spaces: set[str]) -> None:
        """The explicit pairs of every HuntCrossleyForce between spheres only (see the module)."""
        from .sphere_contact import PAIR_IMPEDANCE

        geometry_body = {g["name"]: frame_body(g["frame"]) for g in self.description["contact_geometry"]}
        for force in self.description["forces"]:
            for parameters in force.get("contact_parameters", []):
                names = list(parameters["geometry"])
                if half_spaces & set(names) or len(names) < 2:
                    continue
                unknown = sorted(set(names) - set(geometry_body))
                if unknown:
                    raise MjcfError(f"force {force['name']!r}: unknown contact geometry {unknown}")
                first, *others = names
                frictionless = not any(parameters[key] for key in ("static_friction", "dynamic_friction"))
                for other in others:
                    if geometry_body[other] == geometry_body[first]:
                        continue  # OpenSim's contact ignores two surfaces of one body too
                    attributes = {"name": sphere_pair_name(force["name"], other), "geom1": first, "geom2": other,
                                  "condim": "1" if frictionless else "3",
                                  "solimp": numbers([PAIR_IMPEDANCE, PAIR_IMPEDANCE, 0.001, 0.5, 2])}
                    if not frictionless:
                        attributes["friction"] = numbers([parameters["dynamic_friction"]] * 2 + [0.005, 0.0001, 0.0001])
                    ET.SubElement(self.contact_pairs, "pair", attributes)

    def add_muscle(self, muscle: dict[str, Any]) -> None:
        """The spatial tendon and the muscle actuator of one OpenSim muscle."""
        fit = (fitted_parameters(self.description, muscle) if self.fitted else None) or {}
        locations = fit.get("sites", {})
        tendon = ET.SubElement(self.tendons, "spatial", name=muscle["name"])
        points = muscle["path"]["points"]
        wraps = {wrap["wrap_object"]: wrap for wrap in muscle["path"].get("wraps", [])}
        wrap_segments = wrap_positions(self.description, points, list(wraps.values()))
        for index, point in enumerate(points):
            name = f"{muscle['name']}-{point['name']}"
            location = locations.get(point["name"]) or default_location(point)
            ET.SubElement(self.bodies[frame_body(point["frame"])], "site", name=name,
                          pos=numbers(location), group="4")
            ET.SubElement(tendon, "site", site=name)
            for wrap_name in wrap_segments.get(index, []):
                attributes = {"geom": f"wrap_{wrap_name}"}
                if self.root.find(f".//site[@name='side_{wrap_name}']") is not None:
                    attributes["sidesite"] = f"side_{wrap_name}"
                ET.SubElement(tendon, "geom", attributes)
        self.actuators.append(muscle_element(muscle, fit.get("muscle")))

    def add_muscles(self) -> None:
        """Add a tendon and an actuator for every muscle of the description."""
        for force in self.description["forces"]:
            if is_muscle(force):
                self.add_muscle(force)

    def text(self) -> str:
        """The finished MJCF document (tendons, equalities, actuators, default keyframe)."""
        for element in (self.contact_pairs, self.tendons, self.equalities, self.actuators):
            if len(element):
                self.root.append(element)
        keyframes = ET.SubElement(self.root, "keyframe")
        order = [joint.get("name") for joint in self.world.iter("joint")]  # MuJoCo's qpos order
        ET.SubElement(keyframes, "key", name="default",
                      qpos=numbers([self.default_qpos[str(name)] for name in order]))
        ET.indent(self.root)
        return ET.tostring(self.root, encoding="unicode")


def sphere_pair_name(force: str, geometry: str) -> str:
    """The MuJoCo name of the contact pair of a sphere-only force with its geometry ``geometry``."""
    return f"{force}/{geometry}"


def inertial_attributes(body: dict[str, Any]) -> dict[str, str]:
    """``<inertial>`` of a body: its full inertia, a point mass when the inertia is zero, nothing
    for a massless body (MuJoCo accepts both for bodies without joints)."""
    inertia = np.asarray(body["inertia"], float)
    if float(body["mass"]) == 0.0:
        return {}
    attributes = {"pos": numbers(body["mass_center"]), "mass": numbers([body["mass"]])}
    if np.all(inertia == 0.0):
        attributes["diaginertia"] = "0 0 0"
    else:
        attributes["fullinertia"] = numbers(inertia)
    return attributes


def wrap_side(wrap: dict[str, Any]) -> np.ndarray | None:
    """Offset (body frame) of the side site of a wrap object's quadrant, None for 'all'."""
    quadrant = wrap.get("quadrant", "all").strip()
    if quadrant in ("all", ""):
        return None
    sign = -1.0 if quadrant.startswith("-") else 1.0
    local = np.zeros(3)
    local["xyz".index(quadrant[-1])] = sign * 2 * wrap.get("radius", max(wrap.get("dimensions", [0.01])))
    return rotation_matrix(wrap["xyz_body_rotation"]) @ local


def wrap_positions(description: Description, points: list[dict[str, Any]],
                   wraps: list[dict[str, Any]]) -> dict[int, list[str]]:
    """After which path point each wrap object goes: within its point range, else the segment
    joining two bodies whose end on the wrap object's body is nearest to the object (the arm's
    TRI cylinder at the elbow goes on the elbow segment, the humeral head's ellipsoid on the
    shoulder's). MuJoCo takes one wrap object per segment: later ones on an occupied segment are
    dropped (the arm's TRIlong keeps two of its three)."""
    placed = {wrap["name"]: (frame_body(body.get("name", "ground")), np.asarray(wrap["translation"], float))
              for body in [description.get("ground", {}), *description["bodies"]]
              for wrap in body.get("wrap_objects", [])}
    joining = [i for i in range(len(points) - 1) if points[i]["frame"] != points[i + 1]["frame"]]
    positions: dict[int, list[str]] = {}
    for wrap in wraps:
        first, last = (int(v) for v in wrap.get("range", [-1, -1]))
        if 0 < first < last <= len(points):
            index = first - 1
        else:
            index = _nearest_segment(points, joining, *placed.get(wrap["wrap_object"], ("", np.zeros(3))))
        if index not in positions and index < len(points) - 1:
            positions[index] = [wrap["wrap_object"]]
    return positions


def _nearest_segment(points: list[dict[str, Any]], segments: list[int], body: str, location: np.ndarray) -> int:
    """Of ``segments`` (indices of their first point), the one with an end on ``body`` nearest to
    ``location`` (body frame); the first segment when none ends on ``body`` (or there is none)."""
    best, distance = (segments[0] if segments else 0), math.inf
    for index in segments:
        for point in (points[index], points[index + 1]):
            if frame_body(point["frame"]) == body:
                gap = float(np.linalg.norm(np.asarray(default_location(point), float) - location))
                if gap < distance:
                    best, distance = index, gap
    return best


def default_location(point: dict[str, Any]) -> list[float]:
    """A path point's location; a moving point's at coordinate value 0."""
    if point["type"] == "MovingPathPoint":
        return [float(function_values(point[axis]["function"], np.zeros(1))[0]) for axis in "xyz"]
    return point["location"]


def direct_muscle_parameters(muscle: dict[str, Any]) -> dict[str, float]:
    """MuJoCo muscle parameters read off the Thelen2003 parameters (rigid tendon, no fit)."""
    p = muscle["properties"]
    pennation = float(p.get("pennation_angle_at_optimal", 0.0))
    return {"slack": float(p["tendon_slack_length"]),
            "optimal": float(p["optimal_fiber_length"]) * math.cos(pennation),
            "force": float(p["max_isometric_force"]) * math.cos(pennation),
            "lmin": 0.5, "lmax": 1.6, "fpmax": 1.0,
            "vmax": float(p.get("max_contraction_velocity", 10.0)),
            "fvmax": float(p.get("Flen", 1.4))}


def muscle_element(muscle: dict[str, Any], fitted: dict[str, float] | None) -> ET.Element:
    """The ``<muscle>`` actuator. The tendon length L maps to MuJoCo's normalised length
    (L - slack) / optimal: the length range is [slack + 0.5 optimal, slack + 1.5 optimal] and the
    normalised range [0.5, 1.5], so no length-range computation is needed at compile time."""
    p = muscle["properties"]
    values = {**direct_muscle_parameters(muscle), **(fitted or {})}
    low, high = NORMALISED_RANGE
    length_range = [values["slack"] + low * values["optimal"], values["slack"] + high * values["optimal"]]
    return ET.Element("muscle", {
        "name": muscle["name"], "tendon": muscle["name"],
        "timeconst": numbers([p.get("activation_time_constant", 0.01), p.get("deactivation_time_constant", 0.04)]),
        "range": numbers(NORMALISED_RANGE), "lengthrange": numbers(length_range),
        "force": numbers([values["force"]]), "lmin": numbers([values["lmin"]]),
        "lmax": numbers([values["lmax"]]), "vmax": numbers([values["vmax"]]),
        "fpmax": numbers([values["fpmax"]]), "fvmax": numbers([values["fvmax"]]),
        "ctrlrange": "0 1",
    })


def build_mjcf(description: Description | str, timestep: float = DEFAULT_TIMESTEP, fitted: bool = True,
               **options: Any) -> str:
    """MJCF text of a model description (or of preset ``description`` built with ``options``);
    ``fitted=False`` ignores the stored fits (the direct mapping of every muscle)."""
    if isinstance(description, str):
        description = model_description(description, **options)
    elif options:
        raise TypeError("model options go with a preset name, not with a description")
    if not isinstance(description, dict) or "bodies" not in description or "joints" not in description:
        raise MjcfError("expected a model description (a dict with 'bodies', 'joints', 'forces', ...) "
                        f"or a preset name, got {type(description).__name__}")
    writer = MjcfWriter(description, timestep, fitted)
    writer.add_bodies()
    writer.add_wrap_objects()
    writer.add_contacts()
    writer.add_muscles()
    return writer.text()

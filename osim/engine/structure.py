"""Reading an OpenSim model's structure into the engine-neutral :class:`ModelStructure`.

Called once per model structure (after the last ``initSystem``); everything it returns is plain
Python data. The positions of each coordinate's value and speed in OpenSim's Q and U vectors are
found by writing a distinct value for every coordinate into a copy of a state and looking where
each one lands (Simbody's matter subsystem, which knows them, is not wrapped for Python).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import opensim

from .interface import (
    BodyInfo,
    ContactGeometryInfo,
    ContactKind,
    CoordinateInfo,
    JointInfo,
    MarkerInfo,
    ModelStructure,
    MotionType,
    MuscleInfo,
    Vec3,
)

#: OpenSim's ``Coordinate::MotionType`` values by name (the only place that knows the numbers).
MOTION_TYPES: dict[int, MotionType] = {
    opensim.Coordinate.Rotational: "rotational",
    opensim.Coordinate.Translational: "translational",
    opensim.Coordinate.Coupled: "coupled",
}
#: Coordinate k is probed with the value _PROBE_BASE + k: no default value or speed is near it.
_PROBE_BASE = 7.0e6


def vec3(vector: Any) -> np.ndarray:
    """An OpenSim ``Vec3`` as a NumPy array."""
    return np.array([vector[0], vector[1], vector[2]], dtype=float)


def _items(component_set: Any) -> list[Any]:
    """The members of an OpenSim set (``getSize``/``get``), in order."""
    return [component_set.get(i) for i in range(component_set.getSize())]


def _triple(vector: Any) -> Vec3:
    return (float(vector[0]), float(vector[1]), float(vector[2]))


def rotation_from_body_fixed_xyz(angles: Any) -> np.ndarray:
    """The rotation matrix of body-fixed X-Y-Z angles (as reported in ``body_pos_rot``)."""
    a, b, c = angles
    ca, sa, cb, sb, cc, sc = math.cos(a), math.sin(a), math.cos(b), math.sin(b), math.cos(c), math.sin(c)
    rx = np.array([[1.0, 0.0, 0.0], [0.0, ca, -sa], [0.0, sa, ca]])
    ry = np.array([[cb, 0.0, sb], [0.0, 1.0, 0.0], [-sb, 0.0, cb]])
    rz = np.array([[cc, -sc, 0.0], [sc, cc, 0.0], [0.0, 0.0, 1.0]])
    return rx @ ry @ rz


def body_fixed_xyz(rotation: np.ndarray) -> Vec3:
    """The body-fixed X-Y-Z angles of a rotation matrix (inverse of :func:`rotation_from_body_fixed_xyz`)."""
    b = float(np.arcsin(np.clip(rotation[0, 2], -1.0, 1.0)))
    a = float(np.arctan2(-rotation[1, 2], rotation[2, 2]))
    c = float(np.arctan2(-rotation[0, 1], rotation[0, 0]))
    return (a, b, c)


def rotation_of(transform: opensim.Transform) -> np.ndarray:
    """The rotation matrix of an OpenSim ``Transform``."""
    return rotation_from_body_fixed_xyz(vec3(transform.R().convertRotationToBodyFixedXYZ()))


def offset_in_base(frame: opensim.Frame, location: Any = (0.0, 0.0, 0.0)) -> tuple[str, np.ndarray]:
    """(name of the base frame, position of ``location`` given in ``frame``, expressed in the base frame)."""
    base = frame.findBaseFrame()
    transform = frame.findTransformInBaseFrame()
    point = vec3(transform.p()) + rotation_of(transform) @ np.asarray(location, dtype=float)
    return base.getName(), point


def _placed(frame: opensim.Frame, location: Any, orientation: Any) -> tuple[str, Vec3, Vec3]:
    """(base body, location, orientation) of something placed in ``frame``, in the base body's frame."""
    base = frame.findBaseFrame()
    if base.getAbsolutePathString() == frame.getAbsolutePathString():
        return base.getName(), _triple(location), _triple(orientation)  # exactly as in the model
    body, point = offset_in_base(frame, vec3(location))
    rotation = rotation_of(frame.findTransformInBaseFrame()) @ rotation_from_body_fixed_xyz(vec3(orientation))
    return body, _triple(point), body_fixed_xyz(rotation)


def generalized_indices(state: opensim.State, coordinates: list[opensim.Coordinate]) -> list[tuple[int, int]]:
    """(Q index, U index) of each coordinate, found on a copy of ``state``."""
    probe = opensim.State(state)
    for k, coordinate in enumerate(coordinates):
        coordinate.setLocked(probe, False)
        coordinate.setValue(probe, _PROBE_BASE + k, False)
        coordinate.setSpeedValue(probe, _PROBE_BASE + k)
    q, u = probe.getQ().to_numpy(), probe.getU().to_numpy()
    indices = []
    for k, coordinate in enumerate(coordinates):
        in_q, in_u = np.flatnonzero(q == _PROBE_BASE + k), np.flatnonzero(u == _PROBE_BASE + k)
        if in_q.size != 1 or in_u.size != 1:
            raise RuntimeError(f"coordinate {coordinate.getName()!r} has no single entry in the state's Q and U")
        indices.append((int(in_q[0]), int(in_u[0])))
    return indices


def _coordinates(model: opensim.Model, state: opensim.State, columns: dict[str, int]) -> tuple[CoordinateInfo, ...]:
    coordinates = _items(model.getCoordinateSet())
    return tuple(
        CoordinateInfo(
            name=c.getName(),
            joint=c.getJoint().getName(),
            motion_type=MOTION_TYPES[c.getMotionType()],
            index=q_index,
            speed_index=u_index,
            value_column=columns[c.getAbsolutePathString() + "/value"],
            locked=bool(c.getDefaultLocked()),
            range=(float(c.getRangeMin()), float(c.getRangeMax())),
            default_value=float(c.getDefaultValue()),
        )
        for c, (q_index, u_index) in zip(coordinates, generalized_indices(state, coordinates))
    )


def _joints(model: opensim.Model) -> tuple[JointInfo, ...]:
    return tuple(
        JointInfo(
            name=joint.getName(),
            parent=joint.getParentFrame().findBaseFrame().getName(),
            child=joint.getChildFrame().findBaseFrame().getName(),
            coordinates=tuple(joint.get_coordinates(k).getName() for k in range(joint.numCoordinates())),
        )
        for joint in _items(model.getJointSet())
    )


def _muscles(model: opensim.Model, columns: dict[str, int]) -> tuple[MuscleInfo, ...]:
    return tuple(
        MuscleInfo(
            name=muscle.getName(),
            max_isometric_force=float(muscle.getMaxIsometricForce()),
            optimal_fiber_length=float(muscle.getOptimalFiberLength()),
            tendon_slack_length=float(muscle.getTendonSlackLength()),
            pennation_angle=float(muscle.getPennationAngleAtOptimalFiberLength()),
            max_contraction_velocity=float(muscle.getMaxContractionVelocity()),
            kind=muscle.getConcreteClassName(),
            activation_column=columns.get(muscle.getAbsolutePathString() + "/activation"),
        )
        for muscle in _items(model.getMuscles())
    )


def _bodies(model: opensim.Model) -> tuple[BodyInfo, ...]:
    return tuple(
        BodyInfo(
            name=body.getName(),
            mass=float(body.getMass()),
            mass_center=_triple(body.getMassCenter()),
            inertia=(*_triple(body.getInertia().getMoments()), *_triple(body.getInertia().getProducts())),
        )
        for body in _items(model.getBodySet())
    )


def _contact_kind(geometry: opensim.ContactGeometry) -> tuple[ContactKind, float | None]:
    sphere = opensim.ContactSphere.safeDownCast(geometry)
    if sphere is not None:
        return "sphere", float(sphere.getRadius())
    if opensim.ContactHalfSpace.safeDownCast(geometry) is not None:
        return "half_space", None
    if opensim.ContactMesh.safeDownCast(geometry) is not None:
        return "mesh", None
    return "other", None


def _contact_geometry(model: opensim.Model) -> tuple[ContactGeometryInfo, ...]:
    infos = []
    for geometry in _items(model.getContactGeometrySet()):
        kind, radius = _contact_kind(geometry)
        body, location, orientation = _placed(geometry.getFrame(), geometry.get_location(), geometry.get_orientation())
        infos.append(ContactGeometryInfo(geometry.getName(), body, kind, radius, location, orientation))
    return tuple(infos)


def _markers(model: opensim.Model) -> tuple[MarkerInfo, ...]:
    infos = []
    for marker in _items(model.getMarkerSet()):
        body, location, _ = _placed(marker.getParentFrame(), marker.get_location(), (0.0, 0.0, 0.0))
        infos.append(MarkerInfo(marker.getName(), body, location))
    return tuple(infos)


def read_structure(model: opensim.Model, state: opensim.State) -> ModelStructure:
    """The structure of an initialised ``model``; ``state`` is any state of its current system."""
    names = model.getStateVariableNames()
    state_variables = tuple(names.get(i) for i in range(names.getSize()))
    columns = {name: i for i, name in enumerate(state_variables)}
    return ModelStructure(
        name=model.getName(),
        coordinates=_coordinates(model, state, columns),
        joints=_joints(model),
        muscles=_muscles(model, columns),
        bodies=_bodies(model),
        contact_geometry=_contact_geometry(model),
        markers=_markers(model),
        forces=tuple(force.getName() for force in _items(model.getForceSet())),
        state_variables=state_variables,
    )

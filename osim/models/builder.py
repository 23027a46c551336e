"""Build an ``opensim.Model`` from a model description (see :mod:`osim.models.description`).

The builder uses the OpenSim API only; it creates components in the order the description lists
them, which is the order of the original files, so that the multibody tree, the state vector and
the force set (the action order of the environments) match the originals.
"""
from __future__ import annotations

from typing import Any

import opensim

from .properties import set_property, vec3

Description = dict[str, Any]


class ModelDescriptionError(ValueError):
    """A description cannot be built (unknown type, missing body, ...)."""


def opensim_class(type_name: str) -> type:
    """The OpenSim Python class called ``type_name``."""
    cls = getattr(opensim, type_name, None)
    if cls is None:
        raise ModelDescriptionError(f"OpenSim has no component type {type_name!r}")
    return cls


def make_function(spec: dict[str, Any]) -> opensim.Function:
    """A Constant, LinearFunction or SimmSpline from ``{"type": ..., parameters}``."""
    kind = spec["type"]
    if kind == "Constant":
        return opensim.Constant(float(spec["value"]))
    if kind == "LinearFunction":
        slope, intercept = spec["coefficients"]
        return opensim.LinearFunction(float(slope), float(intercept))
    if kind == "SimmSpline":
        spline = opensim.SimmSpline()
        for x, y in zip(spec["x"], spec["y"], strict=True):
            spline.addPoint(float(x), float(y))
        return spline
    raise ModelDescriptionError(f"unsupported function type {kind!r}")


def connect(component: opensim.Component, socket: str, path: str) -> None:
    """Point ``socket`` of ``component`` at the component with absolute ``path``."""
    component.updSocket(socket).setConnecteePath(path)


def make_wrap_object(spec: dict[str, Any]) -> opensim.WrapObject:
    """A wrap object of the described type with its properties set."""
    wrap = opensim_class(spec["type"])()
    wrap.setName(spec["name"])
    for key, value in spec.items():
        if key not in ("type", "name"):
            set_property(wrap, key, value)
    return wrap


def make_spatial_transform(axes: list[dict[str, Any]]) -> opensim.SpatialTransform:
    """A spatial transform from the six described axes (three rotations, three translations)."""
    transform = opensim.SpatialTransform()
    expected = ["rotation1", "rotation2", "rotation3", "translation1", "translation2", "translation3"]
    if [axis["name"] for axis in axes] != expected:
        raise ModelDescriptionError(f"a spatial transform has the six axes {expected}")
    for index, axis in enumerate(axes):
        transform_axis = transform.updTransformAxis(index)
        names = opensim.ArrayStr()
        for name in axis["coordinates"]:
            names.append(name)
        transform_axis.setCoordinateNames(names)
        transform_axis.setAxis(vec3(axis["axis"]))
        transform_axis.set_function(make_function(axis["function"]))
    return transform


def make_joint(spec: dict[str, Any], frames: dict[str, opensim.PhysicalFrame]) -> opensim.Joint:
    """The described joint between two of the ``frames`` built so far."""
    for side in ("parent", "child"):
        if spec[side] not in frames:
            raise ModelDescriptionError(
                f"joint {spec['name']!r}: {side} body {spec[side]!r} is not defined before it"
            )
    cls = opensim_class(spec["type"])
    arguments = [
        spec["name"],
        frames[spec["parent"]], vec3(spec["parent_offset"]["translation"]),
        vec3(spec["parent_offset"]["orientation"]),
        frames[spec["child"]], vec3(spec["child_offset"]["translation"]),
        vec3(spec["child_offset"]["orientation"]),
    ]
    if spec["type"] == "CustomJoint":
        arguments.append(make_spatial_transform(spec["spatial_transform"]))
    joint = cls(*arguments)
    if spec["type"] == "CustomJoint":
        joint.finalizeFromProperties()  # creates the coordinates named in the spatial transform
    coordinates = spec.get("coordinates", [])
    if joint.numCoordinates() != len(coordinates):
        raise ModelDescriptionError(
            f"joint {spec['name']!r} ({spec['type']}) has {joint.numCoordinates()} coordinates, "
            f"the description lists {len(coordinates)}"
        )
    for index, coordinate_spec in enumerate(coordinates):
        coordinate = joint.upd_coordinates(index)
        if spec["type"] != "CustomJoint":
            coordinate.setName(coordinate_spec["name"])
        elif coordinate.getName() != coordinate_spec["name"]:
            raise ModelDescriptionError(
                f"joint {spec['name']!r}: coordinate {index} is {coordinate.getName()!r} in the "
                f"spatial transform, {coordinate_spec['name']!r} in the description"
            )
        for key, value in coordinate_spec.items():
            if key != "name":
                set_property(coordinate, key, value)
    return joint


def make_path_point(spec: dict[str, Any]) -> opensim.AbstractPathPoint:
    """A path point (fixed, conditional or moving) attached to its frame."""
    kind = spec["type"]
    point = opensim_class(kind)()
    point.setName(spec["name"])
    connect(point, "parent_frame", spec["frame"])
    if kind in ("PathPoint", "ConditionalPathPoint"):
        point.set_location(vec3(spec["location"]))
    if kind == "ConditionalPathPoint":
        connect(point, "coordinate", spec["coordinate"])
        set_property(point, "range", spec["range"])
    elif kind == "MovingPathPoint":
        for axis in "xyz":
            connect(point, f"{axis}_coordinate", spec[axis]["coordinate"])
            getattr(point, f"set_{axis}_location")(make_function(spec[axis]["function"]))
    elif kind != "PathPoint":
        raise ModelDescriptionError(f"unsupported path point type {kind!r}")
    return point


def fill_geometry_path(path: opensim.GeometryPath, spec: dict[str, Any]) -> None:
    """Add the described colour, path points and wraps to ``path``."""
    if "color" in spec:
        path.upd_Appearance().set_color(vec3(spec["color"]))
    points = path.updPathPointSet()
    for point_spec in spec["points"]:
        points.adoptAndAppend(make_path_point(point_spec))
    for wrap_spec in spec.get("wraps", []):
        wrap = opensim.PathWrap()
        wrap.setName(wrap_spec["name"])
        for key, value in wrap_spec.items():
            if key != "name":
                set_property(wrap, key, value)
        path.updWrapSet().cloneAndAppend(wrap)


def make_force(spec: dict[str, Any]) -> opensim.Force:
    """A force (muscle, ligament, contact, ...) of the described type with its properties and path."""
    force = opensim_class(spec["type"])()
    force.setName(spec["name"])
    for key, value in spec.get("properties", {}).items():
        set_property(force, key, value)
    if "path" in spec:
        fill_geometry_path(force.updGeometryPath(), spec["path"])
    parameters = spec.get("contact_parameters")
    if parameters is not None:
        if len(parameters) != 1:
            raise ModelDescriptionError("a HuntCrossleyForce takes exactly one set of contact parameters")
        (values,) = parameters
        for name in values["geometry"]:
            force.addGeometry(name)
        force.setStiffness(float(values["stiffness"]))
        force.setDissipation(float(values["dissipation"]))
        force.setStaticFriction(float(values["static_friction"]))
        force.setDynamicFriction(float(values["dynamic_friction"]))
        force.setViscousFriction(float(values["viscous_friction"]))
    return force


def make_contact_geometry(spec: dict[str, Any]) -> opensim.ContactGeometry:
    """A contact geometry on its frame, with location, orientation and radius."""
    geometry = opensim_class(spec["type"])()
    geometry.setName(spec["name"])
    connect(geometry, "frame", spec["frame"])
    for key in ("location", "orientation", "radius"):
        if key in spec:
            set_property(geometry, key, spec[key])
    return geometry


def make_marker(spec: dict[str, Any]) -> opensim.Marker:
    """A marker on its frame at the described location."""
    marker = opensim.Marker()
    marker.setName(spec["name"])
    connect(marker, "parent_frame", spec["frame"])
    marker.set_location(vec3(spec["location"]))
    marker.set_fixed(bool(spec.get("fixed", False)))
    return marker


def add_display_geometry(body: opensim.PhysicalFrame, shapes: list[dict[str, Any]]) -> None:
    """Attach simple shapes (display only: they carry no mass and take part in no contact)."""
    for shape in shapes:
        frame = opensim.PhysicalOffsetFrame(
            shape["name"], body, opensim.Transform(opensim.Rotation(), vec3(shape["center"]))
        )
        if shape.get("orientation"):
            frame.set_orientation(vec3(shape["orientation"]))
        body.addComponent(frame)
        kind = shape["type"]
        if kind == "Ellipsoid":
            geometry = opensim.Ellipsoid(*[float(r) for r in shape["radii"]])
        elif kind == "Cylinder":
            geometry = opensim.Cylinder(float(shape["radius"]), float(shape["half_height"]))
        elif kind == "Sphere":
            geometry = opensim.Sphere(float(shape["radius"]))
        else:
            raise ModelDescriptionError(f"unsupported display shape {kind!r}")
        geometry.setColor(vec3(shape.get("color", [0.9, 0.85, 0.75])))
        frame.attachGeometry(geometry)


def build(description: Description) -> opensim.Model:
    """An ``opensim.Model`` built from ``description`` (connected, not yet initialised)."""
    header = description["model"]
    model = opensim.Model()
    model.setName(header["name"])
    for key in ("credits", "publications", "length_units", "force_units"):
        if key in header:
            set_property(model, key, header[key])
    model.setGravity(vec3(header["gravity"]))
    frames: dict[str, opensim.PhysicalFrame] = {"ground": model.updGround()}
    ground = description.get("ground", {})
    for wrap_spec in ground.get("wrap_objects", []):
        model.updGround().addWrapObject(make_wrap_object(wrap_spec))
    for spec in description["bodies"]:
        com = vec3(spec["mass_center"])
        inertia = opensim.Inertia(*[float(v) for v in spec["inertia"]])
        body = opensim.Body(spec["name"], float(spec["mass"]), com, inertia)
        for wrap_spec in spec.get("wrap_objects", []):
            body.addWrapObject(make_wrap_object(wrap_spec))
        model.addBody(body)
        frames[spec["name"]] = body
    for spec in description["joints"]:
        model.addJoint(make_joint(spec, frames))
    for spec in description["forces"]:
        model.addForce(make_force(spec))
    for spec in description["contact_geometry"]:
        model.addContactGeometry(make_contact_geometry(spec))
    for spec in description["markers"]:
        model.addMarker(make_marker(spec))
    for name, shapes in description.get("display", {}).items():
        if name not in frames:
            raise ModelDescriptionError(f"display geometry for unknown body {name!r}")
        add_display_geometry(frames[name], shapes)
    model.finalizeConnections()
    return model

"""Components that environments add to a model: the NIPS 2017 obstacles and the arm's target.

This is the engine half of those environments (spec §3.3, §3.7); the environments decide *where*
things go and compute everything else from the state description. Both run on every engine: on
OpenSim the original's calls (:func:`add_opensim_obstacles`, :func:`add_arm_target`, ...), on
another engine the same bodies, joints, contact spheres and contact forces as model-description
parts (:func:`obstacle_parts`, :func:`arm_target_parts`) that the engine builds (``add_bodies``),
poses and locks (``set_coordinates``) and sizes (``set_contact_spheres``,
``set_contact_stiffness``). The environments call the engine-neutral functions: for the
obstacles :func:`add_obstacles`, :func:`size_obstacles` and :func:`reset_with_obstacles`; for
the target :func:`add_target`, :func:`place_target` and :func:`restart_integrator`.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import opensim

from .interface import Engine
from .simulation import Simulation

#: Height of a parked (cleared) obstacle's centre and its radius: far below the feet, no contact.
PARKED_Y = -0.1
PARKED_RADIUS = 1e-4
#: Hunt-Crossley stiffness of an obstacle is this divided by its radius (N/m^2 scaled).
OBSTACLE_STIFFNESS_TIMES_RADIUS = 1e6
OBSTACLE_DISSIPATION = 1e-5
#: Radius an obstacle is built with (sized at every reset).
OBSTACLE_BUILT_RADIUS = 0.1
OBSTACLE_MASS = 0.0001
OBSTACLE_INERTIA = (1.0, 1.0, 0.0001, 0.0, 0.0, 0.0)
#: Joint armature (kg; kg m^2 for the rotation) of an obstacle's coordinates on an engine that
#: builds from descriptions: OpenSim's lock is exact, MuJoCo's a soft constraint whose give scales
#: with the inverse inertia behind it: a heel pressed 5 mm into a 0.1 g obstacle pushes it 14.6 mm
#: in 0.3 s without armature, 0.03 um with this (docs/engines.md). The coordinates are always
#: locked, so the armature moves nothing.
OBSTACLE_ARMATURE = 100.0


@dataclass
class Obstacle:
    """The OpenSim parts of one obstacle: a block on a planar joint with a contact sphere."""

    body: opensim.Body
    joint: opensim.PlanarJoint
    sphere: opensim.ContactSphere
    force: opensim.HuntCrossleyForce


def reinitialize(sim: Simulation) -> opensim.State:
    """``sim.reinitialize()`` plus a refresh of the cached excitation functions.

    OpenSim 4.6 replaces one of a ``PrescribedController``'s control functions by a copy at every
    ``initSystem`` (a different one each time), so excitation handles cached before it would set a
    function the controller no longer uses. The original re-read the functions by index at every
    step; this re-reads them once, by index, after each ``initSystem``.
    """
    state = sim.reinitialize()
    functions = sim.controller.get_ControlFunctions()
    sim._excitation_functions = [
        opensim.Constant.safeDownCast(functions.get(j)) for j in range(functions.getSize())
    ]
    return state


def add_opensim_obstacles(sim: Simulation, count: int, foot_geometries: Sequence[str]) -> list[Obstacle]:
    """Add ``count`` obstacles "{i}-block" (spec §3.3) that can touch ``foot_geometries`` (the original's calls).

    Each is a light body on a ``PlanarJoint`` "{i}-joint" to ground, carrying a ``ContactSphere``
    "{i}-contact" (radius 0.1) and a frictionless ``HuntCrossleyForce`` "{i}-force" between the
    sphere and the feet. Call :func:`reinitialize` afterwards.
    """
    if count < 0:
        raise ValueError(f"the number of obstacles must be >= 0, got {count}")
    model = sim.model
    obstacles = []
    for i in range(count):
        body = opensim.Body(f"{i}-block", 0.0001, opensim.Vec3(0), opensim.Inertia(1, 1, 0.0001, 0, 0, 0))
        joint = opensim.PlanarJoint(
            f"{i}-joint", model.getGround(), opensim.Vec3(0), opensim.Vec3(0),
            body, opensim.Vec3(0), opensim.Vec3(0),
        )
        model.addBody(body)
        model.addJoint(joint)
        radius = 0.1
        sphere = opensim.ContactSphere(radius, opensim.Vec3(0), body, f"{i}-contact")
        model.addContactGeometry(sphere)
        force = opensim.HuntCrossleyForce()
        force.setName(f"{i}-force")
        force.addGeometry(f"{i}-contact")
        for name in foot_geometries:
            force.addGeometry(name)
        force.setStiffness(OBSTACLE_STIFFNESS_TIMES_RADIUS / radius)
        force.setDissipation(OBSTACLE_DISSIPATION)
        force.setStaticFriction(0.0)
        force.setDynamicFriction(0.0)
        force.setViscousFriction(0.0)
        model.addForce(force)
        obstacles.append(Obstacle(body, joint, sphere, force))
    return obstacles


def size_opensim_obstacles(obstacles: Sequence[Obstacle], radii: Sequence[float | None]) -> None:
    """Give obstacle i the radius ``radii[i]`` (None: parked) and the matching stiffness.

    Radii and stiffness are model properties: they take effect at the next :func:`reinitialize`.
    """
    for obstacle, radius in zip(obstacles, radii):
        r = PARKED_RADIUS if radius is None else float(radius)
        obstacle.sphere.setRadius(r)
        obstacle.force.setStiffness(OBSTACLE_STIFFNESS_TIMES_RADIUS / r)


def place_opensim_obstacles(
    state: opensim.State, obstacles: Sequence[Obstacle], centres: Sequence[tuple[float, float] | None]
) -> None:
    """Set and lock each block's coordinates: ``centres[i]`` = (x, y), None = parked at (0, -0.1)."""
    for obstacle, centre in zip(obstacles, centres):
        x, y = (0.0, PARKED_Y) if centre is None else centre
        joint = obstacle.joint
        for k, value in ((0, 0.0), (1, x), (2, y)):
            coordinate = joint.get_coordinates(k)
            coordinate.setLocked(state, False)
            coordinate.setValue(state, float(value), False)
            coordinate.setLocked(state, True)


@dataclass(frozen=True)
class ObstacleNames:
    """One obstacle on an engine that builds from descriptions, by the names OpenSim gives its parts."""

    body: str
    joint: str
    sphere: str
    force: str

    @classmethod
    def numbered(cls, index: int) -> ObstacleNames:
        """The names of obstacle ``index``: "{i}-block", "{i}-joint", "{i}-contact", "{i}-force"."""
        return cls(f"{index}-block", f"{index}-joint", f"{index}-contact", f"{index}-force")

    @property
    def coordinates(self) -> tuple[str, str, str]:
        """Its joint's coordinates: rotation, x, y."""
        return planar_coordinate_names(self.joint)


def obstacle_parts(count: int, foot_geometries: Sequence[str]) -> dict[str, Any]:
    """What :func:`add_opensim_obstacles` adds, in the model-description format, for engines that
    build from descriptions: per obstacle the body on its planar joint (coordinates lockable, with
    :data:`OBSTACLE_ARMATURE`), the contact sphere (radius 0.1) and the frictionless
    HuntCrossleyForce between the sphere and ``foot_geometries`` (the sphere first)."""
    parts: dict[str, list[Any]] = {"bodies": [], "joints": [], "contact_geometry": [], "forces": []}
    for index in range(count):
        names = ObstacleNames.numbered(index)
        body = planar_body_parts(names.body, names.joint, OBSTACLE_MASS, OBSTACLE_INERTIA, lockable=(0, 1, 2),
                                 armature=OBSTACLE_ARMATURE)
        parts["bodies"] += body["bodies"]
        parts["joints"] += body["joints"]
        parts["contact_geometry"].append({
            "type": "ContactSphere", "name": names.sphere, "frame": f"/bodyset/{names.body}",
            "location": [0.0, 0.0, 0.0], "orientation": [0.0, 0.0, 0.0], "radius": OBSTACLE_BUILT_RADIUS})
        parts["forces"].append({
            "type": "HuntCrossleyForce", "name": names.force, "properties": {"appliesForce": True},
            "contact_parameters": [{
                "stiffness": OBSTACLE_STIFFNESS_TIMES_RADIUS / OBSTACLE_BUILT_RADIUS,
                "dissipation": OBSTACLE_DISSIPATION, "static_friction": 0.0, "dynamic_friction": 0.0,
                "viscous_friction": 0.0, "geometry": [names.sphere, *foot_geometries]}]})
    return parts


def add_obstacles(engine: Engine, count: int, foot_geometries: Sequence[str]) -> list[Any]:
    """Add ``count`` obstacles that can touch ``foot_geometries`` to ``engine``'s model (spec §3.3);
    returns what :func:`size_obstacles` and :func:`reset_with_obstacles` take.

    OpenSim: :func:`add_opensim_obstacles` then :func:`reinitialize` (the original's calls; returns
    the :class:`Obstacle` parts). Another engine: its ``add_bodies(obstacle_parts(...))`` (returns
    the :class:`ObstacleNames`)."""
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise ValueError(f"the number of obstacles must be an integer >= 0, got {count!r}")
    if isinstance(engine, Simulation):
        obstacles = add_opensim_obstacles(engine, count, foot_geometries)
        reinitialize(engine)
        return obstacles
    if count:
        _scene_method(engine, "add_bodies", "obstacles")(obstacle_parts(count, foot_geometries))
    return [ObstacleNames.numbered(index) for index in range(count)]


def size_obstacles(engine: Engine, obstacles: Sequence[Any], radii: Sequence[float | None]) -> None:
    """Give obstacle i the radius ``radii[i]`` (None: parked) and the stiffness 1e6 / radius.

    OpenSim: model properties (:func:`size_opensim_obstacles`), taking effect at the
    :func:`reinitialize` of :func:`reset_with_obstacles`. Another engine: at once."""
    if len(radii) != len(obstacles):
        raise ValueError(f"expected one radius (or None) per obstacle, {len(obstacles)}, got {len(radii)}")
    values = [PARKED_RADIUS if radius is None else float(radius) for radius in radii]
    bad = [radius for radius in values if not (radius > 0 and math.isfinite(radius))]
    if bad:
        raise ValueError(f"obstacle radii must be positive finite numbers (m), got {bad}")
    if isinstance(engine, Simulation):
        size_opensim_obstacles(obstacles, radii)
        return
    _scene_method(engine, "set_contact_spheres", "obstacles")(
        {obstacle.sphere: radius for obstacle, radius in zip(obstacles, values)})
    _scene_method(engine, "set_contact_stiffness", "obstacles")(
        {obstacle.force: OBSTACLE_STIFFNESS_TIMES_RADIUS / radius for obstacle, radius in zip(obstacles, values)})


def reset_with_obstacles(engine: Engine, obstacles: Sequence[Any],
                         centres: Sequence[tuple[float, float] | None]) -> None:
    """Reset ``engine`` to its initial state with obstacle i's centre at ``centres[i]`` = (x, y)
    (None: parked at (0, -0.1)), every obstacle coordinate locked.

    OpenSim: :func:`reinitialize` (the radii and strengths set since take effect), then the
    engine's reset with :func:`place_opensim_obstacles` editing the initial state (the original's
    calls). Another engine: its reset, then its ``set_coordinates`` with every coordinate locked."""
    if len(centres) != len(obstacles):
        raise ValueError(f"expected one centre (or None) per obstacle, {len(obstacles)}, got {len(centres)}")
    if isinstance(engine, Simulation):
        reinitialize(engine)
        engine.reset(adjust_state=lambda state: place_opensim_obstacles(state, obstacles, centres))
        return
    engine.reset()
    if not obstacles:
        return
    values: dict[str, float] = {}
    for obstacle, centre in zip(obstacles, centres):
        x, y = (0.0, PARKED_Y) if centre is None else centre
        rotation, x_name, y_name = obstacle.coordinates
        values.update({rotation: 0.0, x_name: float(x), y_name: float(y)})
    _scene_method(engine, "set_coordinates", "obstacles")(values, lock=dict.fromkeys(values, True))


#: The arm's target (spec §3.7) as :func:`add_arm_target` makes it on OpenSim: a 0.1 g body on a
#: PlanarJoint to ground whose child frame is 0.25 m behind it (the ball is at z = +0.25).
TARGET_BODY = "target"
TARGET_JOINT = "target-joint"
TARGET_MASS = 0.0001
TARGET_INERTIA = (1.0, 1.0, 0.0001, 0.0, 0.0, 0.0)
TARGET_CHILD_OFFSET = (0.0, 0.0, -0.25)
#: OpenSim's default range of a PlanarJoint coordinate.
PLANAR_RANGE = (-10.0, 10.0)


def planar_coordinate_names(joint: str) -> tuple[str, str, str]:
    """OpenSim's names of a PlanarJoint's coordinates: rotation about z, then x and y."""
    return (f"{joint}_coord_0", f"{joint}_coord_1", f"{joint}_coord_2")


#: The target joint's coordinates (rotation, x, y).
TARGET_COORDINATES = planar_coordinate_names(TARGET_JOINT)


def planar_body_parts(body: str, joint: str, mass: float, inertia: Sequence[float],
                      child_offset: Sequence[float] = (0.0, 0.0, 0.0), lockable: Sequence[int] = (),
                      armature: float | None = None) -> dict[str, Any]:
    """A body on a PlanarJoint to ground in the model-description format (``{"bodies": [...],
    "joints": [...]}``), as OpenSim's ``PlanarJoint`` makes it: coordinates named by
    :func:`planar_coordinate_names`, default 0, range (-10, 10). The coordinates numbered in
    ``lockable`` can be locked and unlocked in the state; ``armature`` goes to every coordinate."""
    zero = {"translation": [0.0, 0.0, 0.0], "orientation": [0.0, 0.0, 0.0]}
    coordinates = [{"name": name, "default_value": 0.0, "default_speed_value": 0.0, "range": list(PLANAR_RANGE),
                    "clamped": False, "locked": False, **({"lockable": True} if k in lockable else {}),
                    **({"armature": float(armature)} if armature is not None else {})}
                   for k, name in enumerate(planar_coordinate_names(joint))]
    return {
        "bodies": [{"name": body, "mass": float(mass), "mass_center": [0.0, 0.0, 0.0], "inertia": list(inertia)}],
        "joints": [{"name": joint, "type": "PlanarJoint", "parent": "ground", "child": body, "parent_offset": zero,
                    "child_offset": {"translation": list(child_offset), "orientation": [0.0, 0.0, 0.0]},
                    "coordinates": coordinates}],
    }


def arm_target_parts() -> dict[str, Any]:
    """The arm's target in the model-description format (``{"bodies": [...], "joints": [...]}``):
    what :func:`add_arm_target` adds on OpenSim, for engines that build from descriptions. Its
    height is ``lockable`` (locked and unlocked in the state, as the original does on OpenSim)."""
    return planar_body_parts(TARGET_BODY, TARGET_JOINT, TARGET_MASS, TARGET_INERTIA, TARGET_CHILD_OFFSET,
                             lockable=(2,))


def add_target(engine: Engine) -> Any:
    """Add the arm's target to ``engine``'s model and return what :func:`place_target` takes.

    OpenSim: :func:`add_arm_target` then :func:`reinitialize` (the original's calls; returns the
    joint). Another engine: its ``add_bodies(arm_target_parts())`` (returns the joint's name)."""
    if isinstance(engine, Simulation):
        joint = add_arm_target(engine)
        reinitialize(engine)
        return joint
    _scene_method(engine, "add_bodies", "the arm's target")(arm_target_parts())
    return TARGET_JOINT


def place_target(engine: Engine, target: Any, x: float, y: float) -> None:
    """Move the target to (x, y) in the current state, x free and y locked (see :func:`move_arm_target`)."""
    if isinstance(engine, Simulation):
        move_arm_target(engine, target, x, y)
        return
    _, x_name, y_name = TARGET_COORDINATES
    set_coordinates = _scene_method(engine, "set_coordinates", "the arm's target")
    set_coordinates({x_name: float(x), y_name: float(y)}, lock={y_name: True})


def restart_integrator(engine: Engine) -> None:
    """Start a new integrator from the current state: OpenSim's ``reset_manager`` (the original's
    call after moving the target); an engine without integrator state has nothing to restart."""
    if isinstance(engine, Simulation):
        engine.reset_manager()


def _scene_method(engine: Engine, name: str, what: str) -> Any:
    method = getattr(engine, name, None)
    if method is None:
        raise NotImplementedError(f"the {type(engine).__name__} engine cannot hold {what} "
                                  f"(it has no {name}); use engine='opensim'")
    return method


def add_arm_target(sim: Simulation) -> opensim.PlanarJoint:
    """Add the green target ball of ``Arm2DEnv`` (spec §3.7) and return its joint.

    A 0.1 g body "target" on a ``PlanarJoint`` "target-joint" (child offset z = -0.25) with a
    2 cm ellipsoid. Call :func:`reinitialize` afterwards.
    """
    model = sim.model
    body = opensim.Body("target", 0.0001, opensim.Vec3(0), opensim.Inertia(1, 1, 0.0001, 0, 0, 0))
    joint = opensim.PlanarJoint(
        "target-joint", model.getGround(), opensim.Vec3(0), opensim.Vec3(0),
        body, opensim.Vec3(0, 0, -0.25), opensim.Vec3(0),
    )
    geometry = opensim.Ellipsoid(0.02, 0.02, 0.02)
    geometry.setColor(opensim.Vec3(0, 1, 0))
    body.attachGeometry(geometry)
    model.addJoint(joint)
    model.addBody(body)
    return joint


def move_arm_target(sim: Simulation, joint: opensim.PlanarJoint, x: float, y: float) -> None:
    """Move the target to (x, y) in the current state (x free, y locked) and restart the integrator."""
    state = sim.get_state()
    joint.get_coordinates(1).setValue(state, float(x), False)
    height = joint.get_coordinates(2)
    height.setLocked(state, False)
    height.setValue(state, float(y), False)
    height.setLocked(state, True)
    sim.set_state(state)

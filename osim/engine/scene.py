"""Components that environments add to a model: the NIPS 2017 obstacles and the arm's target.

This is the engine half of those environments (spec §3.3, §3.7); the environments decide *where*
things go and compute everything else from the state description. The obstacles are OpenSim's
only; after adding them call :func:`reinitialize` (not ``Simulation.reinitialize`` alone, see
there). The arm's target runs on every engine (:func:`add_target`, :func:`place_target`,
:func:`restart_integrator`): on OpenSim the original's calls (:func:`add_arm_target`,
:func:`move_arm_target`), on another engine the same body and joint as a model-description part
(:func:`arm_target_parts`) that the engine builds (``add_bodies``) and poses (``set_coordinates``).
"""
from __future__ import annotations

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


def add_obstacles(sim: Simulation, count: int, foot_geometries: Sequence[str]) -> list[Obstacle]:
    """Add ``count`` obstacles "{i}-block" (spec §3.3) that can touch ``foot_geometries``.

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


def size_obstacles(obstacles: Sequence[Obstacle], radii: Sequence[float | None]) -> None:
    """Give obstacle i the radius ``radii[i]`` (None: parked) and the matching stiffness.

    Radii and stiffness are model properties: they take effect at the next :func:`reinitialize`.
    """
    for obstacle, radius in zip(obstacles, radii):
        r = PARKED_RADIUS if radius is None else float(radius)
        obstacle.sphere.setRadius(r)
        obstacle.force.setStiffness(OBSTACLE_STIFFNESS_TIMES_RADIUS / r)


def place_obstacles(
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


#: The arm's target (spec §3.7) as :func:`add_arm_target` makes it on OpenSim: a 0.1 g body on a
#: PlanarJoint to ground whose child frame is 0.25 m behind it (the ball is at z = +0.25).
TARGET_BODY = "target"
TARGET_JOINT = "target-joint"
#: OpenSim's names of a PlanarJoint's coordinates: rotation about z, then x and y.
TARGET_COORDINATES = (f"{TARGET_JOINT}_coord_0", f"{TARGET_JOINT}_coord_1", f"{TARGET_JOINT}_coord_2")
TARGET_MASS = 0.0001
TARGET_INERTIA = (1.0, 1.0, 0.0001, 0.0, 0.0, 0.0)
TARGET_CHILD_OFFSET = (0.0, 0.0, -0.25)
#: OpenSim's default range of a PlanarJoint coordinate.
TARGET_RANGE = (-10.0, 10.0)


def arm_target_parts() -> dict[str, Any]:
    """The arm's target in the model-description format (``{"bodies": [...], "joints": [...]}``):
    what :func:`add_arm_target` adds on OpenSim, for engines that build from descriptions. Its
    height is ``lockable`` (locked and unlocked in the state, as the original does on OpenSim)."""
    zero = {"translation": [0.0, 0.0, 0.0], "orientation": [0.0, 0.0, 0.0]}
    coordinates = [{"name": name, "default_value": 0.0, "default_speed_value": 0.0, "range": list(TARGET_RANGE),
                    "clamped": False, "locked": False, **({"lockable": True} if k == 2 else {})}
                   for k, name in enumerate(TARGET_COORDINATES)]
    return {
        "bodies": [{"name": TARGET_BODY, "mass": TARGET_MASS, "mass_center": [0.0, 0.0, 0.0],
                    "inertia": list(TARGET_INERTIA)}],
        "joints": [{"name": TARGET_JOINT, "type": "PlanarJoint", "parent": "ground", "child": TARGET_BODY,
                    "parent_offset": zero,
                    "child_offset": {"translation": list(TARGET_CHILD_OFFSET), "orientation": [0.0, 0.0, 0.0]},
                    "coordinates": coordinates}],
    }


def add_target(engine: Engine) -> Any:
    """Add the arm's target to ``engine``'s model and return what :func:`place_target` takes.

    OpenSim: :func:`add_arm_target` then :func:`reinitialize` (the original's calls; returns the
    joint). Another engine: its ``add_bodies(arm_target_parts())`` (returns the joint's name)."""
    if isinstance(engine, Simulation):
        joint = add_arm_target(engine)
        reinitialize(engine)
        return joint
    _scene_method(engine, "add_bodies")(arm_target_parts())
    return TARGET_JOINT


def place_target(engine: Engine, target: Any, x: float, y: float) -> None:
    """Move the target to (x, y) in the current state, x free and y locked (see :func:`move_arm_target`)."""
    if isinstance(engine, Simulation):
        move_arm_target(engine, target, x, y)
        return
    _, x_name, y_name = TARGET_COORDINATES
    _scene_method(engine, "set_coordinates")({x_name: float(x), y_name: float(y)}, lock={y_name: True})


def restart_integrator(engine: Engine) -> None:
    """Start a new integrator from the current state: OpenSim's ``reset_manager`` (the original's
    call after moving the target); an engine without integrator state has nothing to restart."""
    if isinstance(engine, Simulation):
        engine.reset_manager()


def _scene_method(engine: Engine, name: str) -> Any:
    method = getattr(engine, name, None)
    if method is None:
        raise NotImplementedError(f"the {type(engine).__name__} engine cannot hold the arm's target "
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

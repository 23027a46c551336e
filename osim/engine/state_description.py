"""The state-description dictionary of osim-rl 2.x/3.x (spec §2.4), computed cheaply.

Every value is a plain Python float (lists of floats for vectors), in the ground frame:

==================  ===========================================================================
key                 content
==================  ===========================================================================
joint_pos/vel/acc   ``{joint: [coordinate values/speeds/accelerations]}`` (welds: ``[]``)
body_pos            ``{body: [x, y, z]}`` origin of the body frame
body_vel/acc        ``{body: [vx, vy, vz]}`` linear velocity/acceleration of the origin
body_pos_rot        ``{body: [rx, ry, rz]}`` body-fixed XYZ rotation angles
body_vel_rot/acc    ``{body: [wx, wy, wz]}`` angular velocity/acceleration
forces              ``{force: [record values]}`` (muscles 1, limit forces 2, contacts 6 per geometry)
muscles             ``{muscle: {activation, fiber_length, fiber_velocity, fiber_force}}``
markers             ``{marker: {pos, vel, acc}}``
misc                ``{mass_center_pos, mass_center_vel, mass_center_acc}`` (3 values each)
==================  ===========================================================================

The component lists are gathered once; each call makes one SWIG call per quantity (the original
made two transform look-ups per body and looked every component up by index each time).
"""
from __future__ import annotations

from typing import Any

import opensim

from .interface import StateDescription


def _vec3(vector: Any) -> list[float]:
    return [vector[0], vector[1], vector[2]]


class StateDescriber:
    """Builds the state-description dictionary of one OpenSim model.

    Create it after the model's last ``initSystem`` (component references must be final).
    """

    def __init__(self, model: opensim.Model) -> None:
        self._model = model
        joint_set = model.getJointSet()
        self._joints = []
        for i in range(joint_set.getSize()):
            joint = joint_set.get(i)
            coordinates = [joint.get_coordinates(k) for k in range(joint.numCoordinates())]
            self._joints.append((joint.getName(), coordinates))
        body_set = model.getBodySet()
        self._bodies = [(body_set.get(i).getName(), body_set.get(i)) for i in range(body_set.getSize())]
        force_set = model.getForceSet()
        self._forces = [
            (force_set.get(i).getName(), force_set.get(i)) for i in range(force_set.getSize())
        ]
        muscle_set = model.getMuscles()
        self._muscles = [
            (muscle_set.get(i).getName(), muscle_set.get(i)) for i in range(muscle_set.getSize())
        ]
        marker_set = model.getMarkerSet()
        self._markers = [
            (marker_set.get(i).getName(), marker_set.get(i)) for i in range(marker_set.getSize())
        ]

    def describe(self, state: opensim.State) -> StateDescription:
        """Realize ``state`` to the acceleration stage and return the dictionary."""
        model = self._model
        model.realizeAcceleration(state)
        joint_pos: dict[str, list[float]] = {}
        joint_vel: dict[str, list[float]] = {}
        joint_acc: dict[str, list[float]] = {}
        for name, coordinates in self._joints:
            joint_pos[name] = [c.getValue(state) for c in coordinates]
            joint_vel[name] = [c.getSpeedValue(state) for c in coordinates]
            joint_acc[name] = [c.getAccelerationValue(state) for c in coordinates]

        body_pos: dict[str, list[float]] = {}
        body_vel: dict[str, list[float]] = {}
        body_acc: dict[str, list[float]] = {}
        body_pos_rot: dict[str, list[float]] = {}
        body_vel_rot: dict[str, list[float]] = {}
        body_acc_rot: dict[str, list[float]] = {}
        for name, body in self._bodies:
            transform = body.getTransformInGround(state)
            velocity = body.getVelocityInGround(state)
            acceleration = body.getAccelerationInGround(state)
            body_pos[name] = _vec3(transform.p())
            body_pos_rot[name] = _vec3(transform.R().convertRotationToBodyFixedXYZ())
            body_vel[name] = _vec3(velocity.get(1))
            body_vel_rot[name] = _vec3(velocity.get(0))
            body_acc[name] = _vec3(acceleration.get(1))
            body_acc_rot[name] = _vec3(acceleration.get(0))

        forces: dict[str, list[float]] = {}
        for name, force in self._forces:
            values = force.getRecordValues(state)
            forces[name] = [values.get(k) for k in range(values.size())]

        muscles: dict[str, dict[str, float]] = {}
        for name, muscle in self._muscles:
            muscles[name] = {
                "activation": muscle.getActivation(state),
                "fiber_length": muscle.getFiberLength(state),
                "fiber_velocity": muscle.getFiberVelocity(state),
                "fiber_force": muscle.getFiberForce(state),
            }

        markers: dict[str, dict[str, list[float]]] = {}
        for name, marker in self._markers:
            markers[name] = {
                "pos": _vec3(marker.getLocationInGround(state)),
                "vel": _vec3(marker.getVelocityInGround(state)),
                "acc": _vec3(marker.getAccelerationInGround(state)),
            }

        misc = {
            "mass_center_pos": _vec3(model.calcMassCenterPosition(state)),
            "mass_center_vel": _vec3(model.calcMassCenterVelocity(state)),
            "mass_center_acc": _vec3(model.calcMassCenterAcceleration(state)),
        }
        return {
            "joint_pos": joint_pos,
            "joint_vel": joint_vel,
            "joint_acc": joint_acc,
            "body_pos": body_pos,
            "body_vel": body_vel,
            "body_acc": body_acc,
            "body_pos_rot": body_pos_rot,
            "body_vel_rot": body_vel_rot,
            "body_acc_rot": body_acc_rot,
            "forces": forces,
            "muscles": muscles,
            "markers": markers,
            "misc": misc,
        }

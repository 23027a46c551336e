"""Where the body is, in the ground frame, for drawing it: segments, muscle paths, contacts, markers.

:class:`BodyGeometry` looks at an OpenSim model once (which body has which segments, which muscle
paths, contact spheres and markers exist) and then, for each state, returns a :class:`SceneGeometry`
of plain NumPy arrays. It never reads mesh files: every body gets a simple shape built from the model
itself, so the picture is recognisable for any model:

* a **capsule** from a body's own joint to each child joint (thigh, shank, upper arm, foot ...), its
  radius from the segment's mass as a cylinder of water density (thinned so muscles show);
* an **ellipsoid** for a body with several child joints (the pelvis: it encloses the hips and the
  back joint) and for a heavy single segment (>= 15 kg: the torso);
* for an end body (no child joint): a capsule to twice its centre of mass (forearm and hand, toes), or
  a **sphere** where the centre of mass is at the origin (the head, sized from its mass, 10 cm if
  massless, sitting on its joint);
* near-massless end bodies moved by a joint to ground (< 1 g: an arm target, RunEnv obstacle
  blocks) are props, not segments; they are reported as :attr:`SceneGeometry.prop_positions` and
  through their contact spheres.

Everything is read from the simulation's current OpenSim state (not from the cached state
description, which an environment may keep stale on purpose, e.g. Arm2DEnv right after a reset): a
frame costs one transform per body, one ``getCurrentPath`` per muscle (conditional and moving path
points and wrapping included), one location per marker and one radius per contact sphere, well
under a millisecond.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import opensim

from .simulation import Simulation
from .structure import offset_in_base, rotation_from_body_fixed_xyz, rotation_of, vec3

__all__ = ["BodyGeometry", "SceneGeometry", "rotation_from_body_fixed_xyz"]

#: Density used to turn a segment's mass into a radius (water, kg/m^3).
_DENSITY = 1000.0
#: Capsules are drawn at this fraction of the mass-equivalent radius so muscles stay visible.
_CAPSULE_THINNING = 0.85
#: Segments shorter than this (m) are not drawn as capsules (e.g. the pelvis-to-hip offsets).
_MIN_SEGMENT = 0.04
#: A single segment at least this heavy (kg) is drawn as an ellipsoid (the torso).
_TRUNK_MASS = 15.0
#: Bodies lighter than this (kg) are props (targets, obstacles), not segments.
_PROP_MASS = 1e-3


@dataclass
class SceneGeometry:
    """Everything drawable in one state, in the ground frame (metres).

    Capsule ``i`` runs from ``capsule_start[i]`` to ``capsule_end[i]`` with radius
    ``capsule_radius[i]``; ellipsoid ``j`` is ``{center[j] + axes[j] @ u : |u| <= 1}`` (the columns of
    ``ellipsoid_axes[j]`` are its semi-axes). ``muscle_paths[k]`` is the current path (n_k x 3) of
    muscle ``muscle_names[k]`` with activation ``activations[k]``.
    """

    time: float
    capsule_start: np.ndarray
    capsule_end: np.ndarray
    capsule_radius: np.ndarray
    capsule_body: list[str]
    ellipsoid_center: np.ndarray
    ellipsoid_axes: np.ndarray
    ellipsoid_body: list[str]
    muscle_names: list[str]
    muscle_paths: list[np.ndarray]
    activations: np.ndarray
    contact_names: list[str]
    contact_center: np.ndarray
    contact_radius: np.ndarray
    contact_is_prop: np.ndarray
    marker_names: list[str]
    marker_positions: np.ndarray
    prop_names: list[str]
    prop_positions: np.ndarray
    body_positions: dict[str, np.ndarray] = field(default_factory=dict)


def _perpendicular_frame(direction: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors perpendicular to ``direction``: (depth ~ local x, width ~ local z)."""
    width = np.array([0.0, 0.0, 1.0]) - direction * direction[2]
    if np.linalg.norm(width) < 1e-6:
        width = np.array([1.0, 0.0, 0.0]) - direction * direction[0]
    width /= np.linalg.norm(width)
    depth = np.cross(direction, width)
    return depth, width


@dataclass
class _LocalCapsule:
    body: str
    start_joint: int  # index into the joint-location table, or -1 for a point fixed in the body
    end_joint: int
    start_local: np.ndarray  # used when the index is -1
    end_local: np.ndarray
    radius: float


@dataclass
class _LocalEllipsoid:
    body: str
    center: np.ndarray
    axes: np.ndarray  # columns: semi-axes in the body frame


class BodyGeometry:
    """The drawable geometry of one simulation's model, recomputed for each state.

    Args:
        sim: the :class:`~osim.engine.Simulation` (its model must be initialised). If components are
            added to the model later (targets, obstacles), the structure is discovered again.
    """

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self._discover()

    # -- discovery (once per model structure) ---------------------------------------------------

    def _discover(self) -> None:
        model = self.sim.model
        self._structure = self.sim.structure_signature()
        bodies = model.getBodySet()
        self.body_names = [bodies.get(i).getName() for i in range(bodies.getSize())]
        self._bodies = [bodies.get(i) for i in range(bodies.getSize())]
        masses = {bodies.get(i).getName(): bodies.get(i).getMass() for i in range(bodies.getSize())}
        mass_centers = {bodies.get(i).getName(): vec3(bodies.get(i).getMassCenter())
                        for i in range(bodies.getSize())}

        # Joint centres: each joint's child frame, as an offset in its child body.
        joints = model.getJointSet()
        self._joint_child_body: list[str] = []
        self._joint_child_offset: list[np.ndarray] = []
        parent_of: dict[str, int] = {}
        parent_body_of: dict[str, str] = {}
        children_of: dict[str, list[int]] = {name: [] for name in self.body_names}
        for j in range(joints.getSize()):
            joint = joints.get(j)
            child_body, offset = offset_in_base(joint.getChildFrame())
            parent_body = joint.getParentFrame().findBaseFrame().getName()
            self._joint_child_body.append(child_body)
            self._joint_child_offset.append(offset)
            parent_of[child_body] = j
            parent_body_of[child_body] = parent_body
            if parent_body in children_of:
                children_of[parent_body].append(j)

        # Joint centres at the default pose decide which segments are long enough to draw.
        state = opensim.State(model.initializeState()) if self.sim.state is None else self.sim.state
        model.realizePosition(state)
        default_location = [
            vec3(joints.get(j).getChildFrame().getPositionInGround(state)) for j in range(joints.getSize())
        ]
        default_pose = {name: (vec3(bodies.get(i).getPositionInGround(state)),
                               rotation_of(bodies.get(i).getTransformInGround(state)))
                        for i, name in enumerate(self.body_names)}

        self._capsules: list[_LocalCapsule] = []
        self._ellipsoids: list[_LocalEllipsoid] = []
        self.prop_names: list[str] = []
        for name in self.body_names:
            mass = masses[name]
            if mass < _PROP_MASS and not children_of[name] and parent_body_of.get(name, "ground") == "ground":
                self.prop_names.append(name)
                continue
            start = parent_of.get(name, -1)
            start_local = self._joint_child_offset[start] if start >= 0 else np.zeros(3)
            origin, rotation = default_pose[name]
            start_world = default_location[start] if start >= 0 else origin
            segments = [j for j in children_of[name]
                        if np.linalg.norm(default_location[j] - start_world) >= _MIN_SEGMENT]
            if len(segments) >= 2:
                # Several child joints (pelvis): an ellipsoid enclosing them and the body's own joint.
                points = [start_local] + [rotation.T @ (default_location[j] - origin) for j in segments]
                low, high = np.min(points, axis=0), np.max(points, axis=0)
                radii = np.maximum((high - low) / 2 + 0.04, 0.05)
                self._ellipsoids.append(_LocalEllipsoid(name, (low + high) / 2, np.diag(radii)))
                continue
            if len(segments) == 1:
                end = segments[0]
                length = float(np.linalg.norm(default_location[end] - start_world))
                radius = math.sqrt(max(mass, 0.0) / (_DENSITY * math.pi * length))
                if mass >= _TRUNK_MASS:
                    end_local = rotation.T @ (default_location[end] - origin)
                    direction = (end_local - start_local) / length
                    depth, width = _perpendicular_frame(direction)
                    axes = np.column_stack([depth * 0.8 * radius, direction * 0.55 * length,
                                            width * 1.2 * radius])
                    self._ellipsoids.append(
                        _LocalEllipsoid(name, (start_local + end_local) / 2, axes))
                else:
                    self._capsules.append(_LocalCapsule(
                        name, start, end, start_local, np.zeros(3),
                        float(np.clip(_CAPSULE_THINNING * radius, 0.015, 0.08))))
                continue
            # An end body: a capsule to twice the centre of mass, or a ball (the head).
            center = mass_centers[name]
            reach = center - start_local
            if np.linalg.norm(reach) >= _MIN_SEGMENT / 2:
                end_local = start_local + 2 * reach
                length = float(np.linalg.norm(2 * reach))
                radius = math.sqrt(mass / (_DENSITY * math.pi * length))
                self._capsules.append(_LocalCapsule(
                    name, -1, -1, start_local, end_local,
                    float(np.clip(_CAPSULE_THINNING * radius, 0.015, 0.08))))
            else:
                radius = (3 * mass / (4 * math.pi * _DENSITY)) ** (1 / 3) if mass > 0 else 0.1
                radius = float(np.clip(radius, 0.02, 0.15))
                # A ball sits on its joint (a head on the neck) rather than around it.
                up = rotation.T @ np.array([0.0, 1.0, 0.0])
                self._ellipsoids.append(
                    _LocalEllipsoid(name, start_local + up * radius, np.eye(3) * radius))

        muscles = model.getMuscles()
        self.muscle_names = [muscles.get(i).getName() for i in range(muscles.getSize())]
        self._paths = [muscles.get(i).getGeometryPath() for i in range(muscles.getSize())]

        contacts = model.getContactGeometrySet()
        self._spheres: list[tuple[str, opensim.ContactSphere, str, np.ndarray, bool]] = []
        for i in range(contacts.getSize()):
            sphere = opensim.ContactSphere.safeDownCast(contacts.get(i))
            if sphere is None:
                continue  # half-spaces are the ground; meshes are not drawn
            frame = sphere.getFrame()
            base, center = offset_in_base(frame, vec3(sphere.get_location()))
            self._spheres.append((sphere.getName(), sphere, base, center, base in self.prop_names))

        markers = model.getMarkerSet()
        self.marker_names = [markers.get(i).getName() for i in range(markers.getSize())]
        self._markers = [markers.get(i) for i in range(markers.getSize())]
        # Activations are read from the state-variable vector in one call (getActivation() would
        # need a dynamics-stage realization); muscles without activation dynamics show excitation.
        self._activation_index = np.array([
            -1 if m.activation_column is None else m.activation_column for m in self.sim.structure.muscles],
            dtype=int)

    # -- per state ------------------------------------------------------------------------------

    def compute(self) -> SceneGeometry:
        """The geometry of the simulation's current state."""
        sim = self.sim
        if sim.state is None:
            raise RuntimeError("the simulation has no state yet: call reset() first")
        if self.sim.structure_signature() != self._structure:
            self._discover()
        state = sim.state
        sim.model.realizePosition(state)  # a no-op when the state is realized already
        pose: dict[str, tuple[np.ndarray, np.ndarray]] = {"ground": (np.zeros(3), np.eye(3))}
        for name, body in zip(self.body_names, self._bodies):
            transform = body.getTransformInGround(state)
            pose[name] = (vec3(transform.p()), rotation_of(transform))

        def to_ground(body: str, local: np.ndarray) -> np.ndarray:
            origin, rotation = pose[body]
            return origin + rotation @ local

        joint_location = [to_ground(body, offset)
                          for body, offset in zip(self._joint_child_body, self._joint_child_offset)]

        def endpoint(body: str, joint: int, local: np.ndarray) -> np.ndarray:
            return joint_location[joint] if joint >= 0 else to_ground(body, local)

        starts = [endpoint(c.body, c.start_joint, c.start_local) for c in self._capsules]
        ends = [endpoint(c.body, c.end_joint, c.end_local) for c in self._capsules]
        centers = [to_ground(e.body, e.center) for e in self._ellipsoids]
        axes = [pose[e.body][1] @ e.axes for e in self._ellipsoids]

        paths = []
        for path in self._paths:
            current = path.getCurrentPath(state)
            paths.append(np.array([vec3(current.get(k).getLocationInGround(state))
                                   for k in range(current.getSize())]).reshape(-1, 3))
        values = sim.state_variable_values()
        activations = np.where(self._activation_index >= 0, values[self._activation_index],
                               np.broadcast_to(sim.last_excitations, self._activation_index.shape))

        contact_center = [to_ground(base, center) for _, _, base, center, _ in self._spheres]
        contact_radius = [sphere.getRadius() for _, sphere, _, _, _ in self._spheres]
        return SceneGeometry(
            time=sim.time,
            capsule_start=np.array(starts).reshape(-1, 3),
            capsule_end=np.array(ends).reshape(-1, 3),
            capsule_radius=np.array([c.radius for c in self._capsules]),
            capsule_body=[c.body for c in self._capsules],
            ellipsoid_center=np.array(centers).reshape(-1, 3),
            ellipsoid_axes=np.array(axes).reshape(-1, 3, 3),
            ellipsoid_body=[e.body for e in self._ellipsoids],
            muscle_names=list(self.muscle_names),
            muscle_paths=paths,
            activations=activations,
            contact_names=[name for name, *_ in self._spheres],
            contact_center=np.array(contact_center).reshape(-1, 3),
            contact_radius=np.array(contact_radius, dtype=float),
            contact_is_prop=np.array([prop for *_, prop in self._spheres], dtype=bool),
            marker_names=list(self.marker_names),
            marker_positions=np.array([vec3(marker.getLocationInGround(state))
                                       for marker in self._markers]).reshape(-1, 3),
            prop_names=list(self.prop_names),
            prop_positions=np.array([pose[name][0] for name in self.prop_names]).reshape(-1, 3),
            body_positions={name: pose[name][0] for name in self.body_names},
        )

    def default_extent(self) -> tuple[np.ndarray, np.ndarray]:
        """(low, high) corners of the joint centres in the current state (for framing a camera)."""
        scene = self.compute()
        points = [scene.capsule_start, scene.capsule_end, scene.ellipsoid_center]
        stacked = np.concatenate([p for p in points if len(p)], axis=0)
        return stacked.min(axis=0), stacked.max(axis=0)

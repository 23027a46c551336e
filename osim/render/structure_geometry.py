"""Drawable geometry of any engine, from its :attr:`~osim.engine.Engine.structure` and state description.

The OpenSim engine has :class:`osim.engine.geometry.BodyGeometry`, which reads joint frames and muscle
paths from the OpenSim model. Another engine (``engine="mujoco"``) is drawn from what every engine
reports: the joint tree, masses and centres of mass, contact spheres (:class:`ModelStructure`) and the
body poses, markers and activations of the state description. Each body gets a simple shape:

* a **capsule** from its origin to its one child body's origin (thigh, shank, foot);
* an **ellipsoid** around the origins of its children when it has several (the pelvis), or along the
  segment when it weighs at least 15 kg (a torso with a child);
* an end body: a capsule to twice its centre of mass (the torso, the toes), or a ball sitting on its
  origin (a massless head: 10 cm);
* near-massless end bodies on a joint to ground are props (targets, obstacles).

Muscles are drawn where the engine reports their paths (``engine.muscle_paths()``, ground-frame
points per muscle: the MuJoCo engine's tendon sites and wrap points); an engine without that method
gets no muscle lines, and its activations are still reported in :attr:`SceneGeometry.activations`.
"""
from __future__ import annotations

import math

import numpy as np

from osim.engine.geometry import SceneGeometry, rotation_from_body_fixed_xyz
from osim.engine.interface import Engine, ModelStructure

#: Same shape rules as the OpenSim drawing (osim.engine.geometry), so both engines look alike.
_DENSITY = 1000.0
_CAPSULE_THINNING = 0.85
_MIN_SEGMENT = 0.04
_TRUNK_MASS = 15.0
_PROP_MASS = 1e-3
_MASSLESS_BALL = 0.1


def _radius(mass: float, length: float) -> float:
    """A capsule's radius: a water cylinder of the segment's mass, thinned so the picture stays light."""
    radius = math.sqrt(max(mass, 0.0) / (_DENSITY * math.pi * max(length, 1e-6)))
    return float(np.clip(_CAPSULE_THINNING * radius, 0.015, 0.08))


class StructureGeometry:
    """The drawable geometry of an engine's model, recomputed for each state (no OpenSim calls).

    Args:
        engine: any :class:`~osim.engine.Engine`; its current state is the default pose used to
            decide which segments are long enough to draw.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        structure = engine.structure
        description = engine.state_description()
        self.body_names = [body.name for body in structure.bodies]
        masses = {body.name: body.mass for body in structure.bodies}
        centers = {body.name: np.array(body.mass_center, dtype=float) for body in structure.bodies}
        children: dict[str, list[str]] = {name: [] for name in self.body_names}
        parent: dict[str, str] = {}
        for joint in structure.joints:
            parent[joint.child] = joint.parent
            if joint.parent in children and joint.child != joint.parent:
                children[joint.parent].append(joint.child)
        origin, rotation = self._poses(description)
        # (body, local start, local end or the child body's name, radius)
        self._capsules: list[tuple[str, np.ndarray, np.ndarray | str, float]] = []
        self._ellipsoids: list[tuple[str, np.ndarray, np.ndarray]] = []  # (body, local centre, local axes)
        self.prop_names: list[str] = []
        for name in self.body_names:
            mass = masses[name]
            if mass < _PROP_MASS and not children[name] and parent.get(name, "ground") == "ground":
                self.prop_names.append(name)
                continue
            local = [rotation[name].T @ (origin[child] - origin[name]) for child in children[name]]
            long = [(child, point) for child, point in zip(children[name], local)
                    if np.linalg.norm(point) >= _MIN_SEGMENT]
            if len(long) >= 2:
                points = np.array([np.zeros(3)] + [point for _, point in long])
                low, high = points.min(axis=0), points.max(axis=0)
                radii = np.maximum((high - low) / 2 + 0.04, 0.05)
                self._ellipsoids.append((name, (low + high) / 2, np.diag(radii)))
            elif len(long) == 1:
                child, point = long[0]
                length = float(np.linalg.norm(point))
                if mass >= _TRUNK_MASS:
                    self._ellipsoids.append((name, point / 2, self._segment_axes(point, mass)))
                else:
                    self._capsules.append((name, np.zeros(3), child, _radius(mass, length)))
            elif np.linalg.norm(centers[name]) >= _MIN_SEGMENT / 2:
                end = 2 * centers[name]
                self._capsules.append((name, np.zeros(3), end, _radius(mass, float(np.linalg.norm(end)))))
            else:
                radius = (3 * mass / (4 * math.pi * _DENSITY)) ** (1 / 3) if mass > 0 else _MASSLESS_BALL
                radius = float(np.clip(radius, 0.02, 0.15))
                up = rotation[name].T @ np.array([0.0, 1.0, 0.0])
                self._ellipsoids.append((name, up * radius, np.eye(3) * radius))
        self._read_spheres(structure)
        self.muscle_names = list(engine.muscle_names)
        # An optional engine capability, not part of the Engine interface: only a drawing needs it.
        self._muscle_paths = getattr(engine, "muscle_paths", None)
        self.marker_names = [marker.name for marker in structure.markers]

    def _read_spheres(self, structure: ModelStructure) -> None:
        """The contact spheres of ``structure`` (re-read when the engine resizes them: RunEnv's obstacles)."""
        self._structure = structure
        self._spheres = [(c.name, c.body, np.array(c.location, dtype=float), float(c.radius))
                         for c in structure.contact_geometry if c.kind == "sphere" and c.radius is not None]

    @staticmethod
    def _segment_axes(point: np.ndarray, mass: float) -> np.ndarray:
        """Semi-axes (columns) of a heavy segment's ellipsoid from its origin to ``point``."""
        length = float(np.linalg.norm(point))
        direction = point / length
        width = np.array([0.0, 0.0, 1.0]) - direction * direction[2]
        width = width / max(float(np.linalg.norm(width)), 1e-9)
        depth = np.cross(direction, width)
        radius = math.sqrt(mass / (_DENSITY * math.pi * length))
        return np.column_stack([depth * 0.8 * radius, direction * 0.55 * length, width * 1.2 * radius])

    def _poses(self, description: dict) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Ground-frame origin and rotation of every body (and the ground) in a state description."""
        origin = {"ground": np.zeros(3)}
        rotation = {"ground": np.eye(3)}
        for name in self.body_names:
            origin[name] = np.asarray(description["body_pos"][name], dtype=float)
            rotation[name] = rotation_from_body_fixed_xyz(description["body_pos_rot"][name])
        return origin, rotation

    def compute(self) -> SceneGeometry:
        """The geometry of the engine's current state."""
        engine = self.engine
        if engine.structure is not self._structure:
            self._read_spheres(engine.structure)
        description = engine.state_description()
        origin, rotation = self._poses(description)

        def to_ground(body: str, local: np.ndarray) -> np.ndarray:
            return origin[body] + rotation[body] @ local

        starts = [to_ground(body, start) for body, start, _, _ in self._capsules]
        ends = [origin[end] if isinstance(end, str) else to_ground(body, end) for body, _, end, _ in self._capsules]
        muscles = description.get("muscles", {})
        paths = self._muscle_paths() if self._muscle_paths is not None else []
        markers = description.get("markers", {})
        return SceneGeometry(
            time=engine.time,
            capsule_start=np.array(starts).reshape(-1, 3),
            capsule_end=np.array(ends).reshape(-1, 3),
            capsule_radius=np.array([radius for *_, radius in self._capsules], dtype=float),
            capsule_body=[body for body, *_ in self._capsules],
            ellipsoid_center=np.array([to_ground(b, c) for b, c, _ in self._ellipsoids]).reshape(-1, 3),
            ellipsoid_axes=np.array([rotation[b] @ a for b, _, a in self._ellipsoids]).reshape(-1, 3, 3),
            ellipsoid_body=[body for body, *_ in self._ellipsoids],
            muscle_names=list(self.muscle_names),
            muscle_paths=paths,
            activations=np.array([muscles[name]["activation"] for name in self.muscle_names], dtype=float),
            contact_names=[name for name, *_ in self._spheres],
            contact_center=np.array([to_ground(b, c) for _, b, c, _ in self._spheres]).reshape(-1, 3),
            contact_radius=np.array([radius for *_, radius in self._spheres], dtype=float),
            contact_is_prop=np.array([body in self.prop_names for _, body, _, _ in self._spheres], dtype=bool),
            marker_names=list(self.marker_names),
            marker_positions=np.array([markers[name]["pos"] for name in self.marker_names], dtype=float).reshape(-1, 3),
            prop_names=list(self.prop_names),
            prop_positions=np.array([origin[name] for name in self.prop_names]).reshape(-1, 3),
            body_positions={name: origin[name] for name in self.body_names},
        )

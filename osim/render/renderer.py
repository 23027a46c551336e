"""Headless images of an environment: a small painter's-algorithm rasteriser on Pillow.

No display, GPU or mesh file is needed. Each frame draws, back to front: the sky and the ground with
a 1 m grid, the task's ground markings (L2M2019's target-velocity field, ProstheticsEnv's target
velocity), the shadow on the ground of everything above it (so height above the ground reads), then
the body's capsules and ellipsoids, the muscles (polylines coloured by activation, blue = 0 to
red = 1), contact spheres, obstacles, targets and markers, sorted by depth. Muscles are
drawn as if slightly nearer than they are, so that a limb's muscles show on top of that limb while
the far leg's muscles stay behind the near leg.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from osim._optional import require
from osim.engine.geometry import BodyGeometry, SceneGeometry
from osim.engine.simulation import Simulation
from osim.motion import engine_of

from . import colors
from .camera import CAMERAS, NEAR, Camera
from .structure_geometry import StructureGeometry

require("PIL", extra="render", feature="osim.render.Renderer (drawing frames)")

from PIL import Image, ImageDraw, ImageFont  # noqa: E402  (after the check, for a one-line message)

#: Muscles are sorted as if this much nearer to the camera (m): less than half the hip width.
MUSCLE_DEPTH_BIAS = 0.08
#: Drawn muscle thickness (m), at least 2 pixels.
MUSCLE_THICKNESS = 0.012
#: Arm targets are drawn with at least this radius (m): the original's 2 cm ball is hard to see.
TARGET_RADIUS = 0.035
#: Half-size (m) of the ground grid around the camera target, and its spacing.
GRID_HALF_SIZE = 8
GRID_SPACING = 1.0
#: A walking model is framed from this far above its highest point (m) down to this far below the
#: ground (m, at the body's distance): the ground in front of the feet shows the shadow. A fixed-base
#: model whose reach comes that close to the ground is framed down to the same depth.
FRAME_MARGIN_ABOVE = 0.2
FRAME_GROUND_BELOW = 0.35
#: Points on each rounded end of a drawn capsule.
_CAP_POINTS = 9
#: Length (m) of a 1 m/s arrow in the L2M2019 target-velocity field (grid spacing is 1 m).
FIELD_ARROW_SCALE = 0.35
#: Direction the light travels (ground frame, not normalised): mostly down, a little forward (+x)
#: and towards the model's right (+z), so both cameras see the shadow in front of the feet.
LIGHT_DIRECTION = np.array([0.25, -1.0, 0.25])
#: Points on each rounded end of a capsule's shadow, and around an ellipsoid's shadow.
_SHADOW_CAP_POINTS = 7
_SHADOW_ELLIPSE_POINTS = 20


def _onto_ground(points: np.ndarray) -> np.ndarray:
    """Where the light ray through each ground-frame point (..., 3) meets the ground plane y = 0."""
    return points - LIGHT_DIRECTION * (points[..., 1:2] / LIGHT_DIRECTION[1])


def capsule_shadows(starts: np.ndarray, ends: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """Outlines on the ground (n x 2k x 3, y = 0) of the shadows of n capsules (a sphere: start = end).

    Each shadow is drawn as the ground-plane capsule between the shadows of the two end points, with
    the capsule's radius (exact for a vertical light, close for the nearly vertical one used).
    """
    a, b = _onto_ground(starts), _onto_ground(ends)
    axis = (b - a)[:, [0, 2]]
    length = np.linalg.norm(axis, axis=1)
    angle = np.where(length > 1e-9, np.arctan2(axis[:, 1], axis[:, 0]), 0.0)
    turns = angle[:, None] + np.linspace(-math.pi / 2, math.pi / 2, _SHADOW_CAP_POINTS)[None, :]
    cap = radii[:, None, None] * np.stack([np.cos(turns), np.zeros_like(turns), np.sin(turns)], axis=2)
    return np.concatenate([b[:, None, :] + cap, a[:, None, :] - cap], axis=1)


def ellipsoid_shadows(centers: np.ndarray, axes: np.ndarray) -> np.ndarray:
    """Outlines on the ground (n x k x 3, y = 0) of the shadows of n ellipsoids (columns of axes[i]).

    Projection along the light is linear, so an ellipsoid's shadow is exactly an ellipse: the image
    of the unit sphere under the ground-plane part of (projection @ axes).
    """
    projection = np.eye(3) - np.outer(LIGHT_DIRECTION, [0.0, 1.0, 0.0]) / LIGHT_DIRECTION[1]
    shapes = (projection @ axes)[:, [0, 2], :]  # n x 2 x 3
    eigenvalues, eigenvectors = np.linalg.eigh(shapes @ shapes.transpose(0, 2, 1))
    half_axes = eigenvectors * np.sqrt(np.maximum(eigenvalues, 0.0))[:, None, :]
    angles = np.linspace(0, 2 * math.pi, _SHADOW_ELLIPSE_POINTS, endpoint=False)
    ring = half_axes @ np.stack([np.cos(angles), np.sin(angles)])  # n x 2 x k
    ground = _onto_ground(centers)
    return np.stack([ground[:, None, 0] + ring[:, 0], np.zeros(ring[:, 0].shape),
                     ground[:, None, 2] + ring[:, 1]], axis=2)


def _clip_to_box(p0: list[float], p1: list[float], low: np.ndarray,
                 high: np.ndarray) -> list[tuple[float, float]] | None:
    """The part of the 2-D segment p0-p1 inside the box [low, high] (Liang-Barsky), or None."""
    t0, t1 = 0.0, 1.0
    dx, dy = p1[0] - p0[0], p1[1] - p0[1]
    for p, q in ((-dx, p0[0] - low[0]), (dx, high[0] - p0[0]), (-dy, p0[1] - low[1]), (dy, high[1] - p0[1])):
        if p == 0:
            if q < 0:
                return None
            continue
        r = q / p
        if p < 0:
            t0 = max(t0, r)
        else:
            t1 = min(t1, r)
        if t0 > t1:
            return None
    return [(p0[0] + t0 * dx, p0[1] + t0 * dy), (p0[0] + t1 * dx, p0[1] + t1 * dy)]


class Renderer:
    """Draws the current state of an environment into an RGB array.

    Args:
        env: an environment on any engine (``L2M2019Env(engine="mujoco")``, the generic
            :class:`~osim.env.Environment`), its Gymnasium adapter, or an :class:`~osim.engine.Engine`.
        camera: ``"side"`` (from the model's right) or ``"three_quarter"`` (front-right, from above).
        width, height: image size in pixels.
        show_time: write the simulation time in the top-left corner.

    Locomotion models (a root joint that translates) are followed by the camera; fixed-base models
    (the arm) are framed once around their first moving joint. On OpenSim the model's joint frames
    and muscle paths are drawn (:class:`~osim.engine.geometry.BodyGeometry`); on another engine the
    shapes come from the engine's structure and state description
    (:class:`~osim.render.structure_geometry.StructureGeometry`; muscle paths where the engine
    reports them, as the MuJoCo engine does).
    """

    def __init__(self, env: Any, camera: str = "side", width: int = 480, height: int = 360,
                 show_time: bool = True) -> None:
        if camera not in CAMERAS:
            raise ValueError(f"camera must be one of {sorted(CAMERAS)}, got {camera!r}")
        self.env = getattr(env, "osim_env", env)
        self.sim = engine_of(env)
        self.geometry: BodyGeometry | StructureGeometry = (
            BodyGeometry(self.sim) if isinstance(self.sim, Simulation) else StructureGeometry(self.sim))
        self.camera_name = camera
        self.width = int(width)
        self.height = int(height)
        self.show_time = show_time
        self._camera: Camera | None = None
        self._background: Image.Image | None = None
        self._font = ImageFont.load_default()
        self._last_scene: SceneGeometry | None = None
        self._shadow_mask = Image.new("L", (self.width, self.height), 0)

    # -- framing --------------------------------------------------------------------------------

    def _frame(self, scene: SceneGeometry) -> None:
        """Choose what the camera follows and how far it stands (once, from the first frame)."""
        structure = self.sim.structure
        joints = structure.joints
        self._follow_body: str | None = None
        pivot: np.ndarray | None = None
        for joint in joints:
            child = joint.child
            if child in scene.prop_names or not joint.coordinates:
                continue
            translates = any(structure.coordinate(name).motion_type == "translational"
                             for name in joint.coordinates)
            if joint.parent == "ground" and translates:
                self._follow_body = child
            elif pivot is None:
                pivot = scene.body_positions[child]
            break
        # Joint centres and the top and bottom of every ellipsoid (the head reaches highest).
        reach = np.linalg.norm(scene.ellipsoid_axes, axis=1).max(axis=1, initial=0.0)[:, None]
        up = np.array([0.0, 1.0, 0.0])
        points = np.concatenate([a for a in (scene.capsule_start, scene.capsule_end,
                                             scene.ellipsoid_center + reach * up,
                                             scene.ellipsoid_center - reach * up) if len(a)], axis=0)
        fov = 40.0
        tan_half = math.tan(math.radians(fov) / 2)
        if self._follow_body is not None:
            # From a little above the head down to some ground in front of the feet, for the shadow.
            top = float(points[:, 1].max()) + FRAME_MARGIN_ABOVE
            self._target_height = (top - FRAME_GROUND_BELOW) / 2
            half_view = (top + FRAME_GROUND_BELOW) / 2
        else:
            # Frame every pose the limb can take: its reach from the pivot is at most the summed
            # lengths of the moving segments (pose-independent, unlike the first frame's extent).
            welded = {"ground"}
            for joint in joints:
                if not joint.coordinates and joint.parent in welded:
                    welded.add(joint.child)
            moving = np.array([body not in welded for body in scene.capsule_body], dtype=bool)
            lengths = np.linalg.norm(scene.capsule_end - scene.capsule_start, axis=1)
            ellipsoid_reach = sum(2 * float(r) for body, r in zip(scene.ellipsoid_body, reach[:, 0])
                                  if body not in welded)
            center = pivot if pivot is not None else points.mean(axis=0)
            half_view = float(lengths[moving].sum()) + ellipsoid_reach + 0.1
            bottom = center[1] - half_view
            if bottom < FRAME_GROUND_BELOW:  # the ground is just below: show it, with the shadow
                bottom = min(bottom, -FRAME_GROUND_BELOW)
                half_view = (center[1] + half_view - bottom) / 2
                center = np.array([center[0], bottom + half_view, center[2]])
            self._fixed_target = center
        self._camera = Camera(self.camera_name, self.width, self.height,
                              distance=half_view / tan_half + 0.3, fov=fov)
        self._background = self._make_background(self._camera)

    def _make_background(self, camera: Camera) -> Image.Image:
        """Sky gradient above the horizon, plain ground below (the camera never rolls or pitches)."""
        horizon = round(np.clip(camera.horizon_row(), 0, self.height))
        rows = np.zeros((self.height, 1, 3))
        if horizon > 0:
            t = np.linspace(0.0, 1.0, horizon)[:, None]
            rows[:horizon, 0] = (1 - t) * np.array(colors.SKY_TOP) + t * np.array(colors.SKY_HORIZON)
        rows[horizon:, 0] = colors.GROUND
        pixels = np.broadcast_to(rows, (self.height, self.width, 3)).astype(np.uint8)
        return Image.fromarray(np.ascontiguousarray(pixels))

    def _aim(self, scene: SceneGeometry) -> Camera:
        if self._camera is None:
            self._frame(scene)
        camera = self._camera
        assert camera is not None
        if self._follow_body is not None:
            root = scene.body_positions[self._follow_body]
            if np.isfinite(root).all():
                camera.look_at(np.array([root[0], self._target_height, root[2]]))
        else:
            camera.look_at(self._fixed_target)
        return camera

    # -- drawing --------------------------------------------------------------------------------

    def render(self) -> np.ndarray:
        """An image of the current state: ``(height, width, 3)`` ``uint8``."""
        scene = self.geometry.compute()
        if np.isfinite(scene.capsule_start).all() and np.isfinite(scene.capsule_end).all():
            self._last_scene = scene
        elif self._last_scene is not None:
            scene = self._last_scene  # OpenSim failed (NaN state): show the last valid pose
        camera = self._aim(scene)
        assert self._background is not None
        image = self._background.copy()
        draw = ImageDraw.Draw(image)
        self._draw_grid(draw, camera)
        description = self.env.get_state_desc() if hasattr(self.env, "get_state_desc") else {}
        self._draw_task_ground(draw, camera, scene, description)
        self._draw_shadow(image, camera, scene)
        self._draw_objects(draw, camera, scene)
        if self.show_time:
            draw.text((6, 4), f"t = {scene.time:.2f} s", fill=colors.TEXT, font=self._font)
        return np.asarray(image)

    def _segments(self, draw: ImageDraw.ImageDraw, camera: Camera, starts: np.ndarray,
                  ends: np.ndarray, color: colors.Color, width: int) -> None:
        """Ground-frame line segments (n x 3 each), clipped to the near plane and to the image.

        Clipping matters for speed too: Pillow rasterises a line's whole length, and a line passing
        close to the camera projects to pixels far outside the image.
        """
        a, b = camera.to_camera(starts), camera.to_camera(ends)
        in_front = (a[:, 2] >= NEAR) | (b[:, 2] >= NEAR)
        a, b = a[in_front], b[in_front]
        t = np.clip((NEAR - a[:, 2]) / np.where(b[:, 2] != a[:, 2], b[:, 2] - a[:, 2], 1.0), 0.0, 1.0)
        a = np.where((a[:, 2] < NEAR)[:, None], a + t[:, None] * (b - a), a)
        t = np.clip((NEAR - b[:, 2]) / np.where(a[:, 2] != b[:, 2], a[:, 2] - b[:, 2], 1.0), 0.0, 1.0)
        b = np.where((b[:, 2] < NEAR)[:, None], b + t[:, None] * (a - b), b)
        pa, pb = camera.project(a), camera.project(b)
        low = np.array([-2.0, -2.0])
        high = np.array([self.width + 2.0, self.height + 2.0])
        for p0, p1 in zip(pa.tolist(), pb.tolist()):
            clipped = _clip_to_box(p0, p1, low, high)
            if clipped is not None:
                draw.line(clipped, fill=color, width=width)

    def _draw_grid(self, draw: ImageDraw.ImageDraw, camera: Camera) -> None:
        cx, cz = (round(camera.target[i] / GRID_SPACING) * GRID_SPACING for i in (0, 2))
        half = GRID_HALF_SIZE * GRID_SPACING
        k = np.arange(-half, half + GRID_SPACING / 2, GRID_SPACING)
        zeros, ones = np.zeros_like(k), np.ones_like(k)
        starts = np.concatenate([np.stack([cx + k, zeros, (cz - half) * ones], axis=1),
                                 np.stack([(cx - half) * ones, zeros, cz + k], axis=1)])
        ends = np.concatenate([np.stack([cx + k, zeros, (cz + half) * ones], axis=1),
                               np.stack([(cx + half) * ones, zeros, cz + k], axis=1)])
        self._segments(draw, camera, starts, ends, colors.GRID, 1)

    def _arrows(self, draw: ImageDraw.ImageDraw, camera: Camera, starts: np.ndarray,
                vectors: np.ndarray, color: colors.Color, width: int) -> None:
        """Arrows on the ground plane (n x 3 starts and vectors), with heads."""
        lengths = np.linalg.norm(vectors, axis=1)
        keep = np.isfinite(lengths) & (lengths > 1e-6)
        starts, vectors, lengths = starts[keep], vectors[keep], lengths[keep]
        if not len(starts):
            return
        ends = starts + vectors
        direction = vectors / lengths[:, None]
        side = np.cross(direction, np.array([0.0, 1.0, 0.0]))
        head = 0.3 * np.minimum(lengths, 0.5)[:, None]
        left = ends - head * direction + 0.5 * head * side
        right = ends - head * direction - 0.5 * head * side
        points = camera.to_camera(np.stack([starts, ends, left, right], axis=1))  # n x 4 x 3
        visible = (points[..., 2] > NEAR).all(axis=1)
        pixels = camera.project(points[visible])
        inside = ((pixels[..., 0] > -2) & (pixels[..., 0] < self.width + 2)
                  & (pixels[..., 1] > -2) & (pixels[..., 1] < self.height + 2)).any(axis=1)
        pixels = pixels[inside]
        for s, e, left, right in pixels.tolist():
            draw.line([tuple(s), tuple(e), tuple(left), tuple(e), tuple(right)], fill=color, width=width)

    def _draw_task_ground(self, draw: ImageDraw.ImageDraw, camera: Camera, scene: SceneGeometry,
                          description: Any) -> None:
        """L2M2019's target-velocity field and ProstheticsEnv's target velocity, on the ground."""
        pelvis = scene.body_positions.get("pelvis")
        if pelvis is None or not np.isfinite(pelvis).all():
            return
        field = description.get("v_tgt_field") if isinstance(description, dict) else None
        if field is not None:
            field = np.asarray(field, dtype=float)
            if field.shape == (2, 11, 11):
                yaw = float(description["joint_pos"]["ground_pelvis"][2]) \
                    if len(description["joint_pos"]["ground_pelvis"]) > 2 else 0.0
                # Body frame: forward = x rotated by yaw about y; leftward = -z rotated likewise.
                forward = np.array([math.cos(yaw), 0.0, -math.sin(yaw)])
                leftward = np.array([-math.sin(yaw), 0.0, -math.cos(yaw)])
                offsets = np.arange(-5.0, 6.0)
                grid_f, grid_l = np.meshgrid(offsets, offsets, indexing="ij")  # i forward, j leftward
                base = np.array([pelvis[0], 0.01, pelvis[2]])
                starts = (base + grid_f.reshape(-1, 1) * forward + grid_l.reshape(-1, 1) * leftward)
                vectors = FIELD_ARROW_SCALE * (field[0].reshape(-1, 1) * forward
                                               + field[1].reshape(-1, 1) * leftward)
                self._arrows(draw, camera, starts, vectors, colors.VELOCITY_FIELD, 1)
        target_velocity = description.get("target_vel") if isinstance(description, dict) else None
        if target_velocity is not None:
            velocity = np.asarray(target_velocity, dtype=float)[:3] * np.array([1.0, 0.0, 1.0])
            start = np.array([[pelvis[0], 0.01, pelvis[2]]])
            self._arrows(draw, camera, start, velocity[None, :], colors.TARGET_VELOCITY, 3)

    def _targets(self, scene: SceneGeometry) -> np.ndarray:
        """Reaching targets (n x 3): bodies named ``*target*``, else the env's ``target_x``/``target_y``."""
        targets = [p for name, p in zip(scene.prop_names, scene.prop_positions) if "target" in name.lower()]
        if not targets and hasattr(self.env, "target_x") and hasattr(self.env, "target_y"):
            targets = [np.array([float(self.env.target_x), float(self.env.target_y), 0.0])]
        return np.array(targets, dtype=float).reshape(-1, 3)

    def _draw_shadow(self, image: Image.Image, camera: Camera, scene: SceneGeometry) -> None:
        """The body's shadow: its capsules, ellipsoids, contact spheres and targets projected onto the
        ground along :data:`LIGHT_DIRECTION`, blended over the ground at :data:`colors.SHADOW_OPACITY`.

        All shadow polygons go into one mask first, so where they overlap the ground is darkened
        once, as by a single shadow.
        """
        spheres = scene.contact_radius >= 1e-3  # parked RunEnv obstacles have radius 1e-4
        targets = self._targets(scene)
        ball_centers = np.concatenate([scene.contact_center[spheres], targets])
        radii = np.concatenate([scene.contact_radius[spheres], np.full(len(targets), TARGET_RADIUS)])
        outlines = [capsule_shadows(np.concatenate([scene.capsule_start, ball_centers]),
                                    np.concatenate([scene.capsule_end, ball_centers]),
                                    np.concatenate([scene.capsule_radius, radii]))]
        middles, semi_axes = scene.ellipsoid_center, scene.ellipsoid_axes
        finite = np.isfinite(middles).all(axis=1) & np.isfinite(semi_axes).all(axis=(1, 2))
        if finite.any():
            outlines.append(ellipsoid_shadows(middles[finite], semi_axes[finite]))
        mask = self._shadow_mask
        mask.paste(0, (0, 0, self.width, self.height))
        draw = ImageDraw.Draw(mask)
        opacity = round(255 * colors.SHADOW_OPACITY)
        for ground in outlines:
            if not len(ground):
                continue
            points = camera.to_camera(ground)
            keep = (points[..., 2] > NEAR).all(axis=1) & np.isfinite(points).all(axis=(1, 2))
            for polygon in camera.project(points[keep]).tolist():
                draw.polygon([tuple(p) for p in polygon], fill=opacity)
        box = mask.getbbox()
        if box is not None:
            image.paste(colors.SHADOW, box, mask.crop(box))

    def _draw_objects(self, draw: ImageDraw.ImageDraw, camera: Camera, scene: SceneGeometry) -> None:
        """Body shapes, muscles, contacts, props and markers, far to near."""
        items: list[tuple[float, int, Any]] = []  # (depth, kind, payload)
        cam = camera.to_camera
        if len(scene.capsule_start):
            a, b = cam(scene.capsule_start), cam(scene.capsule_end)
            for i in range(len(a)):
                items.append(((a[i, 2] + b[i, 2]) / 2, 0, (a[i], b[i], scene.capsule_radius[i],
                                                            scene.capsule_body[i])))
        if len(scene.ellipsoid_center):
            centers = cam(scene.ellipsoid_center)
            for i in range(len(centers)):
                items.append((centers[i, 2], 1, (centers[i], scene.ellipsoid_axes[i],
                                                 scene.ellipsoid_body[i])))
        for path, activation in zip(scene.muscle_paths, scene.activations.tolist()):
            if len(path) >= 2:
                points = cam(path)
                items.append((points[:, 2].mean() - MUSCLE_DEPTH_BIAS, 2, (points, activation)))
        if len(scene.contact_center):
            centers = cam(scene.contact_center)
            for i in range(len(centers)):
                if scene.contact_radius[i] >= 1e-3:  # parked RunEnv obstacles have radius 1e-4
                    color = colors.OBSTACLE if scene.contact_is_prop[i] else colors.CONTACT
                    items.append((centers[i, 2], 3, (centers[i], scene.contact_radius[i], color,
                                                     bool(scene.contact_is_prop[i]))))
        for target in self._targets(scene):
            center = cam(target)
            items.append((center[2], 3, (center, TARGET_RADIUS, colors.TARGET, True)))
        if len(scene.marker_positions):
            markers = cam(scene.marker_positions)
            for i in range(len(markers)):
                items.append((markers[i, 2] - 0.05, 4, markers[i]))

        items.sort(key=lambda item: -item[0] if np.isfinite(item[0]) else math.inf)
        for depth, kind, payload in items:
            if not np.isfinite(depth) or depth < NEAR:
                continue
            if kind == 0:
                self._capsule(draw, camera, *payload)
            elif kind == 1:
                self._ellipsoid(draw, camera, *payload)
            elif kind == 2:
                self._muscle(draw, camera, *payload)
            elif kind == 3:
                self._sphere(draw, camera, *payload)
            else:
                (u, v), = camera.project(payload[None, :])
                draw.ellipse([u - 2, v - 2, u + 2, v + 2], fill=colors.MARKER)

    @staticmethod
    def _finite(*arrays: np.ndarray) -> bool:
        return all(np.isfinite(a).all() for a in arrays)

    def _capsule(self, draw: ImageDraw.ImageDraw, camera: Camera, a: np.ndarray, b: np.ndarray,
                 radius: float, body: str) -> None:
        if not self._finite(a, b) or min(a[2], b[2]) < NEAR:
            return
        ends = camera.project(np.stack([a, b]))
        radii = np.maximum(camera.focal * radius / np.array([a[2], b[2]]), 1.0)
        axis = ends[1] - ends[0]
        length = float(np.hypot(*axis))
        # Seen end-on, a capsule is a disc; otherwise two half-discs joined by straight sides.
        direction = axis / length if length > 1e-6 else np.array([1.0, 0.0])
        angles = np.arctan2(direction[1], direction[0]) + np.linspace(-math.pi / 2, math.pi / 2, _CAP_POINTS)
        cap = np.stack([np.cos(angles), np.sin(angles)], axis=1)
        outline = np.concatenate([ends[1] + radii[1] * cap, ends[0] - radii[0] * cap])
        base = colors.body_color(body)
        draw.polygon([tuple(p) for p in outline.tolist()], fill=base, outline=colors.OUTLINE, width=1)
        # A lighter core line gives the tube some volume.
        core = max(round(0.8 * radii.mean()), 1)
        draw.line([tuple(ends[0]), tuple(ends[1])], fill=colors.shade(base, 1.35), width=core)

    def _ellipsoid(self, draw: ImageDraw.ImageDraw, camera: Camera, center: np.ndarray,
                   axes: np.ndarray, body: str) -> None:
        if not self._finite(center, axes) or center[2] < NEAR:
            return
        # Projection linearised at the centre: each semi-axis maps through the camera's Jacobian.
        scale = camera.focal / center[2]
        image_axes = scale * (camera.rotation @ axes)[:2] * np.array([[1.0], [-1.0]])  # 2 x 3
        shape = image_axes @ image_axes.T
        eigenvalues, eigenvectors = np.linalg.eigh(shape)
        half_axes = eigenvectors * np.sqrt(np.maximum(eigenvalues, 0.25))
        (u, v), = camera.project(center[None, :])
        angles = np.linspace(0, 2 * math.pi, 28, endpoint=False)
        circle = np.stack([np.cos(angles), np.sin(angles)])
        outline = (half_axes @ circle).T + np.array([u, v])
        base = colors.body_color(body)
        draw.polygon([tuple(p) for p in outline.tolist()], fill=base, outline=colors.OUTLINE, width=2)
        # A highlight towards the upper left gives the shape some volume.
        highlight = (0.45 * half_axes @ circle).T + np.array([u, v]) - 0.25 * np.abs(half_axes).sum(axis=1)
        draw.polygon([tuple(p) for p in highlight.tolist()], fill=colors.shade(base, 1.3))

    def _muscle(self, draw: ImageDraw.ImageDraw, camera: Camera, points: np.ndarray,
                activation: float) -> None:
        if not self._finite(points) or (points[:, 2] < NEAR).any():
            return
        pixels = camera.project(points)
        width = max(2, round(camera.focal * MUSCLE_THICKNESS / points[:, 2].mean()))
        draw.line([tuple(p) for p in pixels.tolist()], fill=colors.activation_color(activation),
                  width=width, joint="curve")

    def _sphere(self, draw: ImageDraw.ImageDraw, camera: Camera, center: np.ndarray, radius: float,
                color: colors.Color, filled: bool) -> None:
        if not self._finite(center) or center[2] < NEAR:
            return
        (u, v), = camera.project(center[None, :])
        r = max(camera.focal * radius / center[2], 1.5)
        box = [u - r, v - r, u + r, v + r]
        if filled:
            draw.ellipse(box, fill=color, outline=colors.shade(color, 0.6), width=1)
        else:
            draw.ellipse(box, outline=color, width=2)

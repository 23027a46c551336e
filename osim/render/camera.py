"""A pinhole camera: named viewpoints, framing and projection of ground-frame points to pixels."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Named viewpoints: (azimuth from the model's right side towards its front, elevation), degrees.
#: OpenSim models face +x with +y up and +z to their right, so "side" looks along -z.
CAMERAS: dict[str, tuple[float, float]] = {
    "side": (0.0, 10.0),
    "three_quarter": (40.0, 15.0),
}

#: Points closer to the camera than this (m, along the view axis) are clipped.
NEAR = 0.05


@dataclass
class Camera:
    """Looks at ``target`` from ``distance`` metres, from a named viewpoint; ``fov`` is vertical (deg)."""

    name: str
    width: int
    height: int
    distance: float
    fov: float = 40.0

    def __post_init__(self) -> None:
        if self.name not in CAMERAS:
            raise ValueError(f"camera must be one of {sorted(CAMERAS)}, got {self.name!r}")
        if self.width < 16 or self.height < 16:
            raise ValueError(f"image size must be at least 16 x 16 pixels, got {self.width} x {self.height}")
        azimuth, elevation = (math.radians(a) for a in CAMERAS[self.name])
        # Unit vector from the target towards the camera.
        self.backward = np.array([
            math.sin(azimuth) * math.cos(elevation),
            math.sin(elevation),
            math.cos(azimuth) * math.cos(elevation),
        ])
        self.right = np.cross(np.array([0.0, 1.0, 0.0]), self.backward)
        self.right /= np.linalg.norm(self.right)
        self.up = np.cross(self.backward, self.right)
        # Rows: camera axes (right, up, forward) in ground coordinates.
        self.rotation = np.stack([self.right, self.up, -self.backward])
        self.focal = self.height / 2 / math.tan(math.radians(self.fov) / 2)
        self.center = np.array([self.width / 2, self.height / 2])
        self.elevation = elevation
        self.look_at(np.zeros(3))

    def look_at(self, target: np.ndarray) -> None:
        """Point the camera at ``target`` (it keeps its direction and distance)."""
        self.target = np.asarray(target, dtype=float)
        self.eye = self.target + self.backward * self.distance

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        """Ground-frame points (..., 3) -> camera coordinates (x right, y up, z depth ahead)."""
        return (np.asarray(points, dtype=float) - self.eye) @ self.rotation.T

    def project(self, camera_points: np.ndarray) -> np.ndarray:
        """Camera coordinates (..., 3) with depth > 0 -> pixel coordinates (..., 2)."""
        depth = np.maximum(camera_points[..., 2], NEAR)
        u = self.center[0] + self.focal * camera_points[..., 0] / depth
        v = self.center[1] - self.focal * camera_points[..., 1] / depth
        return np.stack([u, v], axis=-1)

    def horizon_row(self) -> float:
        """Image row of the ground plane's horizon (the camera does not roll)."""
        return self.center[1] - self.focal * math.tan(self.elevation)

"""Bilinear interpolation on a rectangular grid with nearest-edge extrapolation.

The 2019 target-velocity field was interpolated with ``scipy.interpolate.interp2d(x, y, z,
kind='linear')``, removed in SciPy 1.14. On a rectangular grid that function fitted the piecewise
bilinear spline through the node values and, for a query outside the grid, evaluated it at the
nearest point of the grid's edge (FITPACK's ``bispev`` clamps its arguments). This module computes
the same values directly, vectorised over any number of query points.
"""
from __future__ import annotations

from bisect import bisect_right

import numpy as np


class BilinearGrid:
    """Bilinear interpolation of ``values[c, i, j]`` given at nodes ``(x[i], y[j])``.

    Args:
        x: strictly increasing node coordinates along the first axis (at least 2).
        y: strictly increasing node coordinates along the second axis (at least 2).
        values: array of shape ``(len(x), len(y))`` or ``(n_components, len(x), len(y))``.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, values: np.ndarray) -> None:
        self.x = np.asarray(x, dtype=np.float64)
        self.y = np.asarray(y, dtype=np.float64)
        for name, nodes in (("x", self.x), ("y", self.y)):
            if nodes.ndim != 1 or nodes.size < 2 or not np.all(np.diff(nodes) > 0):
                raise ValueError(f"{name} must be a strictly increasing 1-D array of >= 2 nodes")
        values = np.asarray(values, dtype=np.float64)
        self._single = values.ndim == 2
        self.values = values[np.newaxis] if self._single else values
        if self.values.shape[1:] != (self.x.size, self.y.size):
            raise ValueError(
                f"values must have shape ({self.x.size}, {self.y.size}) or (n, {self.x.size}, "
                f"{self.y.size}); got {values.shape}"
            )
        # Plain floats for one query point (the pelvis's, every step): numpy's per-call overhead
        # is most of the work there; the operations and their order are those of the array path.
        self._x_nodes: list[float] = self.x.tolist()
        self._y_nodes: list[float] = self.y.tolist()

    @staticmethod
    def _cell(nodes: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Index of the cell holding each (clamped) query and the fraction of the way across it."""
        # minimum/maximum: the same values as np.clip, without its dispatch cost on a small array
        clamped = np.minimum(np.maximum(query, nodes[0]), nodes[-1])
        index = np.minimum(np.maximum(np.searchsorted(nodes, clamped, side="right") - 1, 0), nodes.size - 2)
        fraction = (clamped - nodes[index]) / (nodes[index + 1] - nodes[index])
        return index, fraction

    @staticmethod
    def _scalar_cell(nodes: list[float], query: float) -> tuple[int, float]:
        """:meth:`_cell` of one query, in plain floats."""
        clamped = min(max(query, nodes[0]), nodes[-1])
        index = min(max(bisect_right(nodes, clamped) - 1, 0), len(nodes) - 2)
        return index, (clamped - nodes[index]) / (nodes[index + 1] - nodes[index])

    def _at_point(self, qx: float, qy: float) -> np.ndarray:
        """:meth:`__call__` of one point."""
        i, t = self._scalar_cell(self._x_nodes, qx)
        j, u = self._scalar_cell(self._y_nodes, qy)
        corner_00, corner_10, corner_01, corner_11 = (1.0 - t) * (1.0 - u), t * (1.0 - u), (1.0 - t) * u, t * u
        result = np.array([
            v00 * corner_00 + v10 * corner_10 + v01 * corner_01 + v11 * corner_11
            for (v00, v01), (v10, v11) in self.values[:, i:i + 2, j:j + 2].tolist()])
        return result[0] if self._single else result

    def __call__(self, qx: np.ndarray | float, qy: np.ndarray | float) -> np.ndarray:
        """Values at the points ``(qx[k], qy[k])``: shape ``(n_components,) + qx.shape``
        (or ``qx.shape`` when built from a single 2-D value array)."""
        if isinstance(qx, float) and isinstance(qy, float):
            return self._at_point(qx, qy)
        qx = np.asarray(qx, dtype=np.float64)
        qy = np.asarray(qy, dtype=np.float64)
        i, t = self._cell(self.x, qx)
        j, u = self._cell(self.y, qy)
        v = self.values
        result = (
            v[:, i, j] * ((1.0 - t) * (1.0 - u))
            + v[:, i + 1, j] * (t * (1.0 - u))
            + v[:, i, j + 1] * ((1.0 - t) * u)
            + v[:, i + 1, j + 1] * (t * u)
        )
        return result[0] if self._single else result

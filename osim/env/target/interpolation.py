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
        # For arrays of query points: per axis (rows x, y) the first and last node and the last
        # cell; the x then y nodes in one array and where each axis's start; the values flattened
        # per component and each corner's offset in them; work buffers per number of points.
        self._first = np.array([[self.x[0]], [self.y[0]]])
        self._last = np.array([[self.x[-1]], [self.y[-1]]])
        self._last_cell = np.array([[self.x.size - 2], [self.y.size - 2]])
        self._nodes = np.concatenate([self.x, self.y])
        self._axis_offset = np.array([[0], [self.x.size]])
        self._flat = np.ascontiguousarray(self.values.reshape(self.values.shape[0], -1))
        self._corner_offset = np.array([[0], [self.y.size], [1], [self.y.size + 1]])
        self._buffers: dict[int, dict[str, np.ndarray]] = {}

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

    def _work(self, n: int) -> dict[str, np.ndarray]:
        """Buffers for ``n`` query points, made once per ``n`` (the local field's 121 points every step)."""
        work = self._buffers.get(n)
        if work is None:
            components = self.values.shape[0]
            work = self._buffers[n] = {
                "clamped": np.empty((2, n)), "cell": np.empty((2, n), dtype=np.intp),
                "node": np.empty((2, n), dtype=np.intp), "low": np.empty((2, n)), "high": np.empty((2, n)),
                "fraction": np.empty((2, n)), "along_x": np.empty((4, n)), "along_y": np.empty((4, n)),
                "weight": np.empty((4, n)), "corner": np.empty((4, n), dtype=np.intp),
                "values": np.empty((components, 4, n)),
            }
        return work

    def evaluate(self, points: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Values at ``points`` (2, n): x in row 0, y in row 1, into ``out`` (n_components, n).

        Both axes in one pass of array operations into kept buffers (no allocation but the cell
        search's); the same operations, in the same order, as the textbook formula per point:
        ``v[i, j] (1-t)(1-u) + v[i+1, j] t(1-u) + v[i, j+1] (1-t)u + v[i+1, j+1] tu``.
        """
        work = self._work(points.shape[1])
        clamped, cell, node = work["clamped"], work["cell"], work["node"]
        low, high, fraction = work["low"], work["high"], work["fraction"]
        # minimum/maximum: the same values as np.clip, without its dispatch cost on a small array
        np.minimum(np.maximum(points, self._first, out=clamped), self._last, out=clamped)
        cell[0] = self.x.searchsorted(clamped[0], side="right")
        cell[1] = self.y.searchsorted(clamped[1], side="right")
        np.subtract(cell, 1, out=cell)
        np.minimum(np.maximum(cell, 0, out=cell), self._last_cell, out=cell)
        np.add(cell, self._axis_offset, out=node)  # the cell's first node in x then y nodes
        self._nodes.take(node, out=low)
        self._nodes.take(np.add(node, 1, out=node), out=high)
        np.subtract(clamped, low, out=fraction)
        np.subtract(high, low, out=high)
        # t (x) and u (y) and their complements, laid out per corner (00, 10, 01, 11)
        along_x, along_y = work["along_x"], work["along_y"]
        np.divide(fraction[0], high[0], out=along_x[1])
        np.subtract(1.0, along_x[1], out=along_x[0])
        along_x[2:] = along_x[:2]
        np.divide(fraction[1], high[1], out=along_y[2])
        np.subtract(1.0, along_y[2], out=along_y[0])
        along_y[1], along_y[3] = along_y[0], along_y[2]
        weight = np.multiply(along_x, along_y, out=work["weight"])
        corner = work["corner"]
        np.multiply(cell[0], self.y.size, out=corner[0])
        np.add(corner[0], cell[1], out=corner[0])  # corner (i, j) in the flattened value grid
        np.add(corner[0], self._corner_offset, out=corner)
        values = self._flat.take(corner, axis=1, out=work["values"])
        np.multiply(values, weight, out=values)
        return np.sum(values, axis=1, out=out)  # corner by corner, in order

    def __call__(self, qx: np.ndarray | float, qy: np.ndarray | float) -> np.ndarray:
        """Values at the points ``(qx[k], qy[k])``: shape ``(n_components,) + qx.shape``
        (or ``qx.shape`` when built from a single 2-D value array)."""
        if isinstance(qx, float) and isinstance(qy, float):
            return self._at_point(qx, qy)
        qx = np.asarray(qx, dtype=np.float64)
        qy = np.asarray(qy, dtype=np.float64)
        shape = np.broadcast_shapes(qx.shape, qy.shape)
        points = np.stack((np.broadcast_to(qx, shape).ravel(), np.broadcast_to(qy, shape).ravel()))
        result = self.evaluate(points, np.empty((self.values.shape[0], points.shape[1]))).reshape(-1, *shape)
        return result[0] if self._single else result

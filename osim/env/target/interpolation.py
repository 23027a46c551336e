"""Bilinear interpolation on a rectangular grid with nearest-edge extrapolation.

The 2019 target-velocity field was interpolated with ``scipy.interpolate.interp2d(x, y, z,
kind='linear')``, removed in SciPy 1.14. On a rectangular grid that function fitted the piecewise
bilinear spline through the node values and, for a query outside the grid, evaluated it at the
nearest point of the grid's edge (FITPACK's ``bispev`` clamps its arguments). This module computes
the same values directly, vectorised over any number of query points.
"""
from __future__ import annotations

from bisect import bisect_right
from types import ModuleType

import numpy as np

from osim.compiled import load


class BilinearGrid:
    """Bilinear interpolation of ``values[c, i, j]`` given at nodes ``(x[i], y[j])``.

    Args:
        x: strictly increasing node coordinates along the first axis (at least 2).
        y: strictly increasing node coordinates along the second axis (at least 2).
        values: array of shape ``(len(x), len(y))`` or ``(n_components, len(x), len(y))``.
        compiled: evaluate the one-point and rotated queries with the numba kernels of
            :mod:`osim.compiled` (the same bits, faster); None: when numba is installed.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, values: np.ndarray, compiled: bool | None = None) -> None:
        # its own contiguous, writable copies (the kernels' signature; a map's nodes may be read-only)
        self.x = np.array(x, dtype=np.float64)
        self.y = np.array(y, dtype=np.float64)
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
        self._value_lists: list[list[list[float]]] | None = None  # self.values as lists, made when first needed
        # For arrays of query points: per axis (rows x, y) the first and last node; the interior
        # nodes (a search among them gives the cell, first and last cells included, in one call);
        # the x then y nodes and cell widths in one array each and where each axis's start; the
        # values flattened per component and each corner's offset in them; work buffers per count.
        self._first = np.array([[self.x[0]], [self.y[0]]])
        self._last = np.array([[self.x[-1]], [self.y[-1]]])
        self._x_interior = self.x[1:-1].copy()
        self._y_interior = self.y[1:-1].copy()
        self._nodes = np.concatenate([self.x, self.y])
        self._widths = np.concatenate([self.x[1:] - self.x[:-1], [np.nan], self.y[1:] - self.y[:-1], [np.nan]])
        self._axis_offset = np.array([[0], [self.x.size]])
        self._flat = np.ascontiguousarray(self.values.reshape(self.values.shape[0], -1))
        self._corner_offset = np.array([[0], [self.y.size], [1], [self.y.size + 1]])
        self._buffers: dict[int, _Work] = {}
        found = load("osim.env.target._numba_kernels") if compiled is not False else None
        if compiled and found is None:
            raise RuntimeError("compiled=True needs numba (pip install 'osim-rl[mujoco]')")
        self._kernels: ModuleType | None = found
        self._point_out = np.empty(self.values.shape[0])

    @staticmethod
    def _scalar_cell(nodes: list[float], query: float) -> tuple[int, float]:
        """The cell of one query and its fraction along the cell, in plain floats."""
        clamped = min(max(query, nodes[0]), nodes[-1])
        index = min(max(bisect_right(nodes, clamped) - 1, 0), len(nodes) - 2)
        return index, (clamped - nodes[index]) / (nodes[index + 1] - nodes[index])

    def point_values(self, qx: float, qy: float) -> list[float]:
        """The value of every component at the one point ``(qx, qy)``, as Python floats (the
        arithmetic of :meth:`evaluate`, point by point)."""
        if self._kernels is not None:
            return self._kernels.point_values(self.x, self.y, self._flat, qx, qy, self._point_out).tolist()
        i, t = self._scalar_cell(self._x_nodes, qx)
        j, u = self._scalar_cell(self._y_nodes, qy)
        corner_00, corner_10, corner_01, corner_11 = (1.0 - t) * (1.0 - u), t * (1.0 - u), (1.0 - t) * u, t * u
        lists = self._value_lists
        if lists is None:
            lists = self._value_lists = self.values.tolist()
        return [rows[i][j] * corner_00 + rows[i + 1][j] * corner_10 + rows[i][j + 1] * corner_01
                + rows[i + 1][j + 1] * corner_11 for rows in lists]

    def _at_point(self, qx: float, qy: float) -> np.ndarray:
        """:meth:`__call__` of one point."""
        result = np.array(self.point_values(qx, qy))
        return result[0] if self._single else result

    def _work(self, n: int) -> _Work:
        """Buffers for ``n`` query points, made once per ``n`` (the local field's 121 points every step)."""
        work = self._buffers.get(n)
        if work is None:
            work = self._buffers[n] = _Work(n, self.values.shape[0])
        return work

    def evaluate(self, points: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Values at ``points`` (2, n): x in row 0, y in row 1, into ``out`` (n_components, n).

        Both axes in one pass of array operations into kept buffers (no allocation but the cell
        search's); the same operations, in the same order, as the textbook formula per point:
        ``v[i, j] (1-t)(1-u) + v[i+1, j] t(1-u) + v[i, j+1] (1-t)u + v[i+1, j+1] tu`` with
        ``t = (x - x[i]) / (x[i+1] - x[i])`` and ``u`` alike, a query outside the grid clamped to its edge.
        """
        work = self._work(points.shape[1])
        clamped, cell, node = work.clamped, work.cell, work.node
        # minimum/maximum: the same values as np.clip, without its dispatch cost on a small array
        np.minimum(np.maximum(points, self._first, out=clamped), self._last, out=clamped)
        # the number of interior nodes at or below the query: the cell, clamped to the first and last
        cell[0] = self._x_interior.searchsorted(clamped[0], side="right")
        cell[1] = self._y_interior.searchsorted(clamped[1], side="right")
        np.add(cell, self._axis_offset, out=node)  # the cell's first node in x then y nodes
        fraction = np.subtract(clamped, self._nodes.take(node, out=work.low), out=work.fraction)
        # t (x) and u (y), then their complements: factors[k, axis] is 1 - t (k = 0) or t (k = 1)
        np.divide(fraction, self._widths.take(node, out=work.width), out=work.along)
        np.subtract(1.0, work.along, out=work.complement)
        # weight[b, a] = (y factor b) * (x factor a): corners 00, 10, 01, 11 in that order (a product
        # of the same two factors as (x factor) * (y factor): multiplication commutes exactly)
        np.multiply(work.y_factors, work.x_factors, out=work.weight)
        corner = work.corner
        np.multiply(cell[0], self.y.size, out=corner[0])
        np.add(corner[0], cell[1], out=corner[0])  # corner (i, j) in the flattened value grid
        np.add(corner[0], self._corner_offset, out=corner)
        values = self._flat.take(corner, axis=1, out=work.values)
        np.multiply(values, work.flat_weight, out=values)
        return np.add.reduce(values, axis=1, out=out)  # corner by corner, in order

    def evaluate_rotated(self, offsets: np.ndarray, x: float, y: float, cos: float, sin: float,
                         out: np.ndarray) -> np.ndarray:
        """A two-component (vector) field at the points ``(x, y) + R offsets[:, k]``, seen in the
        rotated frame: ``R^T v``, into ``out`` (2, n); ``R`` rotates by the angle of ``cos``, ``sin``.

        The points are ``cos o0 - sin o1 + x`` and ``sin o0 + cos o1 + y`` (each product, their sum,
        then the shift), the vectors ``cos vx + sin vy`` and ``-sin vx + cos vy``; between them :meth:`evaluate`.
        """
        if self.values.shape[0] != 2:
            raise ValueError(f"a rotated query needs a 2-component field, this one has {self.values.shape[0]}")
        if self._kernels is not None:
            return self._kernels.rotated_values(self.x, self.y, self._flat, offsets, x, y, cos, sin, out)
        work = self._work(offsets.shape[1])
        rotation, terms, points = work.rotation, work.terms, work.points
        rotation[0, 0, 0], rotation[0, 1, 0], rotation[1, 0, 0], rotation[1, 1, 0] = cos, -sin, sin, cos
        work.position[0, 0], work.position[1, 0] = x, y
        # terms[r, c] is the rotation's entry (r, c) times coordinate c (x + (-s) is x - s exactly)
        np.multiply(rotation, offsets[np.newaxis], out=terms)
        np.add(np.add(terms[:, 0], terms[:, 1], out=points), work.position, out=points)
        vectors = self.evaluate(points, work.vectors)
        # back to the rotated frame: the transpose's entries
        np.multiply(rotation.transpose(1, 0, 2), vectors[np.newaxis], out=terms)
        return np.add(terms[:, 0], terms[:, 1], out=out)

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


class _Work:
    """:meth:`BilinearGrid.evaluate`'s buffers for ``n`` points and ``components`` value components."""

    __slots__ = ("along", "cell", "clamped", "complement", "corner", "flat_weight", "fraction", "low", "node",
                 "points", "position", "rotation", "terms", "values", "vectors", "weight", "width", "x_factors",
                 "y_factors")

    def __init__(self, n: int, components: int) -> None:
        self.clamped, self.low, self.width, self.fraction = (np.empty((2, n)) for _ in range(4))
        self.cell, self.node = np.empty((2, n), dtype=np.intp), np.empty((2, n), dtype=np.intp)
        factors = np.empty((2, 2, n))  # [1 - t or t, axis, point]
        self.complement, self.along = factors[0], factors[1]
        # x factors (1 - t, t) on the last-but-one axis, y factors (1 - u, u) on the first
        self.x_factors, self.y_factors = factors[np.newaxis, :, 0], factors[:, np.newaxis, 1]
        self.weight = np.empty((2, 2, n))
        self.flat_weight = self.weight.reshape(4, n)
        self.corner = np.empty((4, n), dtype=np.intp)
        self.values = np.empty((components, 4, n))
        # evaluate_rotated's: the rotation (2, 2, 1), the shift, the products, the points and vectors
        self.rotation, self.position = np.empty((2, 2, 1)), np.empty((2, 1))
        self.terms, self.points, self.vectors = np.empty((2, 2, n)), np.empty((2, n)), np.empty((components, n))

"""The target field's numba kernels (:mod:`osim.compiled` imports them when numba is installed).

Each line mirrors an operation of :class:`~.interpolation.BilinearGrid`'s NumPy path, in its order:
change one only with the other (``tests/test_vtgt_field.py`` compares their bits).
"""
from __future__ import annotations

from typing import Any

import numba

# Explicit signatures: compiled (or loaded from numba's cache) when this module is imported, with the
# field's construction, not at the first step of an episode.
_NODES = numba.float64[::1]
_TABLE = numba.float64[:, ::1]


@numba.njit(numba.types.Tuple((numba.intp, numba.float64))(_NODES, numba.float64), cache=True, nogil=True)
def _cell(nodes: Any, query: float) -> tuple[int, float]:  # pragma: no cover - compiled
    """The query's cell (the count of interior nodes at or below it, once clamped to the grid) and
    its fraction along the cell."""
    last = nodes.size - 1
    clamped = min(max(query, nodes[0]), nodes[last])
    # bisection for the first interior node above the query (the cell is the count below it)
    low, high = 1, last
    while low < high:
        middle = (low + high) // 2
        if nodes[middle] <= clamped:
            low = middle + 1
        else:
            high = middle
    index = low - 1
    return index, (clamped - nodes[index]) / (nodes[index + 1] - nodes[index])


@numba.njit(numba.float64(_TABLE, numba.intp, numba.intp, numba.intp, numba.float64, numba.intp, numba.float64),
            cache=True, nogil=True)
def _interpolate(flat: Any, size_y: int, component: int, i: int, t: float, j: int,
                 u: float) -> float:  # pragma: no cover - compiled
    """One component in cell ``(i, j)`` at fractions ``(t, u)``: the four corners' products summed in
    order 00, 10, 01, 11 (``size_y`` nodes along y)."""
    complement_t, complement_u = 1.0 - t, 1.0 - u
    corner = i * size_y + j
    return (flat[component, corner] * (complement_u * complement_t)
            + flat[component, corner + size_y] * (complement_u * t)
            + flat[component, corner + 1] * (u * complement_t)
            + flat[component, corner + size_y + 1] * (u * t))


@numba.njit(numba.float64[::1](_NODES, _NODES, _TABLE, numba.float64, numba.float64, numba.float64[::1]),
            cache=True, nogil=True)
def point_values(x_nodes: Any, y_nodes: Any, flat: Any, qx: float, qy: float, out: Any) -> Any:  # pragma: no cover
    """Every component at ``(qx, qy)`` into ``out`` (components,)."""
    i, t = _cell(x_nodes, qx)
    j, u = _cell(y_nodes, qy)
    for component in range(flat.shape[0]):
        out[component] = _interpolate(flat, y_nodes.size, component, i, t, j, u)
    return out


@numba.njit(_TABLE(_NODES, _NODES, _TABLE, _TABLE, numba.float64, numba.float64, numba.float64, numba.float64,
                   _TABLE), cache=True, nogil=True)
def rotated_values(x_nodes: Any, y_nodes: Any, flat: Any, offsets: Any, x: float, y: float, cos: float,
                   sin: float, out: Any) -> Any:  # pragma: no cover - compiled
    """A 2-D vector field at the points ``(x, y) + R offsets[:, k]`` (R the rotation by the angle of
    ``cos``, ``sin``), as seen in the rotated frame (``R^T v``), into ``out`` (2, n)."""
    for k in range(offsets.shape[1]):
        along, across = offsets[0, k], offsets[1, k]
        qx = (cos * along + (-sin) * across) + x
        qy = (sin * along + cos * across) + y
        i, t = _cell(x_nodes, qx)
        j, u = _cell(y_nodes, qy)
        vx = _interpolate(flat, y_nodes.size, 0, i, t, j, u)
        vy = _interpolate(flat, y_nodes.size, 1, i, t, j, u)
        out[0, k] = cos * vx + sin * vy
        out[1, k] = (-sin) * vx + cos * vy
    return out

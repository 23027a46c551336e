"""The MuJoCo engine's numba kernels (:mod:`osim.compiled` imports them when numba is installed).

Each line mirrors an operation of the engine's NumPy path, in its order: change one only with the
other (``tests/test_mujoco_engine.py`` compares their bits).
"""
from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np

_ROWS = numba.float64[:, ::1]
_INDICES = numba.intp[::1]


@numba.njit(numba.types.UniTuple(_ROWS, 2)(_ROWS, _ROWS, _ROWS, _ROWS, _INDICES, _INDICES, _INDICES),
            cache=True, nogil=True)
def tracked_points(xpos: Any, xipos: Any, subtree_com: Any, cvel: Any, ids: Any, bodies: Any,
                   roots: Any) -> Any:  # pragma: no cover - compiled
    """Position and velocity of the body origins (``ids``) then their centres of mass, as
    ``MujocoSimulation._points`` without markers: the origin is ``xpos + 0.0``; the velocity is
    ``cvel``'s linear part plus its angular part crossed with the offset from the subtree's centre
    of mass (``a1 b2 - a2 b1``, ``a2 b0 - a0 b2``, ``a0 b1 - a1 b0``, added to the linear part)."""
    count = ids.size
    position, velocity = np.empty((2 * count, 3)), np.empty((2 * count, 3))
    for k in range(count):
        body = ids[k]
        for axis in range(3):
            position[k, axis] = xpos[body, axis] + 0.0
            position[count + k, axis] = xipos[body, axis]
    for k in range(2 * count):
        body, root = bodies[k], roots[k]
        o0 = position[k, 0] - subtree_com[root, 0]
        o1 = position[k, 1] - subtree_com[root, 1]
        o2 = position[k, 2] - subtree_com[root, 2]
        w0, w1, w2 = cvel[body, 0], cvel[body, 1], cvel[body, 2]
        velocity[k, 0] = cvel[body, 3] + (w1 * o2 - w2 * o1)
        velocity[k, 1] = cvel[body, 4] + (w2 * o0 - w0 * o2)
        velocity[k, 2] = cvel[body, 5] + (w0 * o1 - w1 * o0)
    return position, velocity



_VALUES = numba.float64[::1]


@numba.njit(numba.types.UniTuple(_VALUES, 5)(_VALUES, _VALUES, _VALUES, _VALUES, _INDICES, _INDICES, _INDICES,
                                              _VALUES, _VALUES, _VALUES), cache=True, nogil=True)
def muscle_arrays(ten_length: Any, ten_velocity: Any, actuator_force: Any, act: Any, tendons: Any, actuators: Any,
                  act_addresses: Any, path_offset: Any, tendon_slack: Any, fiber_width: Any) -> Any:  # pragma: no cover
    """Activation, fibre length, fibre velocity, fibre force and tendon tension of every muscle, as
    ``MujocoSimulation._muscle_arrays``: the fibre's projection is the path length less its offset
    less the tendon slack length, at least 1e-6 (NaN kept, as ``np.maximum``); the fibre length its
    hypotenuse with the fibre width; the tension the negated actuator force."""
    count = tendons.size
    activation, length, velocity = np.empty(count), np.empty(count), np.empty(count)
    force, tension = np.empty(count), np.empty(count)
    for k in range(count):
        tendon = tendons[k]
        along = ten_length[tendon] - path_offset[k] - tendon_slack[k]
        if along < 1e-6:
            along = 1e-6
        fibre = math.hypot(along, fiber_width[k])
        cosine = along / fibre
        activation[k] = act[act_addresses[k]]
        length[k] = fibre
        velocity[k] = ten_velocity[tendon] * cosine
        tension[k] = -actuator_force[actuators[k]]
        force[k] = tension[k] / cosine
    return activation, length, velocity, force, tension

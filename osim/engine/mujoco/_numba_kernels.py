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


@numba.njit(_ROWS(numba.float64[:, ::1], numba.float64[:, :], numba.int32[:], numba.int32[:], numba.int64[:, ::1],
                  _INDICES, numba.intp[:, ::1], _INDICES), cache=True, nogil=True)
def ground_forces(results: Any, frames: Any, geom1: Any, geom2: Any, owner_table: Any, force_owners: Any,
                  spheres: Any, sphere_counts: Any) -> Any:  # pragma: no cover - compiled
    """The force on the ground of each foot contact force (rows), as ``MujocoSimulation.ground_force``
    without the kernel: each contact's force (``mj_contactForce``'s first three values ``results``)
    in the ground frame (each component ``0.0 + r0 f0 + r3 f1 + r6 f2`` along the frame's columns);
    per (contact force, sphere) the sum, from 0.0, of its contacts' forces where the sphere is their
    second geom, then negated where it is the first; the force's spheres summed in order and negated.

    ``force_owners[f]`` is force ``f``'s index in ``owner_table`` (the contact force owning each
    geom pair), ``spheres[f, :sphere_counts[f]]`` its spheres."""
    count = results.shape[0]
    ground = np.zeros((force_owners.size, 3))
    world = np.empty((count, 3))
    for i in range(count):
        f0, f1, f2 = results[i, 0], results[i, 1], results[i, 2]
        for axis in range(3):
            world[i, axis] = 0.0 + frames[i, axis] * f0 + frames[i, 3 + axis] * f1 + frames[i, 6 + axis] * f2
    for f in range(force_owners.size):
        owner = force_owners[f]
        x = y = z = 0.0
        for s in range(sphere_counts[f]):
            sphere = spheres[f, s]
            sx = sy = sz = 0.0
            for i in range(count):
                if geom2[i] == sphere and owner_table[geom1[i], geom2[i]] == owner:
                    sx, sy, sz = sx + world[i, 0], sy + world[i, 1], sz + world[i, 2]
            for i in range(count):
                if geom1[i] == sphere and owner_table[geom1[i], geom2[i]] == owner:
                    sx, sy, sz = sx + -world[i, 0], sy + -world[i, 1], sz + -world[i, 2]
            if s == 0:
                x, y, z = sx, sy, sz
            else:
                x, y, z = x + sx, y + sy, z + sz
        ground[f, 0], ground[f, 1], ground[f, 2] = -x, -y, -z
    return ground

"""Postures, controls and rollouts on a compiled MuJoCo model of a description.

A posture is given in OpenSim coordinates (by name); the extra slides of spline-driven joints
and the locked coordinates follow from the model's joint equalities, so a posture set here
satisfies every constraint exactly.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from . import require_mujoco


def apply_joint_equalities(model, data) -> None:
    """Set every joint tied by an active joint equality to the value its polynomial gives."""
    mujoco = require_mujoco()
    joint_type = mujoco.mjtEq.mjEQ_JOINT
    qpos, qpos0, addresses = data.qpos, model.qpos0, model.jnt_qposadr
    # the model's arrays read once (every reset calls this), as Python numbers
    for kind, active, dependent, driver, coefficients in zip(
            model.eq_type.tolist(), data.eq_active.tolist(), model.eq_obj1id.tolist(), model.eq_obj2id.tolist(),
            model.eq_data[:, :5].tolist()):
        if kind != joint_type or not active:
            continue
        address = addresses[dependent]
        if driver < 0:
            qpos[address] = qpos0[address] + coefficients[0]
            continue
        driver_address = addresses[driver]
        x = float(qpos[driver_address] - qpos0[driver_address])
        # numpy.polynomial.polynomial.polyval's Horner scheme, in its order: c4 + x * 0, then ck + v * x
        value = coefficients[4] + x * 0
        for k in (3, 2, 1, 0):
            value = coefficients[k] + value * x
        qpos[address] = qpos0[address] + value


def set_posture(model, data, coordinates: Mapping[str, float]) -> None:
    """Set the named coordinates (others keep their value), apply the joint equalities, zero the
    velocities and run the position stage (tendon lengths and moment arms are then current)."""
    mujoco = require_mujoco()
    for name, value in coordinates.items():
        joint = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, name)
        if joint < 0:
            raise KeyError(f"the MuJoCo model has no coordinate {name!r}")
        data.qpos[model.jnt_qposadr[joint]] = float(value)
    apply_joint_equalities(model, data)
    data.qvel[:] = 0.0
    mujoco.mj_forward(model, data)


def tendon_jacobian(model, data) -> np.ndarray:
    """dL/dqvel of every tendon, dense (ntendon x nv); MuJoCo stores it sparse."""
    mujoco = require_mujoco()
    dense = np.zeros((model.ntendon, model.nv))
    mujoco.mju_sparse2dense(dense, data.ten_J, model.ten_J_rownnz, model.ten_J_rowadr, model.ten_J_colind)
    return dense


def effective_moment_arms(model, data, coordinate: str) -> np.ndarray:
    """Moment arm (m) of every tendon about an OpenSim coordinate: -dL/dq, counting the slides
    the coordinate drives through joint equalities (OpenSim's sign convention)."""
    mujoco = require_mujoco()
    joint = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, coordinate)
    if joint < 0:
        raise KeyError(f"the MuJoCo model has no coordinate {coordinate!r}")
    jacobian = tendon_jacobian(model, data)
    total = jacobian[:, model.jnt_dofadr[joint]].copy()
    x = data.qpos[model.jnt_qposadr[joint]] - model.qpos0[model.jnt_qposadr[joint]]
    for index in range(model.neq):
        if model.eq_type[index] == mujoco.mjtEq.mjEQ_JOINT and model.eq_obj2id[index] == joint:
            derivative = np.polynomial.polynomial.polyder(model.eq_data[index, :5])
            slope = np.polynomial.polynomial.polyval(x, derivative)
            total += jacobian[:, model.jnt_dofadr[model.eq_obj1id[index]]] * slope
    return -total


def set_controls(model, data, controls) -> None:
    """Muscle excitations in the OpenSim action order; a wrong length or range is an error."""
    values = np.asarray(controls, dtype=float)
    if values.shape != (model.nu,):
        raise ValueError(f"expected {model.nu} controls (one per muscle, in [0, 1]), got shape {values.shape}")
    if not np.all(np.isfinite(values)) or values.min() < 0.0 or values.max() > 1.0:
        raise ValueError(f"controls must be finite and in [0, 1], got {values}")
    data.ctrl[:] = values


def rollout(model, controls, substeps: int, start: Mapping[str, float] | None = None) -> np.ndarray:
    """qpos after each of ``len(controls)`` env steps of ``substeps`` MuJoCo steps, from the
    default posture (keyframe 0) with the coordinates in ``start`` changed."""
    mujoco = require_mujoco()
    data = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, data, 0)  # the OpenSim default coordinate values
    set_posture(model, data, start or {})
    trajectory = []
    for step_controls in controls:
        set_controls(model, data, step_controls)
        mujoco.mj_step(model, data, nstep=substeps)
        trajectory.append(data.qpos.copy())
    return np.array(trajectory)

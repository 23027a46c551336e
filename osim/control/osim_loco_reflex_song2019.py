"""``OsimReflexCtrl``: the reflex controller driving ``L2M2019Env`` (spec §6).

Turns the environment's observation dict into the controller's sensor data, runs
:class:`~osim.control.loco_reflex_song2019.LocoCtrl` and returns the 22 excitations in the
environment's action order (``HAB, HAD, HFL, GLU, HAM, RF, VAS, BFSH, GAS, SOL, TA`` per leg, right
then left)::

    from osim.control import OsimReflexCtrl, load_published_params, EXAMPLE_INIT_POSE
    from osim.env.l2m2019 import L2M2019Env

    env = L2M2019Env(visualize=False, difficulty=3)
    env.change_model(model="2D", difficulty=3)
    ctrl = OsimReflexCtrl(mode="2D", params=load_published_params("2D"))
    obs = env.reset(init_pose=EXAMPLE_INIT_POSE)
    for _ in range(1000):
        obs, reward, done, info = env.step(ctrl.update(obs))

Differences from the original (documented fixes):

* ``mode`` is compared by value (the original used ``is``, so a mode string that was not an
  interned literal, e.g. from the command line, crashed with ``UnboundLocalError``); anything but
  ``'3D'``/``'2D'`` raises ``ValueError``;
* the parameter count follows the mode everywhere (46 for 3-D, 37 for 2-D, or twice that for
  separate legs) and a wrong count says what was expected;
* parameters can be given to the constructor or read with :func:`load_reflex_params`; the
  published ones ship with the package (:func:`load_published_params`, ``osim/control/data``);
* ``reset()`` also resets the controller's clock.

Kept (they change the controller's output, and the published parameters were tuned with them):
``BFSH_8_PG`` read from the ``BFSH_8_DG`` entry (``bfsh8_uses_dg_gain=True``), and the 3-D frontal
leg angle computed from the hip *abduction rate* instead of the angle
(``alpha_f_from_rate=True``); pass False for the presumably intended forms. The BFSH_8 quirk is
needed for the published walking: with ``params_2D.txt`` and :data:`EXAMPLE_INIT_POSE` the planar
model walks 14.0 m with 20 footsteps in 10 s as published, but falls after 1.9 s (2.6 m) with
``bfsh8_uses_dg_gain=False``.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .loco_reflex_song2019 import LocoCtrl

# Maximum isometric forces of the hip abductors/adductors of gait14dof22musc: in 2-D mode these
# muscles get constant stimulations 0.1 and 0.1 * F_ADD / F_ABD.
FMAX_ABD = 4460.290481
FMAX_ADD = 3931.8

#: Initial pose of the original's example script (reset(init_pose=...), see L2M2019Env.reset).
EXAMPLE_INIT_POSE: tuple[float, ...] = (
    1.7, 0.5, 0.9023, 0.2012, 0.0, -0.6952, -0.3231, 0.1709, 0.0, -0.0528, -0.8042, -0.1745,
)

#: mode -> the published parameter file shipped in ``osim/control/data`` (provenance in its README.md)
PUBLISHED_PARAMS: dict[str, str] = {"2D": "params_2D.txt", "3D": "params_3D_init.txt"}

#: (mode, engine) -> parameters re-optimised for that engine (``osim/control/data``, provenance in its
#: README.md); a pair not listed uses the published file of the mode.
ENGINE_PARAMS: dict[tuple[str, str], str] = {("2D", "mujoco"): "params_2D_mujoco_walk.txt",
                                             ("3D", "mujoco"): "params_3D_mujoco_walk.txt"}
#: Packaged files tuned with the 3-D frontal leg angle from the hip abduction *angle*
#: (``alpha_f_from_rate=False``); the others were tuned with the original's rate.
FRONTAL_ANGLE_FILES = frozenset({"params_3D_mujoco_walk.txt"})
#: (mode, engine) -> the parameters the DAgger recipe (``osim.train.walking``) imitates, where they are
#: not :data:`ENGINE_PARAMS`' file: the shipped walking policy was imitated from the first MuJoCo set
#: (8.90 m in 10 s), which stays its teacher so that the recipe still makes that policy.
TEACHER_PARAMS: dict[tuple[str, str], str] = {("2D", "mujoco"): "params_2D_mujoco.txt"}
_ENGINES = ("opensim", "mujoco")

_SAGITTAL = ("HFL", "GLU", "HAM", "RF", "VAS", "BFSH", "GAS", "SOL", "TA")
_MODES = {"3D": 3, "2D": 2}


def load_reflex_params(path: str | os.PathLike[str], mode: str | None = None) -> np.ndarray:
    """Read a parameter vector (one number per line, as the published ``params_2D.txt``).

    With ``mode``, check that the count fits it (n or 2n values).
    """
    values = np.loadtxt(path, dtype=np.float64, ndmin=1)
    if values.ndim != 1 or not np.all(np.isfinite(values)):
        raise ValueError(f"{path}: expected one finite number per line")
    if mode is not None:
        n = LocoCtrl.N_PARAMS[_mode_dimension(mode)]
        if values.size not in (n, 2 * n):
            raise ValueError(f"{path}: {mode} reflex control needs {n} or {2 * n} parameters, found {values.size}")
    return values


def published_params_path(mode: str = "2D") -> Path:
    """The packaged file of the published parameters for ``mode``: ``'2D'`` (tuned: walks) or
    ``'3D'`` (an untuned initial guess)."""
    if mode not in PUBLISHED_PARAMS:
        raise ValueError(f"mode must be one of {sorted(PUBLISHED_PARAMS)}, got {mode!r}")
    return Path(__file__).resolve().parent / "data" / PUBLISHED_PARAMS[mode]


def load_published_params(mode: str = "2D") -> np.ndarray:
    """The published parameter vector for ``mode`` (see :func:`published_params_path`)."""
    return load_reflex_params(published_params_path(mode), mode)


def reflex_parameters_path(mode: str = "2D", engine: str = "opensim") -> Path:
    """The packaged parameter file the reflex controller should use for ``mode`` on ``engine``
    (``'opensim'`` or ``'mujoco'``): the published one, or the one re-optimised for the engine
    where the published parameters do not walk there (the planar model on MuJoCo)."""
    if engine not in _ENGINES:
        raise ValueError(f"engine must be one of {_ENGINES}, got {engine!r}")
    name = ENGINE_PARAMS.get((mode, engine))
    if name is None:
        return published_params_path(mode)
    return Path(__file__).resolve().parent / "data" / name


def reflex_parameters(mode: str = "2D", engine: str = "opensim") -> np.ndarray:
    """The parameter vector for ``mode`` on ``engine`` (see :func:`reflex_parameters_path`)."""
    return load_reflex_params(reflex_parameters_path(mode, engine), mode)


def reflex_controller(mode: str = "2D", engine: str = "opensim", dt: float = 0.01) -> OsimReflexCtrl:
    """The reflex controller with the packaged parameters for ``mode`` on ``engine``
    (:func:`reflex_parameters`), its frontal leg angle computed as they were tuned
    (:data:`FRONTAL_ANGLE_FILES`)."""
    path = reflex_parameters_path(mode, engine)
    return OsimReflexCtrl(dt=dt, mode=mode, params=load_reflex_params(path, mode),
                          alpha_f_from_rate=path.name not in FRONTAL_ANGLE_FILES)


def teacher_parameters(mode: str = "2D", engine: str = "opensim") -> np.ndarray:
    """The parameters the walking recipe imitates for ``mode`` on ``engine`` (:data:`TEACHER_PARAMS`,
    else :func:`reflex_parameters`)."""
    reflex_parameters_path(mode, engine)  # checks the engine
    name = TEACHER_PARAMS.get((mode, engine))
    if name is None:
        return reflex_parameters(mode, engine)
    return load_reflex_params(Path(__file__).resolve().parent / "data" / name, mode)


def _mode_dimension(mode: Any) -> int:
    if mode not in _MODES:
        raise ValueError(f"mode must be '3D' or '2D', got {mode!r}")
    return _MODES[mode]


class OsimReflexCtrl:
    """Reflex controller for ``L2M2019Env`` observation dicts.

    Args:
        dt: control interval (s), 0.01 for L2M2019Env.
        mode: ``'3D'`` (46 parameters; hip abductors/adductors controlled) or ``'2D'`` (37; planar
            model, abductors/adductors held at constant low stimulations).
        params: parameter vector (n values for both legs or 2n, right then left); default all ones.
        bfsh8_uses_dg_gain: keep the original's BFSH_8 gain (see module docstring).
        alpha_f_from_rate: keep the original's frontal leg angle from the abduction rate (3-D only).
    """

    def __init__(
        self,
        dt: float = 0.01,
        mode: str = "3D",
        params: ArrayLike | None = None,
        *,
        bfsh8_uses_dg_gain: bool = True,
        alpha_f_from_rate: bool = True,
    ) -> None:
        control_dimension = _mode_dimension(mode)
        self.dt = dt
        self.t = 0.0
        self.mode = mode
        self.alpha_f_from_rate = alpha_f_from_rate
        self.n_par = LocoCtrl.N_PARAMS[control_dimension]
        self.cp_map = LocoCtrl.cp_map
        self.ctrl = LocoCtrl(
            self.dt,
            control_dimension=control_dimension,
            params=np.ones(self.n_par) if params is None else params,
            bfsh8_uses_dg_gain=bfsh8_uses_dg_gain,
        )
        self.par_space = self.ctrl.par_space

    def reset(self) -> None:
        """Back to the initial phases (right stance, left swing); the parameters stay."""
        self.t = 0.0
        self.ctrl.reset()

    def update(self, obs: dict[str, Any]) -> list[float]:
        """The 22 excitations for the observation dict ``obs`` (L2M2019 action order)."""
        self.t += self.dt
        self.ctrl.update(self._obs2reflexobs(obs))
        return self._reflexstim2stim()

    def set_control_params(self, params: ArrayLike) -> None:
        """Set the parameters of both legs (n values, or 2n: right leg then left leg)."""
        self.ctrl.set_control_params(params)

    def set_control_params_RL(self, s_leg: str, params: ArrayLike) -> None:
        """Set the n parameters of one leg (``'r_leg'`` or ``'l_leg'``)."""
        self.ctrl.set_control_params_RL(s_leg, params)

    def _obs2reflexobs(self, obs_dict: dict[str, Any]) -> dict[str, Any]:
        """Sensor data in the controller's conventions (body frame: x forward, y left, z up)."""
        pelvis = obs_dict["pelvis"]
        sensor: dict[str, Any] = {
            "body": {
                "theta": [pelvis["roll"], pelvis["pitch"]],
                "d_pos": [pelvis["vel"][0], pelvis["vel"][1]],
                "dtheta": [pelvis["vel"][4], pelvis["vel"][3]],
            }
        }
        load = {leg: obs_dict[leg]["ground_reaction_forces"][2] for leg in ("r_leg", "l_leg")}
        for leg, contra in (("r_leg", "l_leg"), ("l_leg", "r_leg")):
            joint, d_joint = obs_dict[leg]["joint"], obs_dict[leg]["d_joint"]
            phi_knee = joint["knee"] + math.pi
            frontal = d_joint["hip_abd"] if self.alpha_f_from_rate else joint["hip_abd"]
            sensor[leg] = {
                "load_ipsi": load[leg],
                "contact_ipsi": 1 if load[leg] > 0.1 else 0,
                "contact_contra": 1 if load[contra] > 0.1 else 0,
                "load_contra": load[contra],
                "phi_hip": joint["hip"] + math.pi,
                "phi_knee": phi_knee,
                "phi_ankle": joint["ankle"] + 0.5 * math.pi,
                "dphi_knee": d_joint["knee"],
                # leg angle: alpha = phi_hip - phi_knee / 2
                "alpha": (joint["hip"] + math.pi) - 0.5 * phi_knee,
                "dalpha": d_joint["hip"] - 0.5 * d_joint["knee"],
                "alpha_f": -frontal + 0.5 * math.pi,
                "F_RF": obs_dict[leg]["RF"]["f"],
                "F_VAS": obs_dict[leg]["VAS"]["f"],
                "F_GAS": obs_dict[leg]["GAS"]["f"],
                "F_SOL": obs_dict[leg]["SOL"]["f"],
            }
        return sensor

    def _reflexstim2stim(self) -> list[float]:
        stim = self.ctrl.stim
        out: list[float] = []
        for leg in ("r_leg", "l_leg"):
            if self.ctrl.control_dimension == 3:
                out += [float(stim[leg]["HAB"]), float(stim[leg]["HAD"])]
            else:
                out += [0.1, 0.1 * FMAX_ADD / FMAX_ABD]
            out += [float(stim[leg][key]) for key in _SAGITTAL]
        return out

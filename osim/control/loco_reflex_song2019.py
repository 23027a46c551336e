"""A reflex-based locomotion controller (Song & Geyer 2015, as adapted for osim-rl 3.0.11; spec §6).

Song S, Geyer H. "A neural circuitry that emphasizes spinal feedback generates diverse behaviours of
human locomotion." J Physiol 593(16), 2015. Each leg runs a small state machine (stance, swing and
their sub-phases); in each phase muscle stimulations are sums of reflex pathways: positive force
feedback, proportional-derivative feedback of trunk and joint angles, and length feedback. A simple
"brain" layer sets the leg-angle targets from the trunk velocity and chooses which leg to swing in
double support. As in the osim-rl adaptation: muscle states are used only for the force feedback
of RF, VAS, GAS and SOL; pathways M1 of GLU and HAB, M2 of HAM and M4 are removed; M1 of RF is added.

Sensor data (``update``) is a dict with ``body`` (``theta`` = [roll, pitch], ``d_pos`` = [forward,
leftward velocity], ``dtheta`` = [roll rate, pitch rate]) and per leg ``r_leg``/``l_leg``:
``contact_ipsi``, ``contact_contra``, ``load_ipsi``, ``load_contra`` (body weights), ``alpha``,
``alpha_f``, ``dalpha`` (leg angles), ``phi_hip``, ``phi_knee``, ``phi_ankle``, ``dphi_knee`` (joint
angles in the 2015 convention: pi = straight, ankle pi/2 = neutral) and ``F_RF``, ``F_VAS``,
``F_GAS``, ``F_SOL`` (normalised muscle forces). All angles in radians.

Parameters: 46 numbers in the order of :attr:`LocoCtrl.cp_keys` for 3-D control, the first 37
(sagittal plane only) for 2-D control; each is mapped to a physical value by
:data:`PARAMETER_SCALES` (value = p * gain + offset; angles given in degrees).
"""
from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike

LEGS = ("r_leg", "l_leg")
CONTRA = {"r_leg": "l_leg", "l_leg": "r_leg"}
PRE_STIM = 0.01

#: parameter -> (gain, offset, in_degrees): physical value = p * gain + offset (degrees -> radians).
PARAMETER_SCALES: dict[str, tuple[float, float, bool]] = {
    "theta_tgt": (10, 0, True), "c0": (20, 55, True), "cv": (2, 0, True), "alpha_delta": (5, 0, True),
    "knee_sw_tgt": (20, 120, True), "knee_tgt": (15, 160, True), "knee_off_st": (10, 165, True),
    "ankle_tgt": (20, 60, True),
    "HFL_3_PG": (2.0, 0, False), "HFL_3_DG": (1.0, 0, False), "HFL_6_PG": (1.0, 0, False),
    "HFL_6_DG": (0.1, 0, False), "HFL_10_PG": (1.0, 0, False),
    "GLU_3_PG": (2.0, 0, False), "GLU_3_DG": (0.5, 0, False), "GLU_6_PG": (1.0, 0, False),
    "GLU_6_DG": (0.1, 0, False), "GLU_10_PG": (0.5, 0, False),
    "HAM_3_GLU": (1.0, 0, False), "HAM_9_PG": (2.0, 0, False),
    "RF_1_FG": (0.3, 0, False), "RF_8_DG_knee": (0.1, 0, False),
    "VAS_1_FG": (1.0, 0, False), "VAS_2_PG": (2.0, 0, False), "VAS_10_PG": (0.3, 0, False),
    "BFSH_2_PG": (2.0, 0, False), "BFSH_7_DG_alpha": (0.2, 0, False), "BFSH_7_PG": (2.0, 0, False),
    "BFSH_8_DG": (1.0, 0, False), "BFSH_8_PG": (1.0, 0, False), "BFSH_9_G_HAM": (2.0, 0, False),
    "BFSH_9_HAM0": (0.3, 0, False), "BFSH_10_PG": (2.0, 0, False),
    "GAS_2_FG": (1.2, 0, False),
    "SOL_1_FG": (1.2, 0, False),
    "TA_5_PG": (2.0, 0, False), "TA_5_G_SOL": (0.5, 0, False),
    # frontal plane (3-D control only)
    "theta_tgt_f": (5.0, 0, True), "c0_f": (20, 60, True), "cv_f": (10, 0, True),
    "HAB_3_PG": (10.0, 0, False), "HAB_3_DG": (1, 0, False), "HAB_6_PG": (2.0, 0, False),
    "HAD_3_PG": (2.0, 0, False), "HAD_3_DG": (0.3, 0, False), "HAD_6_PG": (2.0, 0, False),
}

#: CMA-ES search bounds of each parameter (lower, upper), in :attr:`LocoCtrl.cp_keys` order.
_BOUNDS: dict[str, tuple[float, float]] = {
    "theta_tgt": (0.0, 6.0), "c0": (-1.0, 3.0), "cv": (0.0, 5.0), "alpha_delta": (0.0, 3.0),
    "knee_sw_tgt": (-2.0, 3.0), "knee_tgt": (-90 / 15, 20 / 15), "knee_off_st": (-1.0, 15 / 10),
    "ankle_tgt": (0.0, 3.0), "theta_tgt_f": (0.0, 2.0),
}

PHASES = ("ph_st", "ph_st_csw", "ph_st_sw0", "ph_st_st", "ph_sw", "ph_sw_flex_k", "ph_sw_hold_k",
          "ph_sw_stop_l", "ph_sw_hold_l")


class LocoCtrl:
    """The reflex controller of both legs.

    Args:
        TIMESTEP: control interval (s); kept for the original's signature.
        control_mode: 1 = spinal reflexes with the brain layer (the only mode that worked in the
            original, whose spinal-only mode 0 read brain commands it never computed).
        control_dimension: 3 (46 parameters, hip abductors/adductors controlled) or 2 (37).
        params: parameters for both legs (n values) or per leg (2n values: right, then left).
        bfsh8_uses_dg_gain: the original computed ``BFSH_8_PG`` from the ``BFSH_8_DG`` entry (so the
            ``BFSH_8_PG`` entry had no effect). True reproduces that.
        alpha_f_from_rate: see :class:`osim.control.OsimReflexCtrl` (kept here for symmetry; it only
            matters where the sensor data are built).
    """

    m_keys: ClassVar[list[str]] = ["HAB", "HAD", "HFL", "GLU", "HAM", "RF", "VAS", "BFSH", "GAS", "SOL", "TA"]
    s_b_keys: ClassVar[list[str]] = ["theta", "d_pos", "dtheta"]
    s_l_keys: ClassVar[list[str]] = [
        "contact_ipsi", "contact_contra", "load_ipsi", "load_contra", "alpha", "alpha_f", "dalpha",
        "phi_hip", "phi_knee", "phi_ankle", "dphi_knee", "F_RF", "F_VAS", "F_GAS", "F_SOL",
    ]
    cs_keys: ClassVar[list[str]] = list(PHASES)
    cp_keys: ClassVar[list[str]] = list(PARAMETER_SCALES)
    par_space = (
        [_BOUNDS.get(key, (0.0, 3.0))[0] for key in PARAMETER_SCALES],
        [_BOUNDS.get(key, (0.0, 3.0))[1] for key in PARAMETER_SCALES],
    )
    m_map: ClassVar[dict[str, int]] = {key: i for i, key in enumerate(m_keys)}
    cp_map: ClassVar[dict[str, int]] = {key: i for i, key in enumerate(cp_keys)}
    #: number of parameters per leg for 3-D and 2-D control
    N_PARAMS: ClassVar[dict[int, int]] = {3: len(cp_keys), 2: cp_keys.index("theta_tgt_f")}

    def __init__(
        self,
        TIMESTEP: float,
        control_mode: int = 1,
        control_dimension: int = 3,
        params: ArrayLike | None = None,
        *,
        bfsh8_uses_dg_gain: bool = True,
    ) -> None:
        if control_mode != 1:
            raise ValueError(
                f"control_mode must be 1 (reflexes with the brain layer); got {control_mode!r}. "
                "The original's spinal-only mode 0 never worked."
            )
        if control_dimension not in self.N_PARAMS:
            raise ValueError(f"control_dimension must be 2 or 3, got {control_dimension!r}")
        self.dt = TIMESTEP
        self.control_mode = control_mode
        self.brain_control_on = 1
        self.control_dimension = control_dimension
        self.bfsh8_uses_dg_gain = bfsh8_uses_dg_gain
        self.n_par = self.N_PARAMS[control_dimension]
        self.par_space = (self.par_space[0][: self.n_par], self.par_space[1][: self.n_par])
        self.cp: dict[str, dict[str, float]] = {}
        self.brain_command: dict[str, dict[str, float]] = {}
        self.spinal_control_phase: dict[str, dict[str, Any]] = {}
        self.in_contact: dict[str, Any] = {}
        self.stim: dict[str, dict[str, float]] = {}
        self.reset(np.ones(self.n_par) if params is None else params)

    def reset(self, params: ArrayLike | None = None) -> None:
        """Right leg in stance, left leg starting its swing (knee flexion); stimulations 0.01."""
        self.in_contact = {"r_leg": 1, "l_leg": 0}
        self.spinal_control_phase = {leg: dict.fromkeys(PHASES, 0) for leg in LEGS}
        self.spinal_control_phase["r_leg"]["ph_st"] = 1
        self.spinal_control_phase["l_leg"]["ph_sw"] = 1
        self.spinal_control_phase["l_leg"]["ph_sw_flex_k"] = 1
        self.stim = {leg: dict.fromkeys(self.m_keys, PRE_STIM) for leg in LEGS}
        if params is not None:
            self.set_control_params(params)

    # -- parameters -----------------------------------------------------------------------------

    def set_control_params(self, params: ArrayLike) -> None:
        """n values for both legs, or 2n values (right leg, then left leg)."""
        values = np.asarray(params, dtype=np.float64).ravel()
        if values.size == self.n_par:
            self.set_control_params_RL("r_leg", values)
            self.set_control_params_RL("l_leg", values)
        elif values.size == 2 * self.n_par:
            self.set_control_params_RL("r_leg", values[: self.n_par])
            self.set_control_params_RL("l_leg", values[self.n_par:])
        else:
            raise ValueError(
                f"{self.control_dimension}-D reflex control needs {self.n_par} parameters (both legs) "
                f"or {2 * self.n_par} (right then left); got {values.size}"
            )

    def set_control_params_RL(self, s_leg: str, params: ArrayLike) -> None:
        """Set the physical parameters of one leg from its n normalised values."""
        if s_leg not in LEGS:
            raise ValueError(f"leg must be 'r_leg' or 'l_leg', got {s_leg!r}")
        values = np.asarray(params, dtype=np.float64).ravel()
        if values.size != self.n_par:
            raise ValueError(
                f"{self.control_dimension}-D reflex control needs {self.n_par} parameters per leg, "
                f"got {values.size}"
            )
        if not np.all(np.isfinite(values)):
            raise ValueError("reflex parameters must be finite numbers")
        cp: dict[str, float] = {}
        for key in self.cp_keys[: self.n_par]:
            gain, offset, degrees = PARAMETER_SCALES[key]
            p = float(values[self.cp_map[key]])
            # Same operation order as the original (p * gain * pi / 180 + offset * pi / 180).
            cp[key] = p * gain * math.pi / 180 + offset * math.pi / 180 if degrees else p * gain
        if self.bfsh8_uses_dg_gain:
            cp["BFSH_8_PG"] = float(values[self.cp_map["BFSH_8_DG"]]) * PARAMETER_SCALES["BFSH_8_PG"][0]
        self.cp[s_leg] = cp

    # -- control --------------------------------------------------------------------------------

    def update(self, sensor_data: dict[str, Any]) -> np.ndarray:
        """One control step; returns the 18 sagittal stimulations (HFL ... TA right, then left)."""
        self.sensor_data = sensor_data
        self._brain_control(sensor_data)
        self._spinal_control(sensor_data)
        keys = ("HFL", "GLU", "HAM", "RF", "VAS", "BFSH", "GAS", "SOL", "TA")
        return np.array([self.stim[leg][key] for leg in LEGS for key in keys])

    def _brain_control(self, sensor_data: dict[str, Any]) -> None:
        """Leg-angle targets from the trunk state; which leg to swing in double support."""
        body = sensor_data["body"]
        for leg in LEGS:
            cp = self.cp[leg]
            command: dict[str, float] = {}
            if self.control_dimension == 3:
                sign = 1 if leg == "r_leg" else -1
                command["theta_tgt_f"] = cp["theta_tgt_f"]
                command["alpha_tgt_f"] = cp["c0_f"] + sign * cp["cv_f"] * body["d_pos"][1] - sign * body["theta"][0]
            command["theta_tgt"] = cp["theta_tgt"]
            command["alpha_tgt"] = cp["c0"] - cp["cv"] * body["d_pos"][0] - body["theta"][1]
            for key in ("alpha_delta", "knee_sw_tgt", "knee_tgt", "knee_off_st", "ankle_tgt"):
                command[key] = cp[key]
            # alpha = phi_hip - phi_knee / 2, so the hip target that realises alpha_tgt:
            command["hip_tgt"] = command["alpha_tgt"] + 0.5 * command["knee_tgt"]
            command["swing_init"] = 0
            self.brain_command[leg] = command
        if sensor_data["r_leg"]["contact_ipsi"] and sensor_data["l_leg"]["contact_ipsi"]:
            # Double support: swing the leg that is further behind its target angle.
            behind = {leg: sensor_data[leg]["alpha"] - self.brain_command[leg]["alpha_tgt"] for leg in LEGS}
            swing = "r_leg" if behind["r_leg"] > behind["l_leg"] else "l_leg"
            self.brain_command[swing]["swing_init"] = 1

    def _spinal_control(self, sensor_data: dict[str, Any]) -> None:
        for leg in LEGS:
            self._update_spinal_control_phase(leg, sensor_data)
            self.stim[leg] = self.spinal_control_leg(leg, sensor_data)

    def _update_spinal_control_phase(self, s_leg: str, sensor_data: dict[str, Any]) -> None:
        s = sensor_data[s_leg]
        phase = self.spinal_control_phase[s_leg]
        command = self.brain_command[s_leg]
        was_in_contact = self.in_contact[s_leg]

        if not was_in_contact and s["contact_ipsi"]:  # touchdown: stance starts, swing ends
            phase["ph_st"] = 1
            for key in ("ph_sw", "ph_sw_flex_k", "ph_sw_hold_k", "ph_sw_stop_l", "ph_sw_hold_l"):
                phase[key] = 0
        if phase["ph_st"]:
            phase["ph_st_csw"] = not s["contact_contra"]  # single support
            phase["ph_st_sw0"] = command["swing_init"]  # prepare the swing
            phase["ph_st_st"] = not phase["ph_st_sw0"]
        if was_in_contact and not s["contact_ipsi"]:  # lift-off: swing starts with knee flexion
            for key in ("ph_st", "ph_st_csw", "ph_st_sw0", "ph_st_st"):
                phase[key] = 0
            phase["ph_sw"] = 1
            phase["ph_sw_flex_k"] = 1
        if phase["ph_sw"]:
            if phase["ph_sw_flex_k"]:
                if s["phi_knee"] < command["knee_sw_tgt"]:  # knee flexed enough: hold it
                    phase["ph_sw_flex_k"] = 0
                    phase["ph_sw_hold_k"] = 1
            else:
                if phase["ph_sw_hold_k"] and s["alpha"] < command["alpha_tgt"]:  # leg swung far enough
                    phase["ph_sw_hold_k"] = 0
                if s["alpha"] < command["alpha_tgt"] + command["alpha_delta"]:  # stop the leg
                    phase["ph_sw_stop_l"] = 1
                if phase["ph_sw_stop_l"] and s["dalpha"] > 0:  # leg retracting: hold it
                    phase["ph_sw_hold_l"] = 1
        self.in_contact[s_leg] = s["contact_ipsi"]

    def spinal_control_leg(self, s_leg: str, sensor_data: dict[str, Any]) -> dict[str, float]:
        """The stimulations of one leg's muscles from its reflex pathways (clipped to [0.01, 1])."""
        s = sensor_data[s_leg]
        body = sensor_data["body"]
        cp = self.cp[s_leg]
        c = self.brain_command[s_leg]
        ph = self.spinal_control_phase[s_leg]
        st, sw0, st_st, sw = ph["ph_st"], ph["ph_st_sw0"], ph["ph_st_st"], ph["ph_sw"]
        flex_k, hold_k, stop_l, hold_l = ph["ph_sw_flex_k"], ph["ph_sw_hold_k"], ph["ph_sw_stop_l"], ph["ph_sw_hold_l"]
        load, load_contra = s["load_ipsi"], s["load_contra"]
        theta, dtheta = body["theta"][1], body["dtheta"][1]
        alpha, dalpha = s["alpha"], s["dalpha"]
        # Gates: stance trunk balance (load-weighted), swing / swing preparation, stance with the
        # contralateral leg carrying the body.
        balance = st * load
        swing_drive = sw0 * load_contra + sw
        stance_support = st_st + sw0 * (1 - load_contra)
        stim: dict[str, float] = {}

        if self.control_dimension == 3:
            sign = 1 if s_leg == "r_leg" else -1
            theta_f, dtheta_f = sign * body["theta"][0], sign * body["dtheta"][0]
            frontal_error = s["alpha_f"] - c["alpha_tgt_f"]
            trunk_f = theta_f - c["theta_tgt_f"]
            stim["HAB"] = (balance * max(-cp["HAB_3_PG"] * trunk_f - cp["HAB_3_DG"] * dtheta_f, 0)
                           + swing_drive * max(cp["HAB_6_PG"] * frontal_error, 0))
            stim["HAD"] = (balance * max(cp["HAD_3_PG"] * trunk_f + cp["HAD_3_DG"] * dtheta_f, 0)
                           + swing_drive * max(-cp["HAD_6_PG"] * frontal_error, 0))

        trunk = theta - c["theta_tgt"]
        leg_error = alpha - c["alpha_tgt"]
        hip_error = s["phi_hip"] - c["hip_tgt"]
        stim["HFL"] = (PRE_STIM
                       + balance * max(-cp["HFL_3_PG"] * trunk - cp["HFL_3_DG"] * dtheta, 0)
                       + swing_drive * max(cp["HFL_6_PG"] * leg_error + cp["HFL_6_DG"] * dalpha, 0)
                       + hold_l * max(cp["HFL_10_PG"] * hip_error, 0))
        glu_balance = balance * max(cp["GLU_3_PG"] * trunk + cp["GLU_3_DG"] * dtheta, 0)
        stim["GLU"] = (PRE_STIM + glu_balance
                       + swing_drive * max(-cp["GLU_6_PG"] * leg_error - cp["GLU_6_DG"] * dalpha, 0)
                       + hold_l * max(-cp["GLU_10_PG"] * hip_error, 0))
        ham_stop = stop_l * max(-cp["HAM_9_PG"] * (alpha - (c["alpha_tgt"] + c["alpha_delta"])), 0)
        stim["HAM"] = PRE_STIM + cp["HAM_3_GLU"] * glu_balance + ham_stop
        stim["RF"] = (PRE_STIM
                      + stance_support * max(cp["RF_1_FG"] * s["F_RF"], 0)
                      + hold_k * max(-cp["RF_8_DG_knee"] * s["dphi_knee"], 0))
        knee_over = s["phi_knee"] - c["knee_off_st"]
        stim["VAS"] = (PRE_STIM
                       + stance_support * max(cp["VAS_1_FG"] * s["F_VAS"], 0)
                       - stance_support * max(cp["VAS_2_PG"] * knee_over, 0)
                       + hold_l * max(-cp["VAS_10_PG"] * (s["phi_knee"] - c["knee_tgt"]), 0))
        stim["BFSH"] = (PRE_STIM
                        + stance_support * max(cp["BFSH_2_PG"] * knee_over, 0)
                        + (sw0 * load_contra + flex_k) * max(
                            -cp["BFSH_7_DG_alpha"] * dalpha + cp["BFSH_7_PG"] * (s["phi_knee"] - c["knee_sw_tgt"]), 0)
                        # As in the original: the product of a "knee rate minus knee angle" term and
                        # the leg-angle error (dimensionally odd, kept because it shapes the gait).
                        + hold_k * max(cp["BFSH_8_DG"] * (s["dphi_knee"] - c["knee_off_st"])
                                       * cp["BFSH_8_PG"] * leg_error, 0)
                        + max(cp["BFSH_9_G_HAM"] * (ham_stop - cp["BFSH_9_HAM0"]), 0)
                        + hold_l * max(cp["BFSH_10_PG"] * (s["phi_knee"] - c["knee_tgt"]), 0))
        stim["GAS"] = PRE_STIM + st * max(cp["GAS_2_FG"] * s["F_GAS"], 0)
        sol_force = st * max(cp["SOL_1_FG"] * s["F_SOL"], 0)
        stim["SOL"] = PRE_STIM + sol_force
        stim["TA"] = (PRE_STIM
                      + max(cp["TA_5_PG"] * (s["phi_ankle"] - c["ankle_tgt"]), 0)
                      - st * max(cp["TA_5_G_SOL"] * sol_force, 0))
        return {muscle: min(max(value, 0.01), 1.0) for muscle, value in stim.items()}

"""Named integrator presets: how much accuracy to trade for speed.

=========  =====================================================================================
preset     settings, and what they give on L2M2019Env (benchmarks/results/summary.md)
=========  =====================================================================================
original   the defaults: Runge-Kutta-Merson, accuracy 5e-5, the original's control timing.
           Trajectories bitwise identical to osim-rl 2.x/3.x.
exact      the same integrator with exact control timing (each new excitation is seen from the
           first derivative evaluation of its interval, see
           :class:`~osim.engine.simulation.IntegratorSettings`): 1.5-1.9x the original's speed
           on the leg models; deviations from the original of 0.03 mm / 1e-4 rad on random excitations, 0.3-0.4 mm /
           0.003-0.02 rad on reflex gaits, and *closer* to a converged (accuracy 1e-6) solution
           than the original's own settings.
fast       Simbody's error-controlled semi-explicit Euler at accuracy 1e-3 with exact control
           timing: 2.4-2.8x the original's speed (Arm2DEnv 6x). Over 1 s of random excitations the pelvis
           stays within 1 mm and joint angles within 0.005 rad of the original's trajectory; on reflex-controlled gaits
           (contacts, a fall) within about 2.4 mm / 0.015 rad, comparable to the original
           settings' own error on those gaits (0.7 mm / 0.016 rad on the 2-D walk).
=========  =====================================================================================

Use a preset through any environment's ``integrator`` argument::

    from osim.engine.presets import preset
    env = L2M2019Env(visualize=False, integrator=preset("fast"))
    env = gymnasium.make("osim/L2M2019-v0", integrator=preset("fast"))

Why not simply a looser Runge-Kutta-Merson accuracy: most of its cost is the stiffness of muscles
and contacts, not the accuracy, and at 1e-3 it deviates more (8 mm on the falling gait) for less
speed (1.2-1.6x over the default settings); RK3 at 1e-3 is fast on random excitations but 10 mm off on the walking gait.
See docs/performance.md for the measurements.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from .simulation import IntegratorSettings


@dataclass(frozen=True)
class Preset:
    """A named :class:`IntegratorSettings` and what it is for."""

    name: str
    settings: IntegratorSettings
    summary: str


PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            "original",
            IntegratorSettings(),
            "the original's settings (RK-Merson, accuracy 5e-5, its control timing): identical trajectories",
        ),
        Preset(
            "exact",
            IntegratorSettings(exact_control_timing=True),
            "the original's integrator with exact control timing: 1.5-1.9x, sub-millimetre deviations",
        ),
        Preset(
            "fast",
            IntegratorSettings(method="SemiExplicitEuler2", accuracy=1e-3, exact_control_timing=True),
            "semi-explicit Euler (error-controlled) at accuracy 1e-3 with exact control timing: 2.4-2.8x",
        ),
    )
}


def preset(name: str) -> IntegratorSettings:
    """The :class:`IntegratorSettings` of the preset ``name`` (see :data:`PRESETS`)."""
    try:
        return PRESETS[name].settings
    except KeyError:
        raise ValueError(f"unknown integrator preset {name!r}; choose one of {sorted(PRESETS)}") from None


def preset_fields(name: str) -> dict[str, Any]:
    """The preset's settings as a plain dict (JSON-friendly, for child processes)."""
    return dataclasses.asdict(preset(name))

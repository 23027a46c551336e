"""Named integrator presets: how to trade OpenSim integration accuracy for speed.

``"original"`` are the default settings: osim-rl 2.x/3.x's Runge-Kutta-Merson at accuracy 5e-5, one
Manager per episode; trajectories are bitwise identical to the original's. The other presets are
faster and deviate from it; docs/performance.md has the measured speed/deviation table.

Use a preset through any environment's ``integrator`` argument::

    from osim.engine.presets import preset
    env = L2M2019Env(visualize=False, integrator=preset("fast"))
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
            "the original's settings (RK-Merson, accuracy 5e-5): identical trajectories",
        ),
        Preset(
            "fast",
            IntegratorSettings(accuracy=1e-3),
            "RK-Merson at accuracy 1e-3",
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

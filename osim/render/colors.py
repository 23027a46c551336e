"""The renderer's palette (RGB tuples) and the activation colour map."""
from __future__ import annotations

import math

Color = tuple[int, int, int]

SKY_TOP: Color = (236, 241, 248)
SKY_HORIZON: Color = (206, 218, 232)
GROUND: Color = (214, 210, 198)
GRID: Color = (176, 171, 158)
TEXT: Color = (40, 40, 40)
#: The body's shadow on the ground, blended over it at SHADOW_OPACITY (0 = none, 1 = solid).
SHADOW: Color = (62, 56, 48)
SHADOW_OPACITY = 0.45

#: Segments of the right side, the left side (a shade darker, so legs are told apart) and the trunk.
BONE_RIGHT: Color = (238, 226, 200)
BONE_LEFT: Color = (196, 182, 156)
BONE_CENTER: Color = (228, 214, 186)
OUTLINE: Color = (92, 80, 64)

CONTACT: Color = (120, 170, 120)
OBSTACLE: Color = (150, 96, 60)
MARKER: Color = (220, 40, 200)
TARGET: Color = (40, 190, 70)
TARGET_VELOCITY: Color = (20, 140, 60)
VELOCITY_FIELD: Color = (60, 120, 200)

#: Activation 0 (relaxed) and 1 (fully active).
MUSCLE_INACTIVE: Color = (40, 70, 235)
MUSCLE_ACTIVE: Color = (235, 25, 25)


def activation_color(activation: float) -> Color:
    """Blue (0) to red (1), linear in RGB; values outside [0, 1] are clipped."""
    a = min(max(float(activation), 0.0), 1.0) if math.isfinite(activation) else 0.0
    return tuple(round(lo + (hi - lo) * a) for lo, hi in zip(MUSCLE_INACTIVE, MUSCLE_ACTIVE))  # type: ignore[return-value]


def body_color(body: str) -> Color:
    """Colour of a body's segment: by side, from the OpenSim naming convention (``_r``/``_l``)."""
    if body.endswith("_r") or body.startswith("r_"):
        return BONE_RIGHT
    if body.endswith("_l") or body.startswith("l_"):
        return BONE_LEFT
    return BONE_CENTER


def shade(color: Color, factor: float) -> Color:
    """``color`` scaled towards black (factor < 1) or white (factor > 1)."""
    if factor <= 1:
        return tuple(int(c * factor) for c in color)  # type: ignore[return-value]
    return tuple(int(c + (255 - c) * (factor - 1)) for c in color)  # type: ignore[return-value]

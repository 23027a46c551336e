"""OpenSim's Hunt-Crossley contact between two spheres as a MuJoCo contact pair.

A HuntCrossleyForce between spheres only (no half-space: RunEnv's obstacles and the feet) becomes
explicit MuJoCo contact pairs (:mod:`osim.engine.mujoco.mjcf`) whose soft-constraint parameters
the engine sets from the force's stiffness, dissipation and the two radii (:func:`pair_solref`).

OpenSim (Simbody's ``HuntCrossleyForce``) pushes two spheres of radii r1, r2 that overlap by x at
approach speed v apart with (both surfaces have the force's stiffness k and dissipation c; each
enters as k^(2/3), and two equal surfaces combine to half of it)::

    F(x, v) = 4/3 * k / 2^1.5 * sqrt(R) * x^1.5 * (1 + 1.5 c v),    R = r1 r2 / (r1 + r2)

MuJoCo's contact is a soft constraint, not a force law: at rest its force is ``aref / R_mj``, and
with ``solref = (-S, -D)`` and a constant impedance d (``solimp = d d ...``) that is
``(S x + D v) / ((1 - d) A)``, a linear spring and damper, where A is MuJoCo's approximate inverse
inertia of the contact (the two bodies' translational ``body_invweight0`` added: MuJoCo's
``diagApprox`` of a frictionless contact). A small d makes the force that spring whatever the
bodies do (the constraint's own stiffening, ``d / (1 - d)`` of it, is 1 % of it at d = 0.01).

The spring is matched to the Hunt-Crossley law where the contact carries ``load`` (the engine
uses the model's weight: a foot standing on an obstacle): its stiffness is the secant of F
through that depth (equal force there, more below it, less beyond it) and its damping F's slope
in v there. ``python -m osim.engine.mujoco.sphere_contact`` prints both laws of RunEnv's obstacles.
"""
from __future__ import annotations

import math

#: MuJoCo impedance of a sphere pair (constant in depth): small, so that the force is the spring.
PAIR_IMPEDANCE = 0.01


def effective_radius(radius1: float, radius2: float) -> float:
    """The Hertz radius of two spheres in contact, r1 r2 / (r1 + r2) (m)."""
    return radius1 * radius2 / (radius1 + radius2)


def hunt_crossley_force(stiffness: float, dissipation: float, radius1: float, radius2: float,
                        depth: float, speed: float = 0.0) -> float:
    """OpenSim's normal force (N) between two spheres of one HuntCrossleyForce that overlap by
    ``depth`` (m) and approach at ``speed`` (m/s); 0 when they do not touch or the force would pull."""
    if depth <= 0.0:
        return 0.0
    elastic = 4.0 / 3.0 * stiffness / 2.0 ** 1.5 * math.sqrt(effective_radius(radius1, radius2)) * depth ** 1.5
    return max(0.0, elastic * (1.0 + 1.5 * dissipation * speed))


def matched_spring(stiffness: float, dissipation: float, radius1: float, radius2: float,
                   load: float) -> tuple[float, float, float]:
    """(depth (m), stiffness (N/m), damping (N s/m)) of the linear spring that carries ``load`` (N)
    at the depth where OpenSim's law does, with the law's damping there."""
    for name, value in (("stiffness", stiffness), ("radius1", radius1), ("radius2", radius2), ("load", load)):
        if not (value > 0 and math.isfinite(value)):
            raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    if not (dissipation >= 0 and math.isfinite(dissipation)):
        raise ValueError(f"dissipation must be a finite number >= 0, got {dissipation!r}")
    per_depth = 4.0 / 3.0 * stiffness / 2.0 ** 1.5 * math.sqrt(effective_radius(radius1, radius2))
    depth = (load / per_depth) ** (2.0 / 3.0)
    return depth, load / depth, 1.5 * dissipation * load


def pair_solref(spring: float, damping: float, inverse_weight: float,
                impedance: float = PAIR_IMPEDANCE) -> tuple[float, float]:
    """MuJoCo's ``solref`` (-S, -D) of a pair with constant ``impedance`` whose force at rest is
    ``spring`` N/m times the depth plus ``damping`` N s/m times the speed, for a contact whose
    approximate inverse inertia (``diagApprox``) is ``inverse_weight``."""
    scale = (1.0 - impedance) * inverse_weight
    return -spring * scale, -damping * scale


def obstacle_laws(radii: tuple[float, ...] = (0.05, 0.1, 0.2, 0.3), depths_mm: tuple[float, ...] = (1, 2, 5, 10, 20),
                  load: float | None = None) -> list[str]:
    """A table comparing OpenSim's law and the matched spring for RunEnv's obstacles against a foot
    sphere (radius 5 cm), at rest (the stiffness is 1e6 N/m^2 over the obstacle's radius); ``load``
    defaults to the weight of RunEnv's runner (``gait9dof18musc``, standard gravity)."""
    from osim.engine.scene import OBSTACLE_DISSIPATION, OBSTACLE_STIFFNESS_TIMES_RADIUS
    from osim.models import list_models

    if load is None:
        load = next(m["mass"] for m in list_models() if m["name"] == "gait9dof18musc") * 9.80665

    lines = ["| obstacle r (m) | matched depth (mm) | spring (N/m) | " +
             " | ".join(f"{d:g} mm: OpenSim / spring (N)" for d in depths_mm) + " |",
             "|---" * (3 + len(depths_mm)) + "|"]
    for radius in radii:
        stiffness = OBSTACLE_STIFFNESS_TIMES_RADIUS / radius
        depth, spring, _ = matched_spring(stiffness, OBSTACLE_DISSIPATION, radius, 0.05, load)
        cells = [f"{hunt_crossley_force(stiffness, OBSTACLE_DISSIPATION, radius, 0.05, d / 1000):.0f} / "
                 f"{spring * d / 1000:.0f}" for d in depths_mm]
        lines.append(f"| {radius:g} | {depth * 1000:.1f} | {spring:.3g} | " + " | ".join(cells) + " |")
    return lines


if __name__ == "__main__":
    print("\n".join(obstacle_laws()))

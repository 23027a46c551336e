"""Smoke test of an installed OpenSim package (recipe test layer 2).

Runs in the recipe's test environment and, unchanged, against the native build
of ci/build-opensim-from-source.sh. Exits non-zero on the first failure.
"""
from __future__ import annotations

import math
import pathlib
import sys

import opensim



def check_version(expected: str) -> None:
    """The bindings report the packaged version (major.minor: the bindings omit the patch level)."""
    major_minor = ".".join(expected.split(".")[:2])
    version = opensim.GetVersion()
    assert version.startswith(major_minor), f"expected OpenSim {major_minor}, got {version}"


def check_pendulum_energy() -> None:
    """A frictionless pendulum keeps its mechanical energy (integrated by OpenSim)."""
    model = opensim.Model()
    model.setGravity(opensim.Vec3(0, -9.81, 0))
    bob = opensim.Body("bob", 1.5, opensim.Vec3(0), opensim.Inertia(0.01))
    model.addBody(bob)
    pin = opensim.PinJoint("pin", model.getGround(), opensim.Vec3(0), opensim.Vec3(0),
                           bob, opensim.Vec3(0, 0.8, 0), opensim.Vec3(0))
    model.addJoint(pin)
    state = model.initSystem()
    pin.getCoordinate().setValue(state, 0.6)
    model.realizeVelocity(state)
    energy_start = model.calcKineticEnergy(state) + model.calcPotentialEnergy(state)
    manager = opensim.Manager(model)
    manager.setIntegratorAccuracy(1e-9)
    manager.initialize(state)
    end = manager.integrate(1.0)
    model.realizeVelocity(end)
    energy_end = model.calcKineticEnergy(end) + model.calcPotentialEnergy(end)
    angle = pin.getCoordinate().getValue(end)
    assert abs(angle - 0.6) > 1e-3, "the pendulum did not move"
    assert math.isclose(energy_start, energy_end, rel_tol=1e-6), (energy_start, energy_end)


def check_no_copied_dependencies() -> None:
    """Simbody and the other libraries come from their own packages, not copies."""
    package_dir = pathlib.Path(opensim.__file__).parent
    copied = sorted(p.name for p in package_dir.iterdir()
                    if p.name.startswith(("libSimTK", "SimTK", "libspdlog", "libcasadi", "libezc3d")))
    assert not copied, f"dependency libraries copied into the opensim package: {copied}"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python run_test.py EXPECTED_VERSION   (e.g. 4.5.2)", file=sys.stderr)
        return 2
    opensim.Logger.setLevelString("Warn")  # the Manager's per-run report is noise here
    check_version(argv[0])
    print("ok   check_version")
    for check in (check_pendulum_energy, check_no_copied_dependencies):
        check()
        print(f"ok   {check.__name__}")
    print(f"OpenSim {opensim.GetVersionAndDate()} from {opensim.__file__}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

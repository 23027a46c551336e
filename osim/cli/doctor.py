"""``osim doctor``: the diagnosis of :mod:`osim.doctor` as a subcommand.

The diagnosis itself stays a standalone module (standard library only, ``python osim/doctor.py``
works where numpy or opensim cannot be loaded); this module only registers it.
"""
from __future__ import annotations

from typing import Any

from osim import doctor


def register(subparsers: Any) -> None:
    """Add ``osim doctor`` to the ``osim`` command."""
    parser = subparsers.add_parser("doctor", help="check that OpenSim loads and diagnose why not",
                                   description=(doctor.__doc__ or "").splitlines()[0])
    doctor.add_arguments(parser)
    parser.set_defaults(func=doctor.run)

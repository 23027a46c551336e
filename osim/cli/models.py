"""``osim models list`` and ``osim models export NAME OUT.osim [options]``."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

#: The command-line spelling of the muscle models (same names as the ``muscle_model`` option).
MUSCLE_MODEL_CHOICES = ("Thelen2003", "Millard2012Equilibrium", "DeGrooteFregly2016")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``models`` command and its ``list``/``export`` subcommands."""
    parser = subparsers.add_parser("models", help="list the musculoskeletal models or export one as .osim")
    commands = parser.add_subparsers(dest="models_command", metavar="SUBCOMMAND")
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])

    listing = commands.add_parser("list", help="list the model presets")
    listing.set_defaults(func=run_list)

    export = commands.add_parser("export", help="build a model and write it as an OpenSim 4.x .osim file")
    export.add_argument("name", help="preset name, e.g. gait14dof22musc_20170320 (see 'osim models list')")
    export.add_argument("out", type=Path, help="output .osim file")
    export.add_argument("--planar", action=argparse.BooleanOptionalAction, default=None,
                        help="lock the out-of-plane coordinates (default: as the preset)")
    export.add_argument("--prosthesis", action=argparse.BooleanOptionalAction, default=None,
                        help="right transtibial prosthesis (default: as the preset)")
    export.add_argument("--muscle-model", choices=MUSCLE_MODEL_CHOICES, default="Thelen2003")
    export.add_argument("--height", type=float, default=None, help="subject height in m (gait models)")
    export.add_argument("--mass", type=float, default=None, help="subject mass in kg (gait models)")
    export.add_argument("--no-geometry", dest="geometry", action="store_false",
                        help="leave out the simple display shapes")
    export.set_defaults(func=run_export)


def run_list(args: argparse.Namespace) -> int:
    """``osim models list``: print the presets with their mass and variants; returns 0."""
    from osim.models import list_models

    for entry in list_models():
        variants = "+".join(entry["variants"]) or "-"
        print(f"{entry['name']:38s} {entry['mass']:8.3f} kg  {variants:30s} {entry['source']}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    """``osim models export``: write a preset as an ``.osim`` file; returns the exit code."""
    import sys

    from osim.engine import set_opensim_log_level
    from osim.models import UnknownModelError, write_model

    set_opensim_log_level("error")  # the Millard model reports every curve adjustment

    options: dict[str, Any] = {"planar": args.planar, "prosthesis": args.prosthesis,
                               "muscle_model": args.muscle_model, "height": args.height,
                               "mass": args.mass, "geometry": args.geometry}
    if args.out.suffix != ".osim":
        print(f"osim models export: the output file must end in .osim, got {args.out}", file=sys.stderr)
        return 2
    try:
        path = write_model(args.name, args.out, **options)
    except (UnknownModelError, ValueError, TypeError) as error:
        print(f"osim models export: {error}", file=sys.stderr)
        return 2
    print(path)
    return 0

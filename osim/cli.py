"""The ``osim`` command: one entry point, one module per subcommand.

Each subcommand module exposes ``register(subparsers)``, which adds its parser and sets
``func(args) -> int`` (the exit code) as a default. Modules are imported only to build the parser, so
``osim doctor`` works even where ``import opensim`` fails.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

import osim

#: Modules that provide subcommands, in the order ``osim --help`` lists them.
SUBCOMMAND_MODULES = (
    "osim.doctor",  # osim doctor
    "osim.models.cli",  # osim models list|export
    "osim.run_cli",  # osim run
    "osim.bench",  # osim bench
    "osim.http.cli",  # osim serve, osim tokens
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="osim",
        description="osim-rl: reinforcement-learning environments for musculoskeletal models on OpenSim.",
    )
    parser.add_argument("--version", action="version", version=f"osim-rl {osim.__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name and module_name.startswith(error.name):
                continue  # the subcommand is not part of this installation
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())

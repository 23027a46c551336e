"""The ``osim`` command: one entry point, one module of this package per subcommand.

Each subcommand module exposes ``register(subparsers)``, which adds its parser and sets
``func(args) -> int`` (the exit code) as a default. Modules are imported only to build the parser, so
``osim doctor`` works even where ``import opensim`` fails. A subcommand that needs a package of an
extra raises :class:`osim._optional.MissingExtra` (before doing any work); the command prints it in
one line and exits with status 2.
"""
from __future__ import annotations

import argparse
import importlib
import inspect
import re
import sys
from collections.abc import Sequence

import osim
from osim._optional import MissingExtra

#: Modules that provide subcommands, in the order ``osim --help`` lists them.
SUBCOMMAND_MODULES = (
    "osim.cli.doctor",  # osim doctor
    "osim.cli.models",  # osim models list|export
    "osim.cli.run",  # osim run
    "osim.cli.bench",  # osim bench
    "osim.cli.serve",  # osim serve, osim tokens
)


#: a reST role (:class:, :func:, :py:meth: ...) around a target, which is kept (without a leading ~)
_REST_ROLE = re.compile(r":[a-z]+(?::[a-z]+)?:`~?([^`]+)`")
#: a reST inline literal (two backquotes on each side), whose text is kept
_REST_LITERAL = re.compile(r"``([^`]+)``")


def plain_text(docstring: str | None) -> str:
    """A reST docstring as plain text for ``--help`` (use with ``RawDescriptionHelpFormatter``):
    roles and literals lose their markup, a line ending in ``::`` ends in ``:`` (a lone ``::`` goes)."""
    text = inspect.cleandoc(docstring or "")
    text = _REST_LITERAL.sub(r"\1", _REST_ROLE.sub(r"\1", text))
    lines = []
    for line in text.splitlines():
        if line.strip() == "::":
            continue
        lines.append(line[:-1] if line.endswith("::") else line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


def build_parser() -> argparse.ArgumentParser:
    """The ``osim`` command's argument parser, with every subcommand registered."""
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
    """Run the ``osim`` command with ``argv``; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except MissingExtra as error:  # one line naming the extra to install, no traceback
        print(f"osim {args.command}: error: {error}", file=sys.stderr)
        return 2


"""Generate docs/envs/<EnvName>.md from the environments' code (:mod:`osim.env.docs` builds the pages).

Each page is the environment module's docstring (summary, action, observation table, reward,
termination, arguments, quirks) with its tables in Markdown, the tables derived from the task's
named observation parts, reward weights and termination reasons, plus the constructor signature and
the Gymnasium ids that build it. ``tests/test_docs.py`` fails when a page differs from what this
script generates, so the pages cannot drift from the code.

Usage: python tools/gen_env_docs.py [--check]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from osim.env.docs import environment_classes, page, pages, rst_tables_to_markdown

__all__ = ["environment_classes", "main", "page", "rst_tables_to_markdown"]

DOCS = Path(__file__).resolve().parent.parent / "docs" / "envs"


def main(argv: list[str] | None = None) -> int:
    """Write the pages (or, with ``--check``, exit 1 if one is out of date)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a page is out of date")
    args = parser.parse_args(argv)
    DOCS.mkdir(parents=True, exist_ok=True)
    stale = []
    for file_name, text in pages().items():
        target = DOCS / file_name
        if args.check:
            if not target.exists() or target.read_text() != text:
                stale.append(file_name)
        else:
            target.write_text(text)
    if stale:
        print("out of date (run python tools/gen_env_docs.py):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

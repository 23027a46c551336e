"""Run the ORIGINAL osim-rl releases (PyPI 2.1.5 and 3.0.11) on today's stack, for parity and timing.

What is downloaded, how it is patched and where it is cached: :mod:`osim.bench.original`. This is
its command line, for maintainers::

    python tools/original_osimrl.py prepare --release 3.0.11     # prints source dir and python
    python tools/original_osimrl.py run --release 3.0.11 -- script.py arg1 arg2
    python tools/original_osimrl.py run --release 2.1.5 -c "from osim.env import L2RunEnv; ..."

``--cache`` overrides the cache folder (``$OSIM_RL_ORIGINAL_CACHE`` or ``~/.cache/osim-rl/original``).
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from osim.bench.original import RELEASES, prepare, run


def _main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="action", required=True)
    for name, text in (("prepare", "download, patch and set up a release"), ("run", "run Python with it")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--release", required=True, choices=RELEASES)
        p.add_argument("--cache", type=Path, default=None, help="cache folder (default: %(default)s -> "
                       "$OSIM_RL_ORIGINAL_CACHE or ~/.cache/osim-rl/original)")
        if name == "run":
            p.add_argument("-c", dest="code", default=None, help="Python code to run instead of a script")
            p.add_argument("args", nargs=argparse.REMAINDER, help="-- script.py [args...]")
    ns = parser.parse_args(argv)
    if ns.action == "prepare":
        prepared = prepare(ns.release, ns.cache)
        print(f"source: {prepared.source_dir}\npython: {prepared.python}")
        return 0
    args = list(ns.args)
    if args[:1] == ["--"]:
        args = args[1:]
    if ns.code is not None:
        args = ["-c", ns.code, *args]
    if not args:
        parser.error("run needs a script (after --) or -c CODE")
    return run(ns.release, args, ns.cache).returncode


if __name__ == "__main__":
    sys.exit(_main())

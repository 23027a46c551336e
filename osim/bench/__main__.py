"""``python -m osim.bench WHAT ...``: ``osim bench WHAT ...`` without the console script."""
from __future__ import annotations

import sys

from osim.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))

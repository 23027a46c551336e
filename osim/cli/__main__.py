"""``python -m osim.cli COMMAND ...``: the ``osim`` command without the console script."""
from __future__ import annotations

import sys

from osim.cli import main

if __name__ == "__main__":
    sys.exit(main())

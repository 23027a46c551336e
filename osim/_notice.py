"""One line on stderr when long, otherwise silent work starts (a model's first build, a batch of
episodes): never per step, and never on stdout, which belongs to the caller."""
from __future__ import annotations

import sys


def notice(message: str) -> None:
    """Print ``osim-rl: <message>`` on stderr."""
    print(f"osim-rl: {message}", file=sys.stderr, flush=True)

#!/usr/bin/env python
"""Optimise the reflex controller's parameters with CMA-ES (see osim/control/optimize.py).

Example (the original's 2-D setting, starting from the published parameters)::

    python examples/optimize_reflex.py --params <reference>/reflex/params_2D.txt --processes 2
"""
import sys

from osim.control.optimize import main

if __name__ == "__main__":
    sys.exit(main())

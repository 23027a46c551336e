#!/usr/bin/env bash
# The main job on a fresh machine (Python 3.11+, pip): a venv with osim-rl on the official OpenSim
# wheel, then the original README's example (ProstheticsEnv, 200 random steps, total reward) and a
# GIF of it drawn headless (prosthetics-random.gif).
# Usage: bash scripts/run.sh [quickstart.py arguments, e.g. --steps 500 --seed 3]
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/venv.sh
. scripts/venv.sh
python -m pip install --quiet -e ".[render]"
# If OpenSim cannot load here, say why (and how to fix it) instead of a bare ImportError.
if ! osim doctor > /dev/null 2>&1; then osim doctor; exit 1; fi
python examples/quickstart.py --gif prosthetics-random.gif "$@"

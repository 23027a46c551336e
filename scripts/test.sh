#!/usr/bin/env bash
# Set up everything the test suite needs on a fresh machine (Python 3.11+, pip, gcc) and run it.
# Usage: bash scripts/test.sh [extra pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/venv.sh
. scripts/venv.sh
# torch first, pinned, so that the test extra's range takes this CPU build instead of a several-GB
# CUDA one (TORCH_REQUIREMENT overrides, e.g. with a CUDA build on a GPU machine).
python -m pip install --quiet "${TORCH_REQUIREMENT:-torch==2.13.0}"
python -m pip install --quiet -e '.[test]'

# Lint before the (long) test suite: ruff and mypy, configured in pyproject.toml; stop at the first failure.
python -m ruff check osim tests benchmarks examples tools ci
python -m mypy

# System packages some tests drive for real (a browser, a virtual display, a database server).
if [ -f scripts/system-packages.txt ] && command -v apt-get >/dev/null 2>&1; then
  missing=()
  while read -r package; do
    [ -z "$package" ] || [ "${package:0:1}" = "#" ] && continue
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done < scripts/system-packages.txt
  if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi

# Conda recipes: render, lint, build into a local channel and test there.
if [ -f ci/check-recipes.sh ]; then
  bash ci/check-recipes.sh
fi

python -m pytest -q "$@"

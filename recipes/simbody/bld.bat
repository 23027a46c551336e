:: Build and install Simbody on Windows with CMake and Ninja into %LIBRARY_PREFIX%.
setlocal EnableDelayedExpansion

:: Simbody ships prebuilt BLAS/LAPACK DLLs for Windows; delete them so that the
:: conda packages' libraries are the only ones found and installed.
del /q Platform\Windows\lib_x64\*lapack* Platform\Windows\lib_x64\*blas* 2>nul

:: CMake wants forward slashes in library paths that end up in exported targets.
set "LIBRARY_LIB_FWD=%LIBRARY_LIB:\=/%"

:: CMAKE_POLICY_VERSION_MINIMUM: Simbody 3.7's cmake_minimum_required is older than
:: CMake >= 4 accepts (see build.sh).
cmake %CMAKE_ARGS% -S . -B build -G Ninja ^
    -DCMAKE_BUILD_TYPE=Release ^
    -DCMAKE_POLICY_VERSION_MINIMUM=3.5 ^
    -DCMAKE_INSTALL_PREFIX="%LIBRARY_PREFIX%" ^
    -DBUILD_EXAMPLES=OFF ^
    -DBUILD_TESTING=ON ^
    -DBUILD_TESTS_AND_EXAMPLES_STATIC=OFF ^
    -DBUILD_VISUALIZER=ON ^
    -DINSTALL_DOCS=OFF ^
    -DBUILD_USING_OTHER_LAPACK="%LIBRARY_LIB_FWD%/blas.lib;%LIBRARY_LIB_FWD%/lapack.lib"
if errorlevel 1 exit 1

cmake --build build --parallel %CPU_COUNT%
if errorlevel 1 exit 1

ctest --test-dir build --output-on-failure --parallel %CPU_COUNT%
if errorlevel 1 exit 1

cmake --install build
if errorlevel 1 exit 1

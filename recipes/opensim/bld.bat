:: Build and install OpenSim on Windows with CMake and Ninja into %LIBRARY_PREFIX%;
:: the Python package goes to %SP_DIR% through OPENSIM_PYTHON_CONDA.
setlocal EnableDelayedExpansion

cmake %CMAKE_ARGS% -S . -B build -G Ninja ^
    -DCMAKE_BUILD_TYPE=Release ^
    -DCMAKE_INSTALL_PREFIX="%LIBRARY_PREFIX%" ^
    -DCMAKE_INSTALL_BINDIR=bin ^
    -DCMAKE_INSTALL_INCLUDEDIR=include ^
    -DCMAKE_INSTALL_LIBDIR=lib ^
    -DCMAKE_DISABLE_FIND_PACKAGE_Doxygen=ON ^
    -DBUILD_API_EXAMPLES=OFF ^
    -DBUILD_API_ONLY=OFF ^
    -DBUILD_JAVA_WRAPPING=OFF ^
    -DBUILD_PYTHON_WRAPPING=ON ^
    -DBUILD_TESTING=OFF ^
    -DOPENSIM_BUILD_INDIVIDUAL_APPS=OFF ^
    -DOPENSIM_C3D_PARSER=ezc3d ^
    -DOPENSIM_WITH_CASADI=ON ^
    -DOPENSIM_WITH_TROPTER=OFF ^
    -DOPENSIM_COPY_DEPENDENCIES=OFF ^
    -DOPENSIM_DEPENDENCIES_DIR= ^
    -DOPENSIM_DISABLE_LOG_FILE=ON ^
    -DOPENSIM_PYTHON_CONDA=ON ^
    -DOPENSIM_PYTHON_STANDALONE=OFF ^
    -DPython3_EXECUTABLE="%PYTHON%" ^
    -DSIMBODY_HOME="%LIBRARY_PREFIX%" ^
    -DCMAKE_CXX_FLAGS="/EHsc -DFMT_DEPRECATED_OSTREAM=1"
if errorlevel 1 exit 1

cmake --build build --parallel %CPU_COUNT%
if errorlevel 1 exit 1

cmake --install build
if errorlevel 1 exit 1

"""The offline toolchain scaffold that ``ci/conda_build.py`` builds the real recipes against.

conda-forge is unreachable here, so the packages that the recipes' ``compiler()``, ``stdlib()``
and plain requirements resolve to are made locally, each under conda-forge's name, into a
scaffold channel:

========================  ==============================================================
package                   made from
========================  ==============================================================
``gcc_linux-64``,         the machine's GCC, wrapped (``bin/x86_64-conda-linux-gnu-gcc``
``gxx_linux-64``          calls ``/usr/bin/gcc`` through ccache) with an activation script
                          that sets ``CC``/``CXX`` and ``CMAKE_ARGS``; strong run_exports
                          ``libgcc``/``libstdcxx >=<gcc major>`` as conda-forge's have
``libgcc``, ``libstdcxx``  Debian's ``libgcc-s1`` and ``libstdc++6`` (the GCC runtime)
``libgfortran5``          Debian's ``libgfortran5`` and ``libquadmath0`` (what the BLAS needs)
``sysroot_linux-64``      Debian's ``libc6`` and ``libc6-dev`` under
                          ``x86_64-conda-linux-gnu/sysroot`` (rattler-build's overlinking
                          check takes the system libraries from this package); strong
                          run_export ``__glibc >=<machine glibc>``
``libblas``, ``liblapack``  Debian's reference ``libblas3``/``liblapack3``; run_exports
``fmt``, ``spdlog``       Debian's ``libfmt9``/``libfmt-dev`` (9.1) and ``libspdlog1.10``/
                          ``libspdlog-dev`` (1.10, built on that fmt), as the native build
                          (``ci/build-opensim-from-source.sh``) uses them; run_exports
``cmake``, ``ninja``,     the PyPI wheels' binaries (swig's with a wrapper that sets
``swig``                  ``SWIG_LIB`` to its packaged library)
``python``,               the machine's CPython (the interpreter the suite runs with, shared
``python_abi``            libpython and headers) repackaged by ``ci/local_channel.py``
``numpy``, ``pip``        their PyPI wheels converted with whl2conda (``ci/local_channel.py``)
``libstdcxx`` (old)       Debian 11's ``libstdc++6`` (GCC 10, up to GLIBCXX_3.4.28), a second,
                          older ``libstdcxx`` for the GLIBCXX trap: an environment with it
                          cannot load what GCC 12 built (``tests/test_glibcxx.py``)
========================  ==============================================================

The versions are the machine's (GCC 12, glibc 2.36 on Debian 12), and :func:`scaffold_variants`
hands them to the recipes through the variant keys ``c_compiler_version``,
``cxx_compiler_version`` and ``c_stdlib_version``, so the recipes render to these packages
without being changed. The scaffold packages are never to be published: they only make the
real recipes buildable and testable offline.
"""
from __future__ import annotations

import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from importlib.metadata import version as installed_version
from pathlib import Path
from urllib.parse import unquote

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from local_channel import build_recipe, convert_wheel, download_wheels, package_python, package_python_abi, run

#: Bump to rebuild every cached scaffold package (after changing how they are made, also by
#: ci/local_channel.py's python packaging). 2: the python package has ensurepip.
SCAFFOLD_FORMAT = 2
#: The compiler triplet conda-forge's Linux compilers use; the sysroot lives under it.
TRIPLET = "x86_64-conda-linux-gnu"
#: The build tools taken from PyPI wheels, with the requirement used to download them.
WHEEL_TOOLS = {"cmake": "cmake>=3.28", "ninja": "ninja>=1.11", "swig": "swig>=4.1.1,<4.2"}
#: Debian binary packages the scaffold repackages.
DEBIAN_PACKAGES = ("libc6", "libc6-dev", "libgcc-s1", "libstdc++6", "libgfortran5", "libquadmath0",
                   "libblas3", "liblapack3", "libfmt9", "libfmt-dev", "libspdlog1.10", "libspdlog-dev")
#: The older Debian release whose libstdc++6 (GCC 10) makes the old ``libstdcxx`` of the GLIBCXX trap.
OLD_RUNTIME_SUITE = "bullseye"
OLD_RUNTIME_BUILD = f"scaffold_old_{SCAFFOLD_FORMAT}"
#: Debian's multiarch library directory; the fmt/spdlog CMake configs stay in it (their relative paths).
MULTIARCH = "lib/x86_64-linux-gnu"


@dataclass(frozen=True)
class Machine:
    """The versions of this machine's toolchain that the scaffold packages carry."""

    gcc_version: str  # e.g. "12.2.0"
    glibc_version: str  # e.g. "2.36"
    ccache: str | None  # path of ccache, or None to compile without it

    @property
    def gcc_major(self) -> str:
        return self.gcc_version.split(".")[0]


@dataclass
class ScaffoldPackage:
    """One package of the scaffold: staged files plus its conda metadata."""

    name: str
    version: str
    summary: str
    stage: Path
    depends: list[str] = field(default_factory=list)
    #: the conda package name where it differs from ``name`` (a second version of a package)
    package_name: str | None = None
    build_string: str | None = None
    strong_run_exports: list[str] = field(default_factory=list)
    weak_run_exports: list[str] = field(default_factory=list)


def detect_machine() -> Machine:
    """GCC and glibc of this machine; a clear error where the scaffold cannot work."""
    if platform.system() != "Linux" or platform.machine() != "x86_64":
        raise SystemExit(f"the conda build scaffold needs Linux x86_64, not {platform.system()} {platform.machine()}")
    for tool in ("gcc", "g++", "dpkg-deb", "apt-get"):
        if not shutil.which(tool):
            raise SystemExit(f"the conda build scaffold needs '{tool}' on PATH (Debian/Ubuntu with build-essential)")
    gcc_version = subprocess.run(["gcc", "-dumpfullversion"], check=True, text=True, capture_output=True).stdout.strip()
    glibc = os.confstr("CS_GNU_LIBC_VERSION") or ""
    match = re.fullmatch(r"glibc (\d+\.\d+)", glibc)
    if not match:
        raise SystemExit(f"expected a glibc system, confstr says {glibc!r}")
    return Machine(gcc_version=gcc_version, glibc_version=match.group(1), ccache=shutil.which("ccache"))


def scaffold_variants(machine: Machine) -> dict[str, list[str]]:
    """The variant keys that point the recipes' compiler()/stdlib() at the scaffold packages."""
    return {
        "c_compiler_version": [machine.gcc_major],
        "cxx_compiler_version": [machine.gcc_major],
        "c_stdlib_version": [machine.glibc_version],
    }


# --------------------------------------------------------------------------------------
# Getting the ingredients
# --------------------------------------------------------------------------------------


def download_debs(dest: Path, names: tuple[str, ...] = DEBIAN_PACKAGES) -> dict[str, Path]:
    """Debian binary packages by name (``apt-get download``), kept in ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)

    def found(name: str) -> list[Path]:
        return sorted(dest.glob(f"{name}_*_amd64.deb"))

    missing = [name for name in names if not found(name)]
    if missing:
        run(["apt-get", "download", "-q", *missing], cwd=dest)
    debs: dict[str, Path] = {}
    for name in names:
        candidates = found(name)
        if not candidates:
            raise SystemExit(f"apt-get download {name} left no {name}_*_amd64.deb in {dest}")
        debs[name] = candidates[-1]
    return debs


def deb_version(deb: Path) -> str:
    """The upstream version of a Debian package file: libblas3_3.11.0-2_amd64.deb -> 3.11.0."""
    upstream = unquote(deb.name.split("_")[1]).rsplit("-", 1)[0]  # apt writes the epoch's ':' as %3a
    return re.sub(r"^\d+:", "", upstream).split("+")[0]


def extract_deb(deb: Path, dest: Path) -> Path:
    """The files of a Debian package (``dpkg-deb -x``) under ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    run(["dpkg-deb", "-x", str(deb), str(dest)])
    return dest


def copy_libraries(tree: Path, patterns: tuple[str, ...], lib: Path) -> list[str]:
    """Copy the shared libraries matching ``patterns`` (file names) from an extracted tree into lib/."""
    lib.mkdir(parents=True, exist_ok=True)
    copied = []
    for pattern in patterns:
        for path in sorted(tree.rglob(pattern)):
            shutil.copy2(path, lib / path.name, follow_symlinks=False)
            copied.append(path.name)
    if not copied:
        raise SystemExit(f"no library matching {patterns} in {tree}")
    return copied


def wheel_tool(wheel_dir: Path, requirement: str) -> Path:
    """The PyPI wheel of a build tool (downloaded once)."""
    name = re.split(r"[<>=!~ ]", requirement, maxsplit=1)[0]
    wheels = sorted(wheel_dir.glob(f"{name}-*.whl"))
    if not wheels:
        run([sys.executable, "-m", "pip", "download", "-q", "--only-binary", ":all:", "--no-deps",
             "-d", str(wheel_dir), requirement])
        wheels = sorted(wheel_dir.glob(f"{name}-*.whl"))
    if not wheels:
        raise SystemExit(f"pip download {requirement!r} gave no wheel")
    return wheels[-1]


def stage_wheel_data(wheel: Path, data_prefix: str, stage: Path) -> None:
    """Unpack the files under ``data_prefix`` of a wheel (e.g. ``cmake/data/``) into ``stage``."""
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            if info.is_dir() or not info.filename.startswith(data_prefix):
                continue
            target = stage / info.filename[len(data_prefix):]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(info))
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                target.chmod(mode)


# --------------------------------------------------------------------------------------
# The packages
# --------------------------------------------------------------------------------------


def compiler_wrapper(machine: Machine, compiler: str) -> str:
    """A shell script that runs the machine's compiler, through ccache where there is one."""
    launcher = f'CCACHE_DIR="${{OSIM_CONDA_CCACHE_DIR}}" exec {machine.ccache} ' if machine.ccache else "exec "
    return ("#!/bin/sh\n# osim-rl conda scaffold: the build machine's compiler (never publish)\n"
            f"{launcher}/usr/bin/{compiler} \"$@\"\n")


def compiler_activation(variable: str, tool: str, ccache_dir: Path | None) -> str:
    """etc/conda/activate.d script: the compiler variable and, for C, conda-forge-like CMAKE_ARGS."""
    lines = ["# osim-rl conda scaffold (never publish)",
             f'export {variable}="${{CONDA_PREFIX}}/bin/{TRIPLET}-{tool}"',
             f'export HOST="{TRIPLET}"', f'export BUILD="{TRIPLET}"', f'export CONDA_TOOLCHAIN_HOST="{TRIPLET}"']
    if ccache_dir is not None:
        lines.append(f'export OSIM_CONDA_CCACHE_DIR="{ccache_dir}"')
    if variable == "CC":
        # What conda-forge's activation puts in CMAKE_ARGS, less the binutils paths: install into
        # PREFIX and look for libraries and headers in PREFIX and the sysroot only.
        lines.append(
            'export CMAKE_ARGS="-DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=${PREFIX} '
            '-DCMAKE_INSTALL_LIBDIR=lib -DCMAKE_PREFIX_PATH=${PREFIX} '
            f'-DCMAKE_FIND_ROOT_PATH=${{PREFIX}};${{CONDA_PREFIX}}/{TRIPLET}/sysroot '
            '-DCMAKE_FIND_ROOT_PATH_MODE_PROGRAM=NEVER -DCMAKE_FIND_ROOT_PATH_MODE_LIBRARY=ONLY '
            '-DCMAKE_FIND_ROOT_PATH_MODE_INCLUDE=ONLY -DCMAKE_FIND_ROOT_PATH_MODE_PACKAGE=ONLY '
            '-DCMAKE_PROGRAM_PATH=${BUILD_PREFIX:-${CONDA_PREFIX}}/bin;${PREFIX}/bin"')
    return "\n".join(lines) + "\n"


def stage_compiler(stage: Path, machine: Machine, name: str, ccache_dir: Path | None) -> None:
    """bin/<triplet>-<tool> wrappers and the activation script of gcc_linux-64 or gxx_linux-64."""
    tools = {"gcc_linux-64": {"gcc": "gcc", "cpp": "cpp"}, "gxx_linux-64": {"g++": "g++", "c++": "g++"}}[name]
    (stage / "bin").mkdir(parents=True)
    for tool, compiler in tools.items():
        wrapper = stage / "bin" / f"{TRIPLET}-{tool}"
        wrapper.write_text(compiler_wrapper(machine, compiler), encoding="utf-8")
        wrapper.chmod(0o755)
    activate = stage / "etc" / "conda" / "activate.d"
    activate.mkdir(parents=True)
    variable, tool = ("CC", "gcc") if name == "gcc_linux-64" else ("CXX", "g++")
    (activate / f"activate-{name}.sh").write_text(compiler_activation(variable, tool, ccache_dir), encoding="utf-8")


def new_package(stages: Path, name: str, version: str, summary: str, **metadata: list[str]) -> ScaffoldPackage:
    """A scaffold package with an empty stage directory ``stages/name``."""
    package = ScaffoldPackage(name=name, version=version, summary=summary, stage=stages / name, **metadata)
    shutil.rmtree(package.stage, ignore_errors=True)
    package.stage.mkdir(parents=True)
    return package


def runtime_packages(stages: Path, trees: dict[str, Path], gcc: str) -> list[ScaffoldPackage]:
    """libgcc, libstdcxx and libgfortran5: the GCC runtime libraries, from Debian."""
    libgcc = new_package(stages, "libgcc", gcc, "GCC runtime (libgcc_s) of the build machine, from Debian's libgcc-s1")
    copy_libraries(trees["libgcc-s1"], ("libgcc_s.so.1",), libgcc.stage / "lib")
    libstdcxx = new_package(stages, "libstdcxx", gcc, "GNU C++ runtime of the build machine, from Debian's libstdc++6",
                            depends=[f"libgcc >={gcc}"])
    copy_libraries(trees["libstdc++6"], ("libstdc++.so.6*",), libstdcxx.stage / "lib")
    for gdb_script in (libstdcxx.stage / "lib").glob("*.py"):
        gdb_script.unlink()
    gfortran = new_package(stages, "libgfortran5", gcc,
                           "GNU Fortran runtime, from Debian's libgfortran5 and libquadmath0",
                           depends=[f"libgcc >={gcc}"])
    copy_libraries(trees["libgfortran5"], ("libgfortran.so.5*",), gfortran.stage / "lib")
    copy_libraries(trees["libquadmath0"], ("libquadmath.so.0*",), gfortran.stage / "lib")
    return [libgcc, libstdcxx, gfortran]


def blas_packages(stages: Path, trees: dict[str, Path], debs: dict[str, Path], gcc: str) -> list[ScaffoldPackage]:
    """libblas and liblapack (netlib reference), with the run_exports conda-forge's carry."""
    packages = []
    blas_version = deb_version(debs["libblas3"])
    for name, deb, extra in (("libblas", "libblas3", []), ("liblapack", "liblapack3", [f"libblas >={blas_version}"])):
        version = deb_version(debs[deb])
        library = new_package(stages, name, version, f"Netlib reference {name[3:].upper()}, from Debian's {deb}",
                              depends=[f"libgfortran5 >={gcc}", *extra],
                              weak_run_exports=[f"{name} >={version},<4.0a0"])
        lib = library.stage / "lib"
        copy_libraries(trees[deb], (f"{name}.so.3*",), lib)
        (lib / f"{name}.so").symlink_to(f"{name}.so.3")
        packages.append(library)
    return packages


def sysroot_package(stages: Path, trees: dict[str, Path], glibc: str) -> ScaffoldPackage:
    """sysroot_linux-64: glibc under the triplet's sysroot, exporting the __glibc floor."""
    sysroot = new_package(stages, "sysroot_linux-64", glibc,
                          "glibc of the build machine, from Debian's libc6 and libc6-dev",
                          strong_run_exports=[f"__glibc >={glibc},<3.0.a0"])
    for name in ("libc6", "libc6-dev"):
        shutil.copytree(trees[name], sysroot.stage / TRIPLET / "sysroot", symlinks=True, dirs_exist_ok=True)
    return sysroot


def compiler_packages(stages: Path, machine: Machine, ccache_dir: Path | None) -> list[ScaffoldPackage]:
    """gcc_linux-64 and gxx_linux-64 with the strong run_exports of conda-forge's compilers."""
    gcc, major = machine.gcc_version, machine.gcc_major
    packages = []
    runtimes = {"gcc_linux-64": [f"libgcc >={major}"], "gxx_linux-64": [f"libstdcxx >={major}", f"libgcc >={major}"]}
    for name, depends, runtime in (("gcc_linux-64", [], runtimes["gcc_linux-64"]),
                                   ("gxx_linux-64", [f"gcc_linux-64 =={gcc}"], runtimes["gxx_linux-64"])):
        compiler = new_package(stages, name, gcc, f"The build machine's GCC {gcc}, wrapped (osim-rl scaffold)",
                               depends=depends, strong_run_exports=runtime)
        shutil.rmtree(compiler.stage)
        stage_compiler(compiler.stage, machine, name, ccache_dir)
        packages.append(compiler)
    return packages


def swig_wrapper(swig_lib: str) -> str:
    """bin/swig: the wheel's binary and its library, found relative to the wrapper as the wheel's entry point does."""
    return ("#!/bin/sh\n# osim-rl conda scaffold: swig from its PyPI wheel (never publish)\n"
            'here="$(cd "$(dirname "$0")/.." && pwd)"\n'
            f'SWIG_LIB="${{SWIG_LIB:-${{here}}/{swig_lib}}}" exec "${{here}}/libexec/swig/bin/swig" "$@"\n')


def wheel_tool_packages(stages: Path, wheel_dir: Path) -> list[ScaffoldPackage]:
    """cmake, ninja and swig: the binaries of their PyPI wheels."""
    packages = []
    for name, requirement in WHEEL_TOOLS.items():
        wheel = wheel_tool(wheel_dir, requirement)
        version = wheel.name.split("-")[1]
        tool = new_package(stages, name, version, f"{name} {version} from its PyPI wheel")
        if name == "cmake":
            stage_wheel_data(wheel, "cmake/data/", tool.stage)
        elif name == "ninja":
            stage_wheel_data(wheel, f"ninja-{version}.data/scripts/", tool.stage / "bin")
        else:
            # The binary has its library directory compiled in as the wheel builder's path:
            # SWIG_LIB points it at the packaged one (CMake's FindSWIG asks `swig -swiglib`).
            stage_wheel_data(wheel, "swig/data/", tool.stage / "libexec" / "swig")
            (library,) = (tool.stage / "libexec" / "swig" / "share" / "swig").iterdir()
            wrapper = tool.stage / "bin" / "swig"
            wrapper.parent.mkdir(parents=True)
            wrapper.write_text(swig_wrapper(str(library.relative_to(tool.stage))), encoding="utf-8")
            wrapper.chmod(0o755)
            tool.depends = ["libstdcxx", "libgcc"]
        packages.append(tool)
    return packages


def stage_multiarch_library(trees: list[Path], stage: Path) -> None:
    """A Debian library's usr/ (headers, multiarch lib/ with its CMake config) under PREFIX.

    The CMake configs find their headers and libraries four directories up from
    ``lib/x86_64-linux-gnu/cmake/<name>``, so the tree keeps Debian's layout; lib/ gets
    symlinks to the shared libraries, the directory rattler-build's RPATH (``$ORIGIN/../lib``)
    and overlinking check look in.
    """
    for tree in trees:
        for part in ("include", MULTIARCH):
            if (tree / "usr" / part).is_dir():
                shutil.copytree(tree / "usr" / part, stage / part, symlinks=True, dirs_exist_ok=True)
    for library in sorted((stage / MULTIARCH).glob("*.so*")):
        (stage / "lib" / library.name).symlink_to(f"x86_64-linux-gnu/{library.name}")


def fmt_spdlog_packages(stages: Path, trees: dict[str, Path], debs: dict[str, Path],
                        gcc_major: str) -> list[ScaffoldPackage]:
    """fmt and spdlog (built on that fmt) from Debian, with conda-forge's run_exports."""
    runtime = [f"libstdcxx >={gcc_major}", f"libgcc >={gcc_major}"]
    fmt_version, spdlog_version = deb_version(debs["libfmt-dev"]), deb_version(debs["libspdlog-dev"])
    fmt_major = int(fmt_version.split(".")[0])
    spdlog_minor = ".".join(spdlog_version.split(".")[:2])
    fmt_pin = f"fmt >={fmt_version},<{fmt_major + 1}.0a0"
    fmt = new_package(stages, "fmt", fmt_version, "fmt, from Debian's libfmt9 and libfmt-dev",
                      depends=runtime, weak_run_exports=[fmt_pin])
    stage_multiarch_library([trees["libfmt9"], trees["libfmt-dev"]], fmt.stage)
    spdlog = new_package(stages, "spdlog", spdlog_version,
                         "spdlog with external fmt, from Debian's libspdlog1.10 and libspdlog-dev",
                         depends=[*runtime, fmt_pin],
                         weak_run_exports=[f"spdlog >={spdlog_version},<{next_minor(spdlog_minor)}.0a0"])
    stage_multiarch_library([trees["libspdlog1.10"], trees["libspdlog-dev"]], spdlog.stage)
    return [fmt, spdlog]


def next_minor(major_minor: str) -> str:
    """'1.10' -> '1.11': the exclusive upper bound of an x.x pin."""
    major, minor = major_minor.split(".")
    return f"{major}.{int(minor) + 1}"


def older_release_apt_options(state: Path, suite: str) -> list[str]:
    """apt-get options for a private list of ``suite`` from the same mirrors as the machine's main suite."""
    deb822 = sorted(Path("/etc/apt/sources.list.d").glob("*.sources"))
    uris: list[str] = []
    signed_by = "/usr/share/keyrings/debian-archive-keyring.gpg"
    if deb822:
        for stanza in "\n".join(p.read_text(encoding="utf-8") for p in deb822).split("\n\n"):
            fields = dict(re.findall(r"^([\w-]+): *(.*)$", stanza, flags=re.M))
            if fields.get("Types") == "deb" and not fields.get("Suites", "").endswith("-security"):
                uris += fields.get("URIs", "").split()
                signed_by = fields.get("Signed-By", signed_by)
    else:
        legacy = Path("/etc/apt/sources.list").read_text(encoding="utf-8")
        uris = [m for m in re.findall(r"^deb (?:\[[^]]*\] )?(\S+) \S+ ", legacy, flags=re.M) if "security" not in m]
    if not uris:
        raise SystemExit("no Debian mirror in the machine's apt sources to take the older libstdc++6 from")
    state.mkdir(parents=True, exist_ok=True)
    sources = state / f"{suite}.sources"
    sources.write_text(f"Types: deb\nURIs: {uris[0]}\nSuites: {suite}\nComponents: main\nSigned-By: {signed_by}\n",
                       encoding="utf-8")
    (state / "lists" / "partial").mkdir(parents=True, exist_ok=True)
    return ["-o", f"Dir::Etc::SourceList={sources}", "-o", "Dir::Etc::SourceParts=/dev/null",
            "-o", f"Dir::State::Lists={state / 'lists'}"]


def old_libstdcxx_package(stages: Path, cache: Path) -> ScaffoldPackage:
    """libstdcxx from an older Debian release's libstdc++6: the runtime of the GLIBCXX trap."""
    dest = cache / f"debs-{OLD_RUNTIME_SUITE}"
    debs = sorted(dest.glob("libstdc++6_*_amd64.deb"))
    if not debs:
        dest.mkdir(parents=True, exist_ok=True)
        options = older_release_apt_options(cache / f"apt-{OLD_RUNTIME_SUITE}", OLD_RUNTIME_SUITE)
        run(["apt-get", "-q", *options, "update"], stdout=subprocess.DEVNULL)
        # pkg/suite: the installed (newer) libstdc++6 would otherwise be the candidate
        run(["apt-get", "-q", *options, "download", f"libstdc++6/{OLD_RUNTIME_SUITE}"], cwd=dest)
        debs = sorted(dest.glob("libstdc++6_*_amd64.deb"))
    if not debs:
        raise SystemExit(f"apt-get download libstdc++6 ({OLD_RUNTIME_SUITE}) left no .deb in {dest}")
    version = deb_version(debs[-1])
    tree = extract_deb(debs[-1], cache / "debs-extracted" / f"libstdc++6-{OLD_RUNTIME_SUITE}")
    old = new_package(stages, "libstdcxx-old", version,
                      f"GNU C++ runtime of GCC {version}, from Debian {OLD_RUNTIME_SUITE}'s libstdc++6 "
                      "(older than the compiler: the GLIBCXX trap)", depends=[f"libgcc >={version.split('.')[0]}"])
    copy_libraries(tree, ("libstdc++.so.6*",), old.stage / "lib")
    for gdb_script in (old.stage / "lib").glob("*.py"):
        gdb_script.unlink()
    old.package_name, old.build_string = "libstdcxx", OLD_RUNTIME_BUILD
    return old


def python_packages(channel: Path, cache: Path) -> None:
    """python, python_abi (the machine's CPython), numpy and pip (their wheels, whl2conda) into the channel.

    The same interpreter and numpy the project's venv has: the SWIG bindings are built for the
    Python the osim suite then runs them with. ``ci/local_channel.py`` makes these packages for
    its seed channel too; here they go into the scaffold for the opensim recipe's host environment.
    """
    state = cache / "python-state"
    shutil.rmtree(state, ignore_errors=True)
    state.mkdir(parents=True)
    package_python(channel, state)
    package_python_abi(channel, state)
    wheels = download_wheels(cache / "python-wheels", [f"numpy=={installed_version('numpy')}", "pip"])
    for wheel in wheels:
        convert_wheel(wheel, channel, state / "converted")
    shutil.rmtree(state)
    for package in channel.glob("*/numpy-*.conda"):
        add_weak_run_exports(package, [NUMPY_RUN_EXPORT])


#: What conda-forge's numpy 2 packages export to what builds against them (their C API floor):
#: a recipe lists numpy in host only and gets this run requirement, as the opensim recipe does.
NUMPY_RUN_EXPORT = "numpy >=1.23,<3"


def add_weak_run_exports(package: Path, specs: list[str]) -> None:
    """Give a converted ``.conda`` package weak ``run_exports`` (whl2conda writes none)."""
    import json
    import tempfile

    from conda_package_handling import api

    with tempfile.TemporaryDirectory() as scratch:
        tree = Path(scratch) / "tree"
        api.extract(str(package), dest_dir=str(tree))
        (tree / "info" / "run_exports.json").write_text(json.dumps({"weak": specs}), encoding="utf-8")
        files = sorted(str(path.relative_to(tree)) for path in tree.rglob("*") if not path.is_dir())
        api.create(str(tree), files, package.name, out_folder=scratch)
        shutil.move(str(Path(scratch) / package.name), package)


def scaffold_packages(machine: Machine, cache: Path, ccache_dir: Path | None) -> list[ScaffoldPackage]:
    """Stage every scaffold package's files under ``cache/stage`` and describe the packages."""
    stages = cache / "stage"
    shutil.rmtree(stages, ignore_errors=True)
    debs = download_debs(cache / "debs")
    trees = {name: extract_deb(deb, cache / "debs-extracted" / name) for name, deb in debs.items()}
    return [*runtime_packages(stages, trees, machine.gcc_version),
            *blas_packages(stages, trees, debs, machine.gcc_version),
            sysroot_package(stages, trees, machine.glibc_version),
            *compiler_packages(stages, machine, ccache_dir),
            *fmt_spdlog_packages(stages, trees, debs, machine.gcc_major),
            *wheel_tool_packages(stages, cache / "wheels"),
            old_libstdcxx_package(stages, cache)]


def scaffold_recipe(package: ScaffoldPackage) -> dict[str, object]:
    """A rattler-build recipe that copies a staged tree into PREFIX, untouched."""
    requirements: dict[str, object] = {}
    if package.depends:
        requirements["run"] = package.depends
    run_exports = {key: value for key, value in (("strong", package.strong_run_exports),
                                                 ("weak", package.weak_run_exports)) if value}
    if run_exports:
        requirements["run_exports"] = run_exports
    build: dict[str, object] = {
        "number": 0,
        "string": package.build_string or f"scaffold_{SCAFFOLD_FORMAT}",
        "script": [f'cp -a "{package.stage}/." "$PREFIX/"'],
        "dynamic_linking": {"binary_relocation": False},
        "prefix_detection": {"ignore": True},
    }
    return {
        "schema_version": 1,
        "package": {"name": package.package_name or package.name, "version": package.version},
        "build": build,
        "requirements": requirements,
        "about": {"summary": f"{package.summary}. osim-rl offline build scaffold: never publish."},
    }


def scaffold_key(machine: Machine, ccache_dir: Path | None) -> str:
    """What the cached scaffold channel depends on; a change rebuilds it."""
    text = repr((SCAFFOLD_FORMAT, machine, str(ccache_dir), WHEEL_TOOLS, DEBIAN_PACKAGES, OLD_RUNTIME_SUITE,
                 Path(__file__).read_bytes()))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def build_scaffold(cache: Path, machine: Machine, ccache_dir: Path | None) -> Path:
    """The scaffold channel (built once per :func:`scaffold_key`, then reused)."""
    key = scaffold_key(machine, ccache_dir)
    channel = cache / f"scaffold-{key}"
    if (channel / "done").is_file():
        print(f"scaffold channel {channel.name}: cached")
        return channel
    shutil.rmtree(channel, ignore_errors=True)
    recipes = cache / "scaffold-recipes"
    shutil.rmtree(recipes, ignore_errors=True)
    for package in scaffold_packages(machine, cache, ccache_dir):
        recipe = recipes / package.name / "recipe.yaml"
        recipe.parent.mkdir(parents=True)
        recipe.write_text(yaml.safe_dump(scaffold_recipe(package), sort_keys=False), encoding="utf-8")
        built = build_recipe(recipe, channel, [], test=False)
        print(f"scaffold: {', '.join(p.name for p in built)}")
    python_packages(channel, cache)
    shutil.rmtree(channel / "bld", ignore_errors=True)
    shutil.rmtree(cache / "stage", ignore_errors=True)
    (channel / "done").write_text(key, encoding="utf-8")
    return channel

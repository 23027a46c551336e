"""``osim doctor``: can this Python run osim-rl, and if not, why and how to fix it.

Reports the Python and platform, how OpenSim was installed and where it is, whether
``import opensim`` works (tried in a child process, so a broken library cannot take the
doctor down), and on Linux the C++ runtime question behind the classic
``version `GLIBCXX_3.4.21' not found`` error: which ``libstdc++.so.6`` this interpreter
loads, the GLIBCXX/CXXABI versions it defines against those OpenSim's libraries need, and
shared libraries that cannot be found. For every problem it names the fix for a conda
environment, a pip install and a system (source or distribution) install, marking the
one that applies here. Exit code 0 when nothing is broken, 1 otherwise.

``osim doctor --library PATH`` asks the same of one shared library instead of the opensim
package (e.g. a Simbody or OpenSim library of a conda environment, before any bindings exist).

Only the standard library is used, and nothing of osim is imported, so that
``python osim/doctor.py`` also works where numpy or opensim cannot be loaded.
"""
from __future__ import annotations

import os
import sys

# Run as a script (python osim/doctor.py), the package directory would come first on sys.path and
# its subpackages (osim/http, ...) would shadow standard-library modules of the same name.
if __name__ == "__main__" and sys.path and os.path.realpath(sys.path[0]) == os.path.dirname(os.path.realpath(__file__)):
    del sys.path[0]

import argparse
import importlib.util
import json
import platform
import re
import shutil
import struct
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

LIBSTDCXX = "libstdc++.so.6"
#: The C++ runtime version families a libstdc++ defines and C++ binaries require.
CXX_RUNTIME_VERSION = re.compile(r"^(GLIBCXX|CXXABI)_\d+(\.\d+)*$")
#: The GCC release that introduced each GLIBCXX_3.4.N (libstdc++ ABI history).
GCC_FOR_GLIBCXX = {19: "4.8.3", 20: "4.9", 21: "5", 22: "6", 23: "7.1", 24: "7.2", 25: "8", 26: "9",
                   28: "10", 29: "11", 30: "12", 31: "13.1", 32: "13.2", 33: "14"}
#: Directories the dynamic loader searches last (besides ld.so.cache).
DEFAULT_LIBRARY_DIRS = ("/lib", "/usr/lib", "/lib64", "/usr/lib64",
                        f"/lib/{platform.machine()}-linux-gnu", f"/usr/lib/{platform.machine()}-linux-gnu")
PROBE_TIMEOUT_S = 180
#: The loader's own words when a libstdc++ lacks a version node; it names the libstdc++ it used,
#: which can differ from the one a plain dlopen("libstdc++.so.6") finds (RUNPATH is per library).
LOADER_VERSION_ERROR = re.compile(r"(/\S*libstdc\+\+\.so\.6): version `((?:GLIBCXX|CXXABI)_[\d.]+)' not found")


# ======================================================================================
# ELF: the dynamic section and the symbol-version sections, read without third-party code
# ======================================================================================

SHT_DYNAMIC = 6
SHT_GNU_VERDEF = 0x6FFFFFFD
SHT_GNU_VERNEED = 0x6FFFFFFE
DT_NEEDED, DT_SONAME, DT_RPATH, DT_RUNPATH = 1, 14, 15, 29


@dataclass
class ElfInfo:
    """What the dynamic loader needs to know about one shared object or executable."""

    path: str
    is_executable: bool
    soname: str | None = None
    needed: list[str] = field(default_factory=list)
    search_dirs: list[str] = field(default_factory=list)  # RPATH/RUNPATH with $ORIGIN expanded
    defined_versions: list[str] = field(default_factory=list)
    #: library file name (e.g. libstdc++.so.6) -> versions required from it
    required_versions: dict[str, list[str]] = field(default_factory=dict)


def _cstring(blob: bytes, offset: int) -> str:
    end = blob.find(b"\0", offset)
    return blob[offset:end if end >= 0 else len(blob)].decode("utf-8", "replace")


def read_elf(path: Path) -> ElfInfo | None:
    """Parse ``path`` if it is an ELF file; None otherwise (or if it is malformed)."""
    try:
        with open(path, "rb") as handle:
            return _read_elf(handle, path)
    except (OSError, struct.error, ValueError, IndexError):
        return None


def _read_elf(handle: BinaryIO, path: Path) -> ElfInfo | None:
    ident = handle.read(16)
    if len(ident) < 16 or ident[:4] != b"\x7fELF" or ident[4] not in (1, 2) or ident[5] not in (1, 2):
        return None
    is64 = ident[4] == 2
    end = "<" if ident[5] == 1 else ">"
    word = "Q" if is64 else "I"
    header = handle.read(64 - 16 if is64 else 52 - 16)
    e_type = struct.unpack_from(end + "H", header, 0)[0]
    if is64:
        e_shoff = struct.unpack_from(end + "Q", header, 0x28 - 16)[0]
        e_shentsize, e_shnum, _e_shstrndx = struct.unpack_from(end + "HHH", header, 0x3A - 16)
    else:
        e_shoff = struct.unpack_from(end + "I", header, 0x20 - 16)[0]
        e_shentsize, e_shnum, _e_shstrndx = struct.unpack_from(end + "HHH", header, 0x2E - 16)
    section_format = end + ("IIQQQQIIQQ" if is64 else "IIIIIIIIII")
    handle.seek(e_shoff)
    table = handle.read(e_shentsize * e_shnum)
    sections = [struct.unpack_from(section_format, table, i * e_shentsize) for i in range(e_shnum)]

    def contents(index: int) -> bytes:
        _name, _type, _flags, _addr, offset, size, *_ = sections[index]
        handle.seek(offset)
        return handle.read(size)

    has_interp = e_type == 2  # ET_EXEC; PIE executables are ET_DYN and recognized by name below
    is_library = path.name.endswith((".so",)) or ".so." in path.name
    info = ElfInfo(path=str(path), is_executable=has_interp or not is_library)
    origin = str(path.parent)
    for index, section in enumerate(sections):
        _name, sh_type, _flags, _addr, _offset, _size, sh_link, sh_info, _align, _entsize = section
        if sh_type == SHT_DYNAMIC:
            strings = contents(sh_link)
            data = contents(index)
            step = 16 if is64 else 8
            for position in range(0, len(data) - step + 1, step):
                tag, value = struct.unpack_from(end + word + word, data, position)
                if tag == 0:
                    break
                if tag == DT_NEEDED:
                    info.needed.append(_cstring(strings, value))
                elif tag == DT_SONAME:
                    info.soname = _cstring(strings, value)
                elif tag in (DT_RPATH, DT_RUNPATH):
                    for entry in _cstring(strings, value).split(":"):
                        if entry:
                            info.search_dirs.append(entry.replace("$ORIGIN", origin).replace("${ORIGIN}", origin))
        elif sh_type == SHT_GNU_VERDEF:
            strings, data = contents(sh_link), contents(index)
            position = 0
            for _ in range(sh_info):
                _ver, _flags, _ndx, _cnt, _hash, vd_aux, vd_next = struct.unpack_from(end + "HHHHIII", data, position)
                vda_name = struct.unpack_from(end + "I", data, position + vd_aux)[0]
                info.defined_versions.append(_cstring(strings, vda_name))
                if vd_next == 0:
                    break
                position += vd_next
        elif sh_type == SHT_GNU_VERNEED:
            strings, data = contents(sh_link), contents(index)
            position = 0
            for _ in range(sh_info):
                _ver, vn_cnt, vn_file, vn_aux, vn_next = struct.unpack_from(end + "HHIII", data, position)
                versions = info.required_versions.setdefault(_cstring(strings, vn_file), [])
                aux = position + vn_aux
                for _ in range(vn_cnt):
                    _hash, _flags, _other, vna_name, vna_next = struct.unpack_from(end + "IHHII", data, aux)
                    versions.append(_cstring(strings, vna_name))
                    if vna_next == 0:
                        break
                    aux += vna_next
                if vn_next == 0:
                    break
                position += vn_next
    return info


def version_key(version: str) -> tuple[str, tuple[int, ...]]:
    """Sort key: GLIBCXX_3.4.9 < GLIBCXX_3.4.10."""
    family, _, number = version.partition("_")
    return family, tuple(int(part) for part in number.split(".") if part.isdigit())


def newest(versions: Iterable[str], family: str) -> str | None:
    """The newest of ``versions`` in ``family`` (e.g. ``GLIBCXX``); ``None`` if there is none."""
    matching = [v for v in versions if v.startswith(family + "_") and CXX_RUNTIME_VERSION.match(v)]
    return max(matching, key=version_key) if matching else None


# ======================================================================================
# Facts about this installation
# ======================================================================================


@dataclass
class Problem:
    """Something broken (or, with ``fatal=False``, worth knowing) and how to fix it."""

    title: str
    detail: str
    fixes: dict[str, str]  # install kind ("conda", "pip", "system") -> what to do
    fatal: bool = True


@dataclass
class Report:
    """Everything ``osim doctor`` found: facts about Python, OpenSim and libstdc++, and the problems."""

    python: dict[str, str]
    install_kind: str
    opensim: dict[str, Any]
    libstdcxx: dict[str, Any] = field(default_factory=dict)
    missing_libraries: list[dict[str, str]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def broken(self) -> bool:
        """Whether a problem stops OpenSim from loading."""
        return any(problem.fatal for problem in self.problems)


def python_facts() -> dict[str, str]:
    """Version, executable, prefix, platform, machine and C library of this Python."""
    libc, libc_version = platform.libc_ver()
    return {
        "version": platform.python_version(),
        "executable": sys.executable,
        "prefix": sys.prefix,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "libc": f"{libc} {libc_version}".strip() or "unknown",
    }


def conda_prefix() -> Path | None:
    """The conda environment this interpreter belongs to, if any."""
    prefix = Path(sys.prefix)
    return prefix if (prefix / "conda-meta").is_dir() else None


def opensim_location() -> tuple[Path | None, list[Path]]:
    """The opensim package directory (without importing it) and its wheel's vendored-library dir."""
    try:
        spec = importlib.util.find_spec("opensim")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.origin:
        return None, []
    package = Path(spec.origin).parent
    extra = [package.parent / "opensim.libs"] if (package.parent / "opensim.libs").is_dir() else []
    return package, extra


def install_kind(package: Path | None) -> tuple[str, str | None]:
    """('conda' | 'pip' | 'system', distribution version) for the opensim that Python finds."""
    prefix = conda_prefix()
    if prefix is not None and any(prefix.glob("conda-meta/opensim-*.json")):
        record = json.loads(sorted(prefix.glob("conda-meta/opensim-*.json"))[-1].read_text())
        return "conda", str(record.get("version"))
    try:
        from importlib import metadata

        distribution = metadata.distribution("opensim")
        files = distribution.files or []
        if package is not None and any(Path(str(distribution.locate_file(f))).parent == package for f in files[:200]):
            installer = (distribution.read_text("INSTALLER") or "pip").strip()
            return ("conda" if installer == "conda" else "pip"), distribution.version
    except Exception:  # noqa: BLE001 - no metadata: a source build on sys.path / PYTHONPATH
        pass
    return "system", None


PROBE = r"""
import ctypes, json, sys
result = {}
try:
    if len(sys.argv) > 1:  # osim doctor --library PATH
        ctypes.CDLL(sys.argv[1])
        result.update(import_ok=True, version=None, file=sys.argv[1])
    else:
        import opensim
        result.update(import_ok=True, version=opensim.GetVersion(), file=opensim.__file__)
except BaseException as error:
    result.update(import_ok=False, error=f"{type(error).__name__}: {error}")

class LinkMap(ctypes.Structure):
    _fields_ = [("l_addr", ctypes.c_void_p), ("l_name", ctypes.c_char_p)]

try:
    # dlopen returns the libstdc++.so.6 already in the process if there is one (LD_PRELOAD,
    # a dependency), else the one the loader's search finds: the one extension modules get.
    handle = ctypes.CDLL("libstdc++.so.6")._handle
    libdl = ctypes.CDLL(None)
    link_map = ctypes.POINTER(LinkMap)()
    if libdl.dlinfo(ctypes.c_void_p(handle), 2, ctypes.byref(link_map)) == 0:  # RTLD_DI_LINKMAP
        result["libstdcxx"] = link_map.contents.l_name.decode()
except OSError as error:
    result["libstdcxx_error"] = str(error)
print("OSIM-DOCTOR-PROBE " + json.dumps(result))
"""


def probe_import(library: Path | None = None) -> dict[str, Any]:
    """Import opensim (or load ``library``) in a child process with this process's environment."""
    try:
        completed = subprocess.run([sys.executable, "-c", PROBE, *([str(library)] if library else [])],
                                   capture_output=True, text=True,
                                   timeout=PROBE_TIMEOUT_S, env=os.environ.copy())
    except subprocess.TimeoutExpired:
        return {"import_ok": False, "error": f"import opensim did not finish within {PROBE_TIMEOUT_S} s"}
    for line in completed.stdout.splitlines():
        if line.startswith("OSIM-DOCTOR-PROBE "):
            return json.loads(line.split(" ", 1)[1])
    tail = (completed.stderr or completed.stdout).strip().splitlines()[-3:]
    return {"import_ok": False,
            "error": f"the interpreter died importing opensim (exit code {completed.returncode}): " + " | ".join(tail)}


def collect_elves(package: Path, extra_dirs: list[Path]) -> list[ElfInfo]:
    """The ELF files of the opensim package (or the one library), plus the OpenSim/Simbody libraries they link."""
    found: dict[str, ElfInfo] = {}
    if package.is_file():
        queue = [package]
    else:
        queue = [p for d in [package, *extra_dirs] for p in sorted(d.rglob("*")) if p.is_file()]
    while queue:
        path = queue.pop()
        key = str(path.resolve())
        if key in found:
            continue
        info = read_elf(path)
        if info is None:
            continue
        found[key] = info
        for name in info.needed:
            if name.startswith(("libosim", "libSimTK")):  # OpenSim's own libraries outside the package
                located = locate_library(name, info)
                if located:
                    queue.append(Path(located))
    return list(found.values())


_ld_cache: dict[str, str] | None = None


def ld_cache() -> dict[str, str]:
    """soname -> path from ``ldconfig -p`` (empty if ldconfig is unavailable)."""
    global _ld_cache
    if _ld_cache is None:
        _ld_cache = {}
        ldconfig = shutil.which("ldconfig") or next(
            (p for p in ("/sbin/ldconfig", "/usr/sbin/ldconfig") if os.path.exists(p)), None)
        if ldconfig:
            try:
                output = subprocess.run([ldconfig, "-p"], capture_output=True, text=True, timeout=30).stdout
            except (OSError, subprocess.TimeoutExpired):
                output = ""
            for line in output.splitlines():
                match = re.match(r"\s*(\S+) \(([^)]*)\) => (\S+)", line)
                if match and ("x86-64" in match.group(2)) == (platform.machine() == "x86_64"):
                    _ld_cache.setdefault(match.group(1), match.group(3))
    return _ld_cache


def locate_library(name: str, needed_by: ElfInfo) -> str | None:
    """Where the loader would find ``name`` for ``needed_by`` (RPATH/RUNPATH, LD_LIBRARY_PATH, cache, defaults)."""
    directories = [*needed_by.search_dirs, *filter(None, os.environ.get("LD_LIBRARY_PATH", "").split(":"))]
    for directory in directories:
        candidate = Path(directory) / name
        if candidate.exists():
            return str(candidate)
    if name in ld_cache():
        return ld_cache()[name]
    for directory in DEFAULT_LIBRARY_DIRS:
        if Path(directory, name).exists():
            return str(Path(directory, name))
    return None


# ======================================================================================
# Diagnosis
# ======================================================================================


def origin_of(library: str) -> str:
    """Where a loaded libstdc++ comes from: 'preload', 'conda', 'ld_library_path' or 'system'."""
    resolved = os.path.realpath(library)
    preload = [os.path.realpath(p) for p in re.split(r"[:\s]+", os.environ.get("LD_PRELOAD", "")) if p]
    if resolved in preload:
        return "preload"
    for prefix in filter(None, {os.environ.get("CONDA_PREFIX"), str(conda_prefix() or "")}):
        if resolved.startswith(os.path.realpath(prefix) + os.sep) and Path(prefix, "conda-meta").is_dir():
            return "conda"
    for directory in filter(None, os.environ.get("LD_LIBRARY_PATH", "").split(":")):
        if os.path.dirname(resolved) == os.path.realpath(directory):
            return "ld_library_path"
    return "system"


def glibcxx_fixes(library: str, origin: str, missing: list[str]) -> dict[str, str]:
    """The fix for each install kind, specific to where the old libstdc++ comes from."""
    newest_missing = newest(missing, "GLIBCXX")
    gcc = GCC_FOR_GLIBCXX.get(version_key(newest_missing)[1][-1]) if newest_missing else None
    need = f"a libstdc++ from GCC >= {gcc}" if gcc else "a newer libstdc++"
    directory = os.path.dirname(library)
    if origin == "preload":
        local = f"LD_PRELOAD loads {library} into every process: unset LD_PRELOAD (or remove that entry)."
    elif origin == "ld_library_path":
        local = (f"LD_LIBRARY_PATH puts {directory} first: remove it from LD_LIBRARY_PATH "
                 "(`unset LD_LIBRARY_PATH` in this shell).")
    else:
        local = ""
    conda_pin = f"'libstdcxx>={gcc.split('.')[0]}'" if gcc else "libstdcxx"
    fixes = {
        "conda": (f"{local + ' ' if origin != 'conda' and local else ''}"
                  f"Update the environment's C++ runtime: conda install -c conda-forge {conda_pin} "
                  "(older channels call it libstdcxx-ng), and install opensim from conda-forge into the same "
                  "environment so that its run_exports keep libstdcxx new enough. `conda install libgcc`, "
                  "the 2017 answer, only worked by accident of which libstdc++ it shipped."),
        "pip": (f"{local + ' ' if local else ''}The opensim wheel is manylinux_2_28: it needs {need}, which every "
                "Linux with glibc >= 2.28 ships in its system libstdc++. pip cannot replace a system library: if "
                "the OS is older, use the conda package instead. If this Python is a conda interpreter, fix the "
                "environment as for conda, or use a venv made from a non-conda Python."),
        "system": (f"{local + ' ' if local else ''}A source or distribution build must run with the libstdc++ of "
                   f"the compiler that built it ({need}): install that runtime (e.g. the distribution's libstdc++6 "
                   "update) or rebuild OpenSim with the system compiler; do not put older runtimes on "
                   "LD_LIBRARY_PATH."),
    }
    return fixes


def check_libstdcxx(report: Report, elves: list[ElfInfo], probe: dict[str, Any]) -> None:
    """Add to ``report`` the libstdc++ that OpenSim loads and any C++ runtime versions it lacks."""
    library = probe.get("libstdcxx")
    named = LOADER_VERSION_ERROR.search(str(probe.get("error") or ""))
    if named:  # the loader says which libstdc++ it bound: that one, not the probe's dlopen guess
        library = named.group(1)
    report.libstdcxx["named_by_loader"] = bool(named)
    subject = report.opensim.get("subject", "OpenSim")
    required: dict[str, list[str]] = {}  # version -> files that need it
    for info in elves:
        for version in info.required_versions.get(LIBSTDCXX, []):
            required.setdefault(version, []).append(info.path)
    report.libstdcxx["required_newest"] = [v for v in (newest(required, "GLIBCXX"), newest(required, "CXXABI")) if v]
    report.libstdcxx["objects_needing_it"] = len({p for paths in required.values() for p in paths})
    if not library:
        report.libstdcxx["loaded"] = None
        if required:
            report.problems.append(Problem(
                "no libstdc++ found", probe.get("libstdcxx_error", "libstdc++.so.6 could not be loaded"),
                {"conda": "conda install -c conda-forge libstdcxx",
                 "pip": "install the distribution's C++ runtime (Debian/Ubuntu: apt-get install libstdc++6)",
                 "system": "install the distribution's C++ runtime (Debian/Ubuntu: apt-get install libstdc++6)"}))
        return
    loaded = read_elf(Path(library))
    defined = sorted({v for v in (loaded.defined_versions if loaded else []) if CXX_RUNTIME_VERSION.match(v)},
                     key=version_key)
    origin = origin_of(library)
    report.libstdcxx.update(loaded=library, realpath=os.path.realpath(library), origin=origin,
                            provides_newest=[v for v in (newest(defined, "GLIBCXX"), newest(defined, "CXXABI")) if v])
    missing = sorted((v for v in required if v not in defined), key=version_key)
    report.libstdcxx["missing"] = missing
    # Every version node present, yet the loader cannot bind a versioned C++ runtime symbol (the
    # 2017 form: "symbol X, version GLIBCXX_3.4.21 not defined in file libstdc++.so.6"): the
    # library calls itself new enough but is not the runtime OpenSim was linked against.
    symbol_error = re.search(r"(?:undefined symbol: (\S+), version|symbol (\S+), version) ((?:GLIBCXX|CXXABI)_[\d.]+)",
                             str(probe.get("error") or ""))
    if not missing and symbol_error:
        symbol, version = symbol_error.group(1) or symbol_error.group(2), symbol_error.group(3)
        report.libstdcxx["unresolved_symbol"] = f"{symbol}@{version}"
        report.problems.append(Problem(
            f"the libstdc++ this Python loads lacks C++ runtime symbols {subject} needs ({symbol}@{version})",
            f"{library} ({origin}) defines the version nodes up to {', '.join(report.libstdcxx['provides_newest'])} "
            f"but not the symbol {symbol}@{version}: it is not the C++ runtime OpenSim was linked against "
            "(a stripped, patched or foreign libstdc++.so.6 placed first).",
            glibcxx_fixes(library, origin, [version])))
    if missing:
        examples = "; ".join(f"{v} needed by {required[v][0]}" for v in missing[:4])
        report.problems.append(Problem(
            f"the libstdc++ this Python loads is older than {subject} needs (missing {', '.join(missing)})",
            f"{library} ({origin}) defines up to {', '.join(report.libstdcxx['provides_newest'])}; "
            f"{examples}. The first libstdc++.so.6 loaded into a process serves every library in it, so an older "
            "one (from an old conda environment, LD_LIBRARY_PATH or LD_PRELOAD) breaks binaries built with a newer "
            "GCC.",
            glibcxx_fixes(library, origin, missing)))


def check_missing_libraries(report: Report, elves: list[ElfInfo]) -> None:
    """Add to ``report`` the shared libraries that OpenSim's files need and the loader cannot find."""
    provided = {Path(info.path).name for info in elves} | {info.soname for info in elves if info.soname}
    for info in elves:
        for name in info.needed:
            if name in provided or locate_library(name, info):
                continue
            entry = {"library": name, "needed_by": info.path}
            report.missing_libraries.append(entry)
            system = f"install the system package that provides {name} (Debian/Ubuntu: apt-file search {name})"
            fixes = {"conda": f"install the conda-forge package that provides {name} into this environment",
                     "pip": system,
                     "system": system}
            affected = " (an executable: only it is affected)" if info.is_executable else ""
            report.problems.append(Problem(
                f"{name} not found", f"needed by {info.path}" + affected,
                fixes, fatal=not info.is_executable))


def diagnose(library: Path | None = None) -> Report:
    """Inspect this installation of OpenSim (or one shared ``library``); returns the report."""
    if library is not None:
        return diagnose_library(library)
    package, extra_dirs = opensim_location()
    kind, distribution_version = install_kind(package)
    report = Report(python=python_facts(), install_kind=kind,
                    opensim={"location": str(package) if package else None,
                             "distribution_version": distribution_version})
    if package is None:
        report.problems.append(Problem(
            "opensim is not installed", f"no module named opensim on sys.path of {sys.executable}",
            {"conda": "conda install -c conda-forge opensim",
             "pip": "pip install opensim   (Linux x86_64 and Windows wheels)",
             "system": "build OpenSim with BUILD_PYTHON_WRAPPING=ON and put its site-packages on PYTHONPATH"}))
        return report
    probe = probe_import()
    report.opensim.update(import_ok=probe.get("import_ok", False), version=probe.get("version"),
                          error=probe.get("error"))
    if sys.platform.startswith("linux"):
        elves = collect_elves(package, extra_dirs)
        report.opensim["shared_objects"] = len(elves)
        check_libstdcxx(report, elves, probe)
        check_missing_libraries(report, elves)
    if not probe.get("import_ok") and not any(p.fatal for p in report.problems):
        report.problems.append(Problem("import opensim fails", str(probe.get("error")),
                                       {"conda": "conda install -c conda-forge --force-reinstall opensim",
                                        "pip": "pip install --force-reinstall opensim",
                                        "system": "rebuild and reinstall OpenSim's Python bindings"}))
    return report


def diagnose_library(library: Path) -> Report:
    """Can this Python's process load ``library``, and if not, is it the C++ runtime or a missing library."""
    library = library.resolve()
    in_conda = (library.parent.parent / "conda-meta").is_dir() or conda_prefix() is not None
    report = Report(python=python_facts(), install_kind="conda" if in_conda else "system",
                    opensim={"location": str(library), "subject": library.name, "distribution_version": None})
    if not library.is_file():
        raise SystemExit(f"osim doctor --library: expected a shared library file, got {library}")
    probe = probe_import(library)
    report.opensim.update(import_ok=probe.get("import_ok", False), version=None, error=probe.get("error"))
    if sys.platform.startswith("linux"):
        elves = collect_elves(library, [])
        report.opensim["shared_objects"] = len(elves)
        check_libstdcxx(report, elves, probe)
        check_missing_libraries(report, elves)
    if not probe.get("import_ok") and not any(p.fatal for p in report.problems):
        report.problems.append(Problem(f"{library.name} does not load", str(probe.get("error")),
                                       {"conda": "reinstall the package that owns it into this environment",
                                        "pip": "reinstall the wheel that owns it",
                                        "system": "rebuild and reinstall it"}))
    return report


# ======================================================================================
# Output and command line
# ======================================================================================


def render(report: Report) -> str:
    """The report as the text ``osim doctor`` prints."""
    py, osim_info, lib = report.python, report.opensim, report.libstdcxx
    lines = [
        f"python      : {py['version']} ({py['executable']})",
        f"platform    : {py['platform']} [{py['machine']}], {py['libc']}",
        f"install     : {report.install_kind}" + (f" (conda environment {conda_prefix()})" if conda_prefix() else ""),
        ("library     : " if osim_info.get("subject") else "opensim     : ")
        + (osim_info.get("location") or "not found")
        + (f", distribution {osim_info['distribution_version']}" if osim_info.get("distribution_version") else ""),
    ]
    if "import_ok" in osim_info:
        loaded = "OK" + (f", OpenSim {osim_info['version']}" if osim_info.get("version") else "")
        lines.append(("load        : " if osim_info.get("subject") else "import      : ")
                     + (loaded if osim_info["import_ok"] else f"FAILED: {osim_info['error']}"))
    if lib.get("loaded"):
        lines.append(f"libstdc++   : {lib['loaded']} [{lib['origin']}] defines up to "
                     f"{', '.join(lib['provides_newest']) or 'nothing'}")
    if lib.get("required_newest"):
        lines.append(("it needs    : " if osim_info.get("subject") else "opensim needs: ")
                     + f"up to {', '.join(lib['required_newest'])} "
                     f"({lib['objects_needing_it']} shared objects)")
    if "shared_objects" in osim_info:
        lines.append(f"libraries   : {len(report.missing_libraries)} missing of those "
                     f"{osim_info['shared_objects']} ELF files need")
    for problem in report.problems:
        lines.append("")
        lines.append(("PROBLEM: " if problem.fatal else "WARNING: ") + problem.title)
        lines.append(f"  why: {problem.detail}")
        for kind in ("conda", "pip", "system"):
            marker = "  <- this installation" if kind == report.install_kind else ""
            lines.append(f"  fix ({kind}){marker}: {problem.fixes[kind]}")
    lines.append("")
    lines.append("RESULT: BROKEN" if report.broken else "RESULT: OK")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Entry point of ``osim doctor``; returns the exit code (1 when something is broken)."""
    library = getattr(args, "library", None)
    report = diagnose(Path(library) if library else None)
    if getattr(args, "json", False):
        payload = asdict(report)
        payload["broken"] = report.broken
        print(json.dumps(payload, indent=2))
    else:
        print(render(report))
    return 1 if report.broken else 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``osim doctor``'s options to ``parser``."""
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--library", metavar="PATH",
                        help="diagnose loading this shared library instead of `import opensim`")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m osim.doctor``: print the diagnosis; returns the exit code (1 when OpenSim is broken)."""
    parser = argparse.ArgumentParser(prog="osim doctor", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())

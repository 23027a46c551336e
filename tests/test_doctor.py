"""``osim doctor`` against the real opensim install, and the GLIBCXX trap reproduced.

The trap: the first ``libstdc++.so.6`` loaded into a process serves every library in it. The
fixture builds a fake "GCC 4.9" libstdc++ (version nodes up to GLIBCXX_3.4.20 / CXXABI_1.3.8,
as in the 2017 reports) with the system C compiler; putting it first with LD_LIBRARY_PATH,
LD_PRELOAD or in a conda environment's lib/ makes the real ``import opensim`` fail, and the
doctor, run in a subprocess with that environment, must say why and how to fix it.

The doctor runs as ``python osim/doctor.py`` in the broken cases: numpy (imported by the
osim package) needs GLIBCXX_3.4.21 itself, so only the stdlib-only module can start there.

Two layouts: the pip wheel's bindings find no libstdc++ through their RPATH, so LD_LIBRARY_PATH
decides which one they get, and an old one there breaks them. A conda package's bindings carry
``DT_RPATH`` into the environment's ``lib/``, which holds the environment's own libstdcxx; the
loader searches DT_RPATH before LD_LIBRARY_PATH, so there the old library does not reach OpenSim
and the doctor must say the import works with the environment's libstdc++ (LD_PRELOAD still
comes first on both; the trap of an old runtime in the environment itself is shown on the real
packages by tests/test_glibcxx.py and ``ci/conda_build.py --suite``).
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

import osim.doctor as doctor

DOCTOR_SCRIPT = Path(doctor.__file__)
FAKE_GLIBCXX_MAX = 20  # GCC 4.9
FAKE_CXXABI_MAX = 8


def run_doctor(env_changes: dict[str, str], *args: str, as_module: bool = False) -> tuple[int, str]:
    """Run the doctor in a subprocess; LD_LIBRARY_PATH changes go in front of the current value."""
    env = dict(os.environ)
    for key, value in env_changes.items():
        env[key] = f"{value}:{env[key]}" if key == "LD_LIBRARY_PATH" and env.get(key) else value
    command = [sys.executable, "-m", "osim.doctor"] if as_module else [sys.executable, str(DOCTOR_SCRIPT)]
    completed = subprocess.run([*command, *args], capture_output=True, text=True, env=env, timeout=300)
    return completed.returncode, completed.stdout + completed.stderr


def expected_install_kind() -> str:
    """How the opensim of this interpreter was installed, from the environment's own records."""
    if list(Path(sys.prefix, "conda-meta").glob("opensim-*.json")):
        return "conda"
    try:
        metadata.distribution("opensim")
    except metadata.PackageNotFoundError:
        return "system"  # e.g. the native build of ci/build-opensim-from-source.sh on PYTHONPATH
    return "pip"


def rpath_libstdcxx() -> Path | None:
    """The libstdc++.so.6 that opensim's bindings find through their own DT_RPATH (binutils' view), if any.

    DT_RPATH (unlike DT_RUNPATH) is searched before LD_LIBRARY_PATH: such a libstdc++ wins over one
    put on LD_LIBRARY_PATH. None for the pip wheel, whose RPATH ($ORIGIN, opensim.libs) has none.
    """
    readelf = shutil.which("readelf")
    assert readelf, "binutils' readelf is needed to read the bindings' RPATH"
    spec = importlib.util.find_spec("opensim")
    assert spec and spec.origin, "opensim is not installed"
    for module in sorted(Path(spec.origin).parent.glob("_*.so")):
        dynamic = subprocess.run([readelf, "-d", "-W", str(module)], capture_output=True, text=True, check=True).stdout
        rpath = re.search(r"\(RPATH\)\s+Library rpath: \[(.*)\]", dynamic)
        for entry in rpath.group(1).split(":") if rpath else []:
            candidate = Path(entry.replace("$ORIGIN", str(module.parent))) / "libstdc++.so.6"
            if candidate.exists():
                return candidate
    return None


def put_first(library: Path) -> tuple[dict[str, str], str]:
    """Environment changes that make opensim load ``library`` as its libstdc++, and the doctor's name for them.

    LD_LIBRARY_PATH where the bindings' RPATH holds no libstdc++ (the pip wheel), LD_PRELOAD where it
    does (a conda package: LD_LIBRARY_PATH comes after DT_RPATH).
    """
    if rpath_libstdcxx() is None:
        return {"LD_LIBRARY_PATH": str(library.parent)}, "ld_library_path"
    return {"LD_PRELOAD": str(library)}, "preload"


def check_rpath_wins(report: dict, planted: Path, shield: Path) -> None:
    """An older libstdc++ on LD_LIBRARY_PATH, a conda package's DT_RPATH ahead of it: OpenSim imports."""
    assert report["broken"] is False and report["opensim"]["import_ok"] is True, report
    assert os.path.realpath(report["libstdcxx"]["loaded"]) == os.path.realpath(shield), report["libstdcxx"]
    assert report["libstdcxx"]["loaded"] != str(planted) and report["libstdcxx"]["missing"] == []
    # ... and the planted library would have broken it: OpenSim needs more than it defines.
    needed = doctor.newest(report["libstdcxx"]["required_newest"], "GLIBCXX")
    assert needed and doctor.version_key(needed) > doctor.version_key(f"GLIBCXX_3.4.{FAKE_GLIBCXX_MAX}")


def version_script(glibcxx_max: int, cxxabi_max: int) -> str:
    """A linker version script defining the version nodes of a libstdc++ up to the given ones."""
    lines = ["GLIBCXX_3.4 { global: osim_fake_libstdcxx; local: *; };"]
    lines += [f"GLIBCXX_3.4.{n} {{ }} GLIBCXX_3.4{'.' + str(n - 1) if n > 1 else ''};"
              for n in range(1, glibcxx_max + 1)]
    lines.append("CXXABI_1.3 { };")
    lines += [f"CXXABI_1.3.{n} {{ }} CXXABI_1.3{'.' + str(n - 1) if n > 1 else ''};" for n in range(1, cxxabi_max + 1)]
    return "\n".join(lines) + "\n"


def build_fake_libstdcxx(directory: Path, glibcxx_max: int, cxxabi_max: int) -> Path:
    """``<directory>/libstdc++.so.6``: the right soname and version nodes, none of the real symbols."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    assert compiler, "the GLIBCXX fixture needs a C compiler (cc or gcc) on PATH"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "fake.c").write_text("int osim_fake_libstdcxx = 1;\n")
    (directory / "fake.map").write_text(version_script(glibcxx_max, cxxabi_max))
    library = directory / "libstdc++.so.6"
    subprocess.run([compiler, "-shared", "-fPIC", "-o", str(library), str(directory / "fake.c"),
                    "-Wl,-soname,libstdc++.so.6", f"-Wl,--version-script={directory / 'fake.map'}"], check=True)
    return library


@pytest.fixture(scope="module")
def fake_libstdcxx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An old ("GCC 4.9") libstdc++."""
    return build_fake_libstdcxx(tmp_path_factory.mktemp("old-libstdcxx"), FAKE_GLIBCXX_MAX, FAKE_CXXABI_MAX)


def test_elf_reader_agrees_with_readelf(fake_libstdcxx: Path) -> None:
    """The version definitions parsed by osim.doctor equal binutils' view of the same file."""
    readelf = shutil.which("readelf")
    assert readelf, "binutils' readelf is needed to cross-check the ELF reader"
    for library in (fake_libstdcxx, Path(os.path.realpath(_loaded_system_libstdcxx()))):
        output = subprocess.run([readelf, "-V", "-W", str(library)], capture_output=True, text=True, check=True).stdout
        definitions = output.split("Version definition section", 1)[1].split("Version needs section", 1)[0]
        expected = set(re.findall(r"Name: (\S+)", definitions)) - {library.name, "libstdc++.so.6"}
        info = doctor.read_elf(library)
        assert info is not None
        assert set(info.defined_versions) - {"libstdc++.so.6"} == expected
    fake = doctor.read_elf(fake_libstdcxx)
    assert fake is not None and fake.soname == "libstdc++.so.6"
    assert doctor.newest(fake.defined_versions, "GLIBCXX") == f"GLIBCXX_3.4.{FAKE_GLIBCXX_MAX}"


def _loaded_system_libstdcxx() -> str:
    probe = doctor.probe_import()
    assert probe.get("libstdcxx"), probe
    return probe["libstdcxx"]


def test_healthy_install_is_ok() -> None:
    code, output = run_doctor({}, "--json", as_module=True)
    report = json.loads(output)
    assert code == 0, output
    assert report["broken"] is False and report["opensim"]["import_ok"] is True
    assert report["install_kind"] == expected_install_kind()
    assert report["libstdcxx"]["missing"] == []
    assert report["libstdcxx"]["required_newest"], "no GLIBCXX requirement found in opensim's libraries"


def check_glibcxx_report(report: dict, library: Path, origin: str) -> dict:
    """What every broken-runtime report must contain; returns the GLIBCXX problem."""
    assert report["broken"] is True
    assert report["opensim"]["import_ok"] is False
    assert report["libstdcxx"]["loaded"] == str(library)
    assert report["libstdcxx"]["origin"] == origin
    missing = report["libstdcxx"]["missing"]
    # The real loader's complaint names a version the ELF analysis also found missing.
    loader_says = re.findall(r"version `((?:GLIBCXX|CXXABI)_[\d.]+)' not found", report["opensim"]["error"])
    assert loader_says and set(loader_says) <= set(missing), (loader_says, missing)
    assert f"GLIBCXX_3.4.{FAKE_GLIBCXX_MAX + 1}" in missing
    newest_provided = doctor.version_key(f"GLIBCXX_3.4.{FAKE_GLIBCXX_MAX}")
    assert all(doctor.version_key(v) > newest_provided for v in missing if v.startswith("GLIBCXX"))
    (problem,) = [p for p in report["problems"] if "libstdc++" in p["title"]]
    assert set(problem["fixes"]) == {"conda", "pip", "system"}
    needed_gcc = doctor.GCC_FOR_GLIBCXX[doctor.version_key(doctor.newest(missing, "GLIBCXX"))[1][-1]]
    assert f"libstdcxx>={needed_gcc.split('.')[0]}" in problem["fixes"]["conda"]
    assert "conda-forge" in problem["fixes"]["conda"]
    assert "manylinux" in problem["fixes"]["pip"]
    assert "rebuild" in problem["fixes"]["system"]
    return problem


def test_old_libstdcxx_on_ld_library_path(fake_libstdcxx: Path) -> None:
    code, output = run_doctor({"LD_LIBRARY_PATH": str(fake_libstdcxx.parent)}, "--json")
    shield = rpath_libstdcxx()
    if shield is not None:  # a conda package: its RPATH's libstdc++ comes first
        assert code == 0, output
        check_rpath_wins(json.loads(output), fake_libstdcxx, shield)
        return
    assert code == 1, output
    problem = check_glibcxx_report(json.loads(output), fake_libstdcxx, "ld_library_path")
    assert "remove it from LD_LIBRARY_PATH" in problem["fixes"]["pip"]
    assert str(fake_libstdcxx.parent) in problem["fixes"]["pip"]


def test_old_libstdcxx_preloaded(fake_libstdcxx: Path) -> None:
    code, output = run_doctor({"LD_PRELOAD": str(fake_libstdcxx)}, "--json")
    assert code == 1, output
    problem = check_glibcxx_report(json.loads(output), fake_libstdcxx, "preload")
    assert "unset LD_PRELOAD" in problem["fixes"]["pip"]


def test_old_libstdcxx_in_a_conda_environment(fake_libstdcxx: Path, tmp_path: Path) -> None:
    """An old conda environment: its lib/ holds the old runtime (2017's failure)."""
    environment = tmp_path / "old-env"
    (environment / "conda-meta").mkdir(parents=True)
    (environment / "lib").mkdir()
    shutil.copy2(fake_libstdcxx, environment / "lib" / "libstdc++.so.6")
    # conda's python finds env/lib through its RPATH; LD_LIBRARY_PATH stands in for that here.
    code, output = run_doctor({"CONDA_PREFIX": str(environment), "LD_LIBRARY_PATH": str(environment / "lib")}, "--json")
    shield = rpath_libstdcxx()
    if shield is not None:  # a conda package reaches its own environment's lib/ first, not the old one
        assert code == 0, output
        check_rpath_wins(json.loads(output), environment / "lib" / "libstdc++.so.6", shield)
        return
    assert code == 1, output
    check_glibcxx_report(json.loads(output), environment / "lib" / "libstdc++.so.6", "conda")


def test_text_report_marks_the_fix_for_this_installation(fake_libstdcxx: Path) -> None:
    code, output = run_doctor(put_first(fake_libstdcxx)[0])
    assert code == 1, output
    assert "RESULT: BROKEN" in output
    marked = [line for line in output.splitlines() if "<- this installation" in line]
    kind = expected_install_kind()
    assert marked and all(line.strip().startswith(f"fix ({kind})") for line in marked), output
    for kind in ("conda", "pip", "system"):
        assert f"fix ({kind})" in output


def test_missing_opensim_is_broken() -> None:
    """Without site-packages (python -S) opensim cannot be found: exit 1 with install commands."""
    completed = subprocess.run([sys.executable, "-S", str(DOCTOR_SCRIPT)], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert "opensim is not installed" in completed.stdout
    assert "pip install opensim" in completed.stdout


def test_registered_as_osim_subcommand() -> None:
    from osim.cli import build_parser

    args = build_parser().parse_args(["doctor", "--json"])
    assert args.func is doctor.run and args.json is True


def test_libstdcxx_with_every_version_but_not_the_symbols(tmp_path: Path) -> None:
    """The 2017 message family: version nodes present, the versioned symbol absent."""
    library = build_fake_libstdcxx(tmp_path / "foreign", 33, 15)
    planting, origin = put_first(library)
    code, output = run_doctor(planting, "--json")
    assert code == 1, output
    report = json.loads(output)
    assert report["libstdcxx"]["loaded"] == str(library) and report["libstdcxx"]["missing"] == []
    assert report["libstdcxx"]["origin"] == origin
    unresolved = report["libstdcxx"]["unresolved_symbol"]
    symbol, version = unresolved.split("@")
    assert symbol in report["opensim"]["error"] and version in report["opensim"]["error"]
    (problem,) = [p for p in report["problems"] if "lacks C++ runtime symbols" in p["title"]]
    assert set(problem["fixes"]) == {"conda", "pip", "system"}
    remedy = {"ld_library_path": "remove it from LD_LIBRARY_PATH", "preload": "unset LD_PRELOAD"}[origin]
    assert remedy in problem["fixes"]["pip"]


def test_missing_shared_library_is_reported(tmp_path: Path) -> None:
    """A library whose dependency was removed after linking: the doctor names it and who needs it."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    assert compiler, "this test needs a C compiler (cc or gcc) on PATH"
    (tmp_path / "dep.c").write_text("int osim_dep(void) { return 1; }\n")
    (tmp_path / "user.c").write_text("int osim_dep(void);\nint osim_user(void) { return osim_dep(); }\n")
    subprocess.run([compiler, "-shared", "-fPIC", "-o", str(tmp_path / "libosimgone.so"), str(tmp_path / "dep.c"),
                    "-Wl,-soname,libosimgone.so.7"], check=True)
    subprocess.run([compiler, "-shared", "-fPIC", "-o", str(tmp_path / "libuser.so"), str(tmp_path / "user.c"),
                    f"-L{tmp_path}", "-losimgone"], check=True)
    (tmp_path / "libosimgone.so").unlink()
    info = doctor.read_elf(tmp_path / "libuser.so")
    assert info is not None and "libosimgone.so.7" in info.needed
    report = doctor.Report(python=doctor.python_facts(), install_kind="pip", opensim={})
    doctor.check_missing_libraries(report, [info])
    assert report.missing_libraries == [{"library": "libosimgone.so.7", "needed_by": str(tmp_path / "libuser.so")}]
    assert report.broken and "libosimgone.so.7 not found" in report.problems[0].title

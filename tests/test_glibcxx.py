"""The GLIBCXX trap on a real package: the simbody that ``ci/conda_build.py`` built with GCC 12.

In 2017 ``import opensim`` failed with ``version `GLIBCXX_3.4.21' not found`` when a conda
environment held a libstdc++ older than the compiler that built OpenSim. Here the same happens
for real: the scaffold channel (``ci/conda_scaffold.py``) has, besides the machine's GCC 12
runtime, an older ``libstdcxx`` repackaged from Debian 11's libstdc++6 (GCC 10, up to
GLIBCXX_3.4.28). The tests show

* that the recipes' run_exports (``compiler("cxx")`` -> ``libstdcxx >=12``) make the solver
  refuse an environment with simbody and that runtime, and pick the new one on its own;
* that an environment put together past the solver (records installed as given, the way a
  hand-copied library or a ``--no-deps`` install ends up) cannot load the built
  ``libSimTKsimbody.so``, with the loader's 2017 message, while the solved one can;
* that ``osim doctor --library`` on that real failing load names the libstdc++ the loader used,
  the GLIBCXX versions it lacks, and the conda fix.

They need the simbody package and the scaffold channel that ``bash ci/check-recipes.sh``
(``python ci/conda_build.py --recipes simbody``) makes, and fail, not skip, without them.
"""
from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from ci_modules import REPO, load_ci_module

conda_build = load_ci_module("conda_build")
conda_scaffold = load_ci_module("conda_scaffold")

WORK = conda_build.CACHE / "conda-build"
HOW = "run `python ci/conda_build.py --recipes simbody` (part of `bash ci/check-recipes.sh`) first"
LOADER_ERROR = re.compile(r"(/\S*libstdc\+\+\.so\.6): version `(GLIBCXX_3\.4\.\d+)' not found \(required by (\S+)\)")


@pytest.fixture(scope="module")
def machine() -> object:
    return conda_scaffold.detect_machine()


@pytest.fixture(scope="module")
def scaffold(machine: object) -> Path:
    """The scaffold channel of this checkout's ci/conda_scaffold.py (the one the build used)."""
    ccache_dir = conda_build.CACHE / "ccache" if machine.ccache else None  # type: ignore[attr-defined]
    channel = conda_build.CACHE / "conda-scaffold" / f"scaffold-{conda_scaffold.scaffold_key(machine, ccache_dir)}"
    assert (channel / "done").is_file(), f"no scaffold channel {channel}: {HOW}"
    return channel


@pytest.fixture(scope="module")
def simbody_package() -> Path:
    found = sorted((WORK / "channel" / "linux-64").glob("simbody-*.conda"))
    assert len(found) == 1, f"expected one simbody package in {WORK / 'channel'}, found {found}: {HOW}"
    return found[0]


@pytest.fixture(scope="module")
def sources(scaffold: Path, simbody_package: Path) -> list[str]:
    return [(WORK / "channel").as_uri(), scaffold.as_uri()]


def solve(sources: list[str], specs: list[str]) -> list:
    import rattler

    return asyncio.run(rattler.solve(sources=sources, specs=specs, virtual_packages=rattler.VirtualPackage.detect()))


def by_name(records: list) -> dict[str, object]:
    return {record.name.normalized: record for record in records}


@pytest.fixture(scope="module")
def old_runtime(sources: list[str], machine: object) -> object:
    """The scaffold's older libstdcxx record (Debian 11's GCC 10 runtime)."""
    record = by_name(solve(sources, [f"libstdcxx * {conda_scaffold.OLD_RUNTIME_BUILD}"]))["libstdcxx"]
    major = int(str(record.version).split(".")[0])  # type: ignore[attr-defined]
    assert major < int(machine.gcc_major), f"the old runtime {record} is not older than GCC {machine.gcc_major}"  # type: ignore[attr-defined]
    return record


def install(records: list, prefix: Path) -> Path:
    import rattler

    asyncio.run(rattler.install(records, target_prefix=prefix, show_progress=False,
                                cache_dir=prefix.parent / "rattler-cache"))
    return prefix


def test_simbody_requires_the_runtime_of_its_compiler(simbody_package: Path, machine: object) -> None:
    from rattler.package import IndexJson

    depends = [str(d) for d in IndexJson.from_package_archive(simbody_package).depends]
    assert f"libstdcxx >={machine.gcc_major}" in depends, depends  # type: ignore[attr-defined]


def test_solver_refuses_simbody_with_an_older_libstdcxx(sources: list[str], old_runtime: object) -> None:
    import rattler.exceptions

    with pytest.raises(rattler.exceptions.SolverError, match="libstdcxx"):
        solve(sources, ["simbody", "python", f"libstdcxx =={old_runtime.version}"])  # type: ignore[attr-defined]


def test_solver_picks_the_new_runtime_when_both_are_there(sources: list[str], machine: object,
                                                           old_runtime: object) -> None:
    chosen = by_name(solve(sources, ["simbody", "python"]))["libstdcxx"]
    assert str(chosen.version).split(".")[0] == machine.gcc_major, chosen  # type: ignore[attr-defined]
    assert chosen.build != old_runtime.build  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def environments(sources: list[str], old_runtime: object, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """'solved': simbody + python as the solver makes it; 'trap': the same with the old libstdcxx forced in."""
    records = solve(sources, ["simbody", "python"])
    root = tmp_path_factory.mktemp("glibcxx")
    trapped = [r for r in records if r.name.normalized != "libstdcxx"] + [old_runtime]
    return {"solved": install(records, root / "solved"), "trap": install(trapped, root / "trap")}


def load(prefix: Path, library: Path) -> subprocess.CompletedProcess[str]:
    """dlopen ``library`` in the environment's own interpreter (no site, no inherited LD_* variables)."""
    env = {"PATH": f"{prefix / 'bin'}:/usr/bin:/bin", "HOME": str(prefix), "LANG": "C.UTF-8"}
    return subprocess.run([str(prefix / "bin" / "python"), "-I", "-c", "import ctypes, sys; ctypes.CDLL(sys.argv[1])",
                           str(library)], capture_output=True, text=True, env=env, timeout=120)


def test_the_built_simbody_loads_in_the_solved_environment(environments: dict[str, Path]) -> None:
    prefix = environments["solved"]
    result = load(prefix, prefix / "lib" / "libSimTKsimbody.so")
    assert result.returncode == 0, result.stderr


def test_the_built_simbody_fails_to_load_with_the_older_libstdcxx(environments: dict[str, Path],
                                                                   old_runtime: object) -> None:
    prefix = environments["trap"]
    result = load(prefix, prefix / "lib" / "libSimTKsimbody.so")
    assert result.returncode != 0, "libSimTKsimbody.so loaded against the old libstdc++"
    error = LOADER_ERROR.search(result.stderr)
    assert error, result.stderr
    assert Path(error.group(1)).resolve().parent == (prefix / "lib").resolve(), error.group(0)
    assert int(error.group(2).rsplit(".", 1)[1]) > 28, error.group(0)  # newer than GCC 10's GLIBCXX_3.4.28
    assert Path(error.group(3)).name.startswith("libSimTK"), error.group(0)


def run_doctor(prefix: Path) -> tuple[int, dict]:
    """``osim doctor --library`` (stdlib only: osim/doctor.py) in the environment's interpreter."""
    env = {"PATH": f"{prefix / 'bin'}:/usr/bin:/bin", "HOME": str(prefix), "LANG": "C.UTF-8",
           "CONDA_PREFIX": str(prefix)}
    completed = subprocess.run([str(prefix / "bin" / "python"), "-I", str(REPO / "osim" / "doctor.py"), "--json",
                                "--library", str(prefix / "lib" / "libSimTKsimbody.so")],
                               capture_output=True, text=True, env=env, timeout=300)
    assert completed.stdout.strip().startswith("{"), completed.stdout + completed.stderr
    return completed.returncode, json.loads(completed.stdout)


def test_doctor_names_the_cause_and_the_fix_of_the_real_failing_load(environments: dict[str, Path],
                                                                      machine: object) -> None:
    prefix = environments["trap"]
    code, report = run_doctor(prefix)
    assert code == 1 and report["broken"]
    assert report["install_kind"] == "conda"
    assert not report["opensim"]["import_ok"] and LOADER_ERROR.search(report["opensim"]["error"])
    stdcxx = report["libstdcxx"]
    assert stdcxx["named_by_loader"] and stdcxx["origin"] == "conda"
    assert Path(stdcxx["loaded"]).resolve().parent == (prefix / "lib").resolve()
    assert stdcxx["provides_newest"][0] == "GLIBCXX_3.4.28"
    assert f"GLIBCXX_3.4.{max(int(v.rsplit('.', 1)[1]) for v in stdcxx['missing'])}" == stdcxx["required_newest"][0]
    (problem,) = [p for p in report["problems"] if p["fatal"]]
    assert "older than libSimTKsimbody.so" in problem["title"], problem
    assert f"libstdcxx>={machine.gcc_major}" in problem["fixes"]["conda"], problem  # type: ignore[attr-defined]


def test_doctor_finds_nothing_wrong_in_the_solved_environment(environments: dict[str, Path]) -> None:
    code, report = run_doctor(environments["solved"])
    assert code == 0 and not report["problems"], report["problems"]
    assert report["opensim"]["import_ok"] and not report["libstdcxx"]["missing"]


def test_doctor_refuses_a_library_path_that_is_not_a_file(tmp_path: Path) -> None:
    completed = subprocess.run([sys.executable, str(REPO / "osim" / "doctor.py"),
                                "--library", str(tmp_path / "missing.so")], capture_output=True, text=True)
    assert completed.returncode != 0 and "expected a shared library file" in completed.stderr

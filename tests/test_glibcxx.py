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

import subprocess
import sys
from pathlib import Path

import pytest
from ci_modules import REPO, load_ci_module

conda_build = load_ci_module("conda_build")
conda_scaffold = load_ci_module("conda_scaffold")
trap = load_ci_module("glibcxx_trap")

WORK = conda_build.CACHE / "conda-build"
HOW = "run `python ci/conda_build.py --recipes simbody` (part of `bash ci/check-recipes.sh`) first"


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


@pytest.fixture(scope="module")
def old_runtime(sources: list[str], machine: object) -> object:
    """The scaffold's older libstdcxx record (Debian 11's GCC 10 runtime)."""
    return trap.old_runtime(sources, machine.gcc_major)  # type: ignore[attr-defined]


def test_simbody_requires_the_runtime_of_its_compiler(simbody_package: Path, machine: object) -> None:
    from rattler.package import IndexJson

    depends = [str(d) for d in IndexJson.from_package_archive(simbody_package).depends]
    assert f"libstdcxx >={machine.gcc_major}" in depends, depends  # type: ignore[attr-defined]


def test_solver_refuses_simbody_with_an_older_libstdcxx(sources: list[str], old_runtime: object) -> None:
    import rattler.exceptions

    with pytest.raises(rattler.exceptions.SolverError, match="libstdcxx"):
        trap.solve(sources, ["simbody", "python", f"libstdcxx =={old_runtime.version}"])  # type: ignore[attr-defined]


def test_solver_picks_the_new_runtime_when_both_are_there(sources: list[str], machine: object,
                                                           old_runtime: object) -> None:
    chosen = trap.by_name(trap.solve(sources, ["simbody", "python"]))["libstdcxx"]
    assert str(chosen.version).split(".")[0] == machine.gcc_major, chosen  # type: ignore[attr-defined]
    assert chosen.build != old_runtime.build  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def environments(sources: list[str], old_runtime: object, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """'solved': simbody + python as the solver makes it; 'trap': the same with the old libstdcxx forced in."""
    records = trap.solve(sources, ["simbody", "python"])
    root = tmp_path_factory.mktemp("glibcxx")
    return {"solved": trap.install(records, root / "solved"),
            "trap": trap.install(trap.with_runtime(records, old_runtime), root / "trap")}


def test_the_built_simbody_loads_in_the_solved_environment(environments: dict[str, Path]) -> None:
    prefix = environments["solved"]
    result = trap.load(prefix, prefix / "lib" / "libSimTKsimbody.so")
    assert result.returncode == 0, result.stderr


def test_the_built_simbody_fails_to_load_with_the_older_libstdcxx(environments: dict[str, Path]) -> None:
    prefix = environments["trap"]
    result = trap.load(prefix, prefix / "lib" / "libSimTKsimbody.so")
    assert result.returncode != 0, "libSimTKsimbody.so loaded against the old libstdc++"
    assert not trap.loader_error_problems(result.stderr, prefix, ("libSimTK",)), result.stderr


def run_doctor(prefix: Path) -> tuple[int, dict]:
    """``osim doctor --library`` (stdlib only: osim/doctor.py) in the environment's interpreter."""
    return trap.run_doctor(prefix, [str(prefix / "bin" / "python"), "-I", str(REPO / "osim" / "doctor.py"),
                                    "--library", str(prefix / "lib" / "libSimTKsimbody.so")])


def test_doctor_names_the_cause_and_the_fix_of_the_real_failing_load(environments: dict[str, Path],
                                                                      machine: object) -> None:
    prefix = environments["trap"]
    code, report = run_doctor(prefix)
    problems = trap.doctor_problems(code, report, prefix, "libSimTKsimbody.so", machine.gcc_major)  # type: ignore[attr-defined]
    assert not problems, problems


def test_doctor_finds_nothing_wrong_in_the_solved_environment(environments: dict[str, Path]) -> None:
    code, report = run_doctor(environments["solved"])
    assert code == 0 and not report["problems"], report["problems"]
    assert report["opensim"]["import_ok"] and not report["libstdcxx"]["missing"]


def test_doctor_refuses_a_library_path_that_is_not_a_file(tmp_path: Path) -> None:
    completed = subprocess.run([sys.executable, str(REPO / "osim" / "doctor.py"),
                                "--library", str(tmp_path / "missing.so")], capture_output=True, text=True)
    assert completed.returncode != 0 and "expected a shared library file" in completed.stderr

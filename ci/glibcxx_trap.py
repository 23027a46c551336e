"""The GLIBCXX trap on a real package: what ``tests/test_glibcxx.py`` and ``ci/conda_build.py --suite`` share.

In 2017 ``import opensim`` failed with ``version `GLIBCXX_3.4.21' not found`` when a conda
environment held a libstdc++ older than the compiler that built OpenSim. The scaffold channel
(``ci/conda_scaffold.py``) has, besides the machine's GCC runtime, an older ``libstdcxx``
(Debian 11's GCC 10 runtime, up to GLIBCXX_3.4.28): the helpers here solve environments from
the local channels with py-rattler, install them as solved or with that runtime swapped in
(what a ``--no-deps`` install or a hand-copied library gives), load a library in them and run
the doctor there. ``tests/test_glibcxx.py`` shows the trap on the simbody package that
``.ci/run`` builds; :func:`opensim_trap` shows it on ``import opensim`` of the source-built
opensim package, for the suite's report.
"""
from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conda_scaffold import OLD_RUNTIME_BUILD

#: The loader's message when a libstdc++ lacks a version node a library needs.
LOADER_ERROR = re.compile(r"(/\S*libstdc\+\+\.so\.6): version `(GLIBCXX_3\.4\.\d+)' not found \(required by (\S+)\)")
#: The newest GLIBCXX_3.4.N of the old runtime (GCC 10).
OLD_RUNTIME_GLIBCXX = 28


def solve(sources: list[str], specs: list[str]) -> list[Any]:
    """py-rattler's solution of ``specs`` from the channel URLs ``sources`` only (raises SolverError)."""
    import rattler

    return asyncio.run(rattler.solve(sources=sources, specs=specs, virtual_packages=rattler.VirtualPackage.detect()))


def by_name(records: list[Any]) -> dict[str, Any]:
    """Solved records by package name."""
    return {record.name.normalized: record for record in records}


def old_runtime(sources: list[str], gcc_major: str) -> Any:
    """The scaffold's older libstdcxx record; it must be older than the compiler that built the packages."""
    record = by_name(solve(sources, [f"libstdcxx * {OLD_RUNTIME_BUILD}"]))["libstdcxx"]
    if int(str(record.version).split(".")[0]) >= int(gcc_major):
        raise AssertionError(f"the old runtime {record} is not older than GCC {gcc_major}")
    return record


def with_runtime(records: list[Any], runtime: Any) -> list[Any]:
    """``records`` with their libstdcxx replaced by ``runtime``, past the solver."""
    return [r for r in records if r.name.normalized != "libstdcxx"] + [runtime]


def install(records: list[Any], prefix: Path) -> Path:
    """Install ``records`` as given into ``prefix`` (a package cache beside it); the prefix."""
    import rattler

    asyncio.run(rattler.install(records, target_prefix=prefix, show_progress=False,
                                cache_dir=prefix.parent / "rattler-cache"))
    return prefix


def environment_variables(prefix: Path) -> dict[str, str]:
    """A clean environment for the prefix's programs: its bin first, no inherited LD_* variables."""
    return {"PATH": f"{prefix / 'bin'}:/usr/bin:/bin", "HOME": str(prefix), "LANG": "C.UTF-8",
            "CONDA_PREFIX": str(prefix)}


def run_python(prefix: Path, code: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``code`` in the environment's own interpreter, isolated (no user site, no PYTHON* variables)."""
    return subprocess.run([str(prefix / "bin" / "python"), "-I", "-c", code, *args], capture_output=True, text=True,
                          env=environment_variables(prefix), timeout=300)


def load(prefix: Path, library: Path) -> subprocess.CompletedProcess[str]:
    """dlopen ``library`` in the environment's own interpreter."""
    return run_python(prefix, "import ctypes, sys; ctypes.CDLL(sys.argv[1])", str(library))


def run_doctor(prefix: Path, command: list[str]) -> tuple[int, dict[str, Any]]:
    """The doctor ``command`` (``--json`` is added) run in the environment; its exit code and report."""
    completed = subprocess.run([*command, "--json"], capture_output=True, text=True,
                               env=environment_variables(prefix), timeout=300)
    if not completed.stdout.strip().startswith("{"):
        raise AssertionError(f"the doctor printed no JSON report:\n{completed.stdout}{completed.stderr}")
    return completed.returncode, json.loads(completed.stdout)


def loader_error_problems(stderr: str, prefix: Path, library_prefix: tuple[str, ...]) -> list[str]:
    """What is wrong with a failed load's message for the trap (empty: it is the 2017 error, from the env's runtime)."""
    error = LOADER_ERROR.search(stderr)
    if not error:
        return [f"no 'GLIBCXX_3.4.N not found' error: {stderr.strip()[-500:]}"]
    problems = []
    if Path(error.group(1)).resolve().parent != (prefix / "lib").resolve():
        problems.append(f"the libstdc++ that failed is not the environment's: {error.group(1)}")
    if int(error.group(2).rsplit(".", 1)[1]) <= OLD_RUNTIME_GLIBCXX:
        problems.append(f"{error.group(2)} is not newer than the old runtime's GLIBCXX_3.4.{OLD_RUNTIME_GLIBCXX}")
    if not Path(error.group(3)).name.startswith(library_prefix):
        problems.append(f"the library that needs it is not one of {library_prefix}: {error.group(3)}")
    return problems


def doctor_problems(code: int, report: dict[str, Any], prefix: Path, subject: str, gcc_major: str) -> list[str]:
    """What the doctor's report on a trapped environment misses (empty: cause and fix named)."""
    problems = []
    stdcxx = report.get("libstdcxx", {})
    if code != 1 or not report.get("broken"):
        problems.append(f"exit code {code}, broken={report.get('broken')}: expected 1 and True")
    if report.get("install_kind") != "conda":
        problems.append(f"install kind {report.get('install_kind')!r}, expected 'conda'")
    loaded = report.get("opensim", {})
    if loaded.get("import_ok") or not LOADER_ERROR.search(loaded.get("error") or ""):
        problems.append(f"no failed load with the loader's GLIBCXX error: {loaded}")
    if not stdcxx.get("named_by_loader") or stdcxx.get("origin") != "conda":
        problems.append(f"the libstdc++ is not the loader's, from the conda environment: {stdcxx}")
    elif Path(stdcxx["loaded"]).resolve().parent != (prefix / "lib").resolve():
        problems.append(f"the libstdc++ named is not the environment's: {stdcxx['loaded']}")
    if stdcxx.get("provides_newest", [None])[0] != f"GLIBCXX_3.4.{OLD_RUNTIME_GLIBCXX}":
        problems.append(f"provides {stdcxx.get('provides_newest')}, expected GLIBCXX_3.4.{OLD_RUNTIME_GLIBCXX} first")
    missing = [int(v.rsplit(".", 1)[1]) for v in stdcxx.get("missing") or [] if v.startswith("GLIBCXX_3.4.")]
    if not missing or stdcxx.get("required_newest", [None])[0] != f"GLIBCXX_3.4.{max(missing)}":
        problems.append(f"missing {stdcxx.get('missing')} does not reach the newest required "
                        f"{stdcxx.get('required_newest')}")
    fatal = [p for p in report.get("problems", []) if p.get("fatal")]
    if len(fatal) != 1 or f"older than {subject}" not in fatal[0]["title"]:
        problems.append(f"expected one fatal problem 'older than {subject}', got {fatal}")
    elif f"libstdcxx>={gcc_major}" not in fatal[0]["fixes"]["conda"]:
        problems.append(f"the conda fix does not ask for libstdcxx>={gcc_major}: {fatal[0]['fixes']['conda']}")
    return problems


def opensim_trap(sources: list[str], root: Path, gcc_major: str) -> dict[str, Any]:
    """The trap on ``import opensim`` of the source-built package: each check's outcome and evidence.

    ``sources``: the channel URLs the suite's environment came from. Checks: the solver refuses
    ``opensim`` with the old libstdcxx; ``python opensim osim-rl`` solved, with that runtime swapped
    in, fails ``import opensim`` with the loader's GLIBCXX error on the environment's libstdc++;
    ``osim doctor`` there names the cause and the fix.
    """
    import rattler.exceptions

    old = old_runtime(sources, gcc_major)
    checks: dict[str, Any] = {"old_runtime": f"libstdcxx {old.version} {old.build}"}
    python = f"python {sys.version_info[0]}.{sys.version_info[1]}.*"
    try:
        solve(sources, [python, "opensim", f"libstdcxx =={old.version}"])
        checks["solver_refuses"] = {"ok": False, "evidence": "the solver accepted opensim with the old libstdcxx"}
    except rattler.exceptions.SolverError as error:
        message = " ".join(line.strip(" └─│") for line in str(error).splitlines())
        checks["solver_refuses"] = {"ok": "libstdcxx" in message, "evidence": message[:500]}
    records = solve(sources, [python, "opensim", "osim-rl"])
    prefix = install(with_runtime(records, old), root / "trap")
    imported = run_python(prefix, "import opensim")
    problems = (["import opensim worked"] if imported.returncode == 0 else
                loader_error_problems(imported.stderr, prefix, ("libosim", "libSimTK", "_")))
    error = LOADER_ERROR.search(imported.stderr)
    checks["import_fails"] = {"ok": not problems, "problems": problems,
                              "evidence": error.group(0) if error else imported.stderr.strip()[-300:]}
    code, report = run_doctor(prefix, [str(prefix / "bin" / "osim"), "doctor"])
    problems = doctor_problems(code, report, prefix, "OpenSim", gcc_major)
    fatal = [p for p in report.get("problems", []) if p.get("fatal")]
    checks["doctor"] = {"ok": not problems, "problems": problems,
                        "evidence": {"title": fatal[0]["title"] if fatal else None,
                                     "libstdcxx": report.get("libstdcxx", {}).get("loaded"),
                                     "fix": fatal[0]["fixes"]["conda"] if fatal else None}}
    checks["ok"] = all(checks[name]["ok"] for name in ("solver_refuses", "import_fails", "doctor"))
    return checks

"""``ci/conda_build.py --suite``: the osim test suite in an environment made from the built channel.

The channel holds what ``ci/conda_build.py`` built (simbody, opensim, osim-rl); the pure-Python
run and test dependencies of osim-rl (gymnasium, scipy, tqdm, pytest, ...) are linked in from
the seed channel of ``ci/local_channel.py`` (PyPI wheels converted with whl2conda), all but its
``opensim`` (the 4.6 wheel: the environment must get the OpenSim built here) and what the scaffold
already has. py-rattler then solves ``python opensim osim-rl pytest`` from that channel and the
scaffold channel only (both local directories), installs it, and runs in it:

1. ``python -c "import opensim; print(opensim.GetVersionAndDate())"`` and ``osim doctor``;
2. the osim test suite without the golden comparisons (the pass criterion; test files that need
   extras the environment lacks -- the grader, ray, MuJoCo, rendering -- are reported as
   collection errors, not hidden);
3. the golden comparisons (``-m golden_parity``) as a report: the goldens hold the 4.6 wheel's
   rounding (docs/building.md).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from local_channel import (
    CACHE,
    REPO,
    SEED_FORMAT,
    check_installed_sources,
    index,
    make_environment,
    python_tag,
    run,
    seed_channel,
    snapshot_sources,
    step,
)

#: Test files about the packaging itself, not about osim: they run in .ci/run, not in the environment.
PACKAGING_TESTS = ("test_recipes.py", "test_conda_build.py", "test_conda_channel.py", "test_glibcxx.py")
#: The pytest summary line: "12 failed, 300 passed, 4 skipped, 3 errors in 512.3s".
SUMMARY = re.compile(r"(\d+) (passed|failed|skipped|errors?|deselected|xfailed|xpassed)")


def package_name(package: Path) -> str:
    """numpy-2.4.6-py311_0.conda -> numpy."""
    return package.name.rsplit("-", 2)[0]


def link_seed_packages(channel: Path, scaffold: Path) -> list[str]:
    """Hard-link the seed channel's packages into ``channel``, less opensim and the scaffold's names."""
    seed = CACHE / f"channel-seed-{python_tag()[1]}-v{SEED_FORMAT}"
    seed_channel(seed)
    skip = {"opensim"} | {package_name(p) for p in scaffold.glob("*/*.conda")}
    linked = []
    for package in sorted(seed.glob("*/*.conda")):
        if package_name(package) in skip:
            continue
        target = channel / package.parent.name / package.name
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            os.link(package, target)
        linked.append(package.name)
    index(channel)
    return linked


def pytest_counts(output: str) -> dict[str, int]:
    """The counts of pytest's last summary line."""
    lines = [line for line in output.splitlines() if SUMMARY.search(line) and " in " in line]
    if not lines:
        return {}
    return {kind.rstrip("s") if kind.startswith("error") else kind: int(n) for n, kind in SUMMARY.findall(lines[-1])}


def run_suite(channel: Path, scaffold: Path, work: Path, tests: list[str] | None = None) -> dict[str, object]:
    """Environment from the local channels, then the checks of the module docstring; their results.

    ``tests``: test files (``tests/test_x.py``) to run instead of the whole suite.
    """
    results: dict[str, object] = {}
    prefix = work / "env-suite"
    shutil.rmtree(prefix, ignore_errors=True)
    with step("suite: environment python opensim osim-rl pytest from the local channels (py-rattler)"):
        t0 = time.monotonic()
        make_environment_from(channel, scaffold, prefix)
        results["environment_s"] = round(time.monotonic() - t0, 1)
    python = prefix / "bin" / "python"
    env = {"PATH": f"{prefix / 'bin'}:/usr/bin:/bin", "HOME": str(Path.home()), "LANG": "C.UTF-8",
           "OSIM_RL_REFERENCE": os.environ.get("OSIM_RL_REFERENCE", str(REPO.parent / "shared" / "reference"))}
    check_installed_sources(prefix, snapshot_sources())
    with tempfile.TemporaryDirectory(prefix="osim-conda-suite-") as scratch:
        show = "import opensim; print(opensim.GetVersionAndDate()); print(opensim.__file__)"
        version = run([str(python), "-c", show], env=env, cwd=scratch, capture_output=True)
        print(version.stdout, end="")
        results["opensim"] = version.stdout.strip().splitlines()
        doctor = subprocess.run([str(prefix / "bin" / "osim"), "doctor"], env=env, cwd=scratch, text=True,
                                capture_output=True)
        print(doctor.stdout)
        results["doctor"] = doctor.stdout.strip().splitlines()[-1] if doctor.stdout.strip() else doctor.stderr
        copied = Path(scratch) / "tests"
        shutil.copytree(REPO / "tests", copied, ignore=shutil.ignore_patterns("__pycache__", *PACKAGING_TESTS))
        targets = [str(copied / Path(t).relative_to("tests")) for t in tests] if tests else [str(copied)]
        base = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", scratch,
                "--continue-on-collection-errors", *targets]
        for name, marker in (("suite", "not golden_parity"), ("golden_parity", "golden_parity")):
            with step(f"suite: pytest -m '{marker}' inside the environment"):
                t0 = time.monotonic()
                completed = subprocess.run([*base, "-m", marker, "-rfE", "--tb=line"], env=env, cwd=scratch,
                                           text=True, capture_output=True)
                print(completed.stdout[-6000:], completed.stderr[-2000:], flush=True)
                results[name] = {"exit_code": completed.returncode, "counts": pytest_counts(completed.stdout),
                                 "seconds": round(time.monotonic() - t0, 1),
                                 "not_passed": [line for line in completed.stdout.splitlines()
                                                if line.startswith(("FAILED", "ERROR"))][:60]}
    return results


def make_environment_from(channel: Path, scaffold: Path, prefix: Path) -> None:
    """``python opensim osim-rl pytest`` solved from the built channel and the scaffold channel only."""
    merged = prefix.parent / "suite-channel"
    shutil.rmtree(merged, ignore_errors=True)
    for source in (channel, scaffold):
        for package in source.glob("*/*.conda"):
            target = merged / package.parent.name / package.name
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                os.link(package, target)
    index(merged)
    version = python_tag()[0]
    make_environment(merged, prefix, [f"python {version}.*", "opensim", "osim-rl", "pytest", "pytest-timeout"])

"""``ci/conda_build.py --suite``: the osim test suite in an environment made from the built channel.

The channel holds what ``ci/conda_build.py`` built (simbody, opensim, osim-rl); the pure-Python
run and test dependencies of osim-rl (gymnasium, scipy, tqdm, pytest, ...) are linked in from
the seed channel of ``ci/local_channel.py`` (PyPI wheels converted with whl2conda), all but its
``opensim`` (the 4.6 wheel: the environment must get the OpenSim built here) and what the scaffold
already has; the optional dependencies the tests drive (:data:`LEFT_OUT_EXTRAS` says which are
not, and why) are converted the same way into a channel of their own. py-rattler then solves
``python opensim osim-rl pytest`` and those extras from these local directories only, installs
it, and runs in it:

1. ``python -c "import opensim; print(opensim.GetVersionAndDate())"`` and ``osim doctor``;
2. the osim test suite without the golden comparisons (the pass criterion), on a copy of the
   checkout that is not on ``sys.path`` (the environment's package is the one tested:
   ``ci/conda_suite_plugin.py`` fails the run if the pytest process imported an ``osim`` module
   from elsewhere). Tests that cannot run there are deselected by name, each with its reason
   (:data:`DESELECTED`), printed and reported;
3. the golden comparisons (``-m golden_parity``) as a report: the goldens hold the 4.6 wheel's
   rounding (docs/building.md);
4. on a source-built opensim, the GLIBCXX trap (``ci/glibcxx_trap.py``).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from glibcxx_trap import opensim_trap
from local_channel import (
    CACHE,
    REPO,
    SEED_FORMAT,
    check_installed_sources,
    convert_wheel,
    download_wheels,
    index,
    make_environment,
    python_tag,
    run,
    seed_channel,
    snapshot_sources,
    step,
)

#: The test extra's lint tools: scripts/test.sh runs them before the tests, no test imports them.
LINT_TOOLS = ("ruff", "mypy")
#: Extras of osim-rl the suite's environment leaves out, and why (measured 2026-12-03).
LEFT_OUT_EXTRAS = {
    "train": "torch cannot be converted: whl2conda refuses the CPU wheel scripts/test.sh installs (torch "
             "2.13.0+cpu: a local version marks a variant build), and the plain PyPI torch is the CUDA build, "
             "555 MB plus 2.4 GB of nvidia-* and triton wheels; stable-baselines3 needs torch",
    "ray": "ray[default,rllib] with the CPU torch its workers import is 79 wheels, 418 MB (ray 79 MB, pyarrow "
           "55 MB, pandas, grpcio, ...), and torch is what the environment cannot get (train)",
}
#: Tests not run in the conda environment (node id prefixes, relative to the checkout), and why.
DESELECTED = {
    "tests/test_recipes.py": "packaging: renders the recipes with py-rattler-build; .ci/run runs it",
    "tests/test_conda_build.py": "packaging: builds with py-rattler-build; .ci/run runs it",
    "tests/test_conda_channel.py": "packaging: checks what ci/local_channel.py built; .ci/run runs it",
    "tests/test_glibcxx.py": "packaging: installs environments from the build channels with py-rattler; .ci/run "
                             "runs it, and --suite shows the same trap on the opensim package",
    "tests/test_ray.py": "needs ray and torch (extras 'ray' and 'train' left out)",
    "tests/test_walk_ppo.py": "needs stable-baselines3 and torch (extra 'train' left out)",
    **{f"tests/test_example.py::{name}": "examples/example.py imports torch (extra 'train' left out)"
       for name in ("test_train_save_reload_and_evaluate", "test_ddpg_is_set_up_as_in_the_original",
                    "test_submit_with_token_scores_like_a_local_replay",
                    "test_missing_model_and_unknown_env_say_what_was_expected",
                    "test_visualize_without_a_display_is_a_clear_error")},
    **{f"tests/test_walking.py::{name}": "trains a torch network (extra 'train' left out)"
       for name in ("test_exported_network_computes_what_torch_computes",
                    "test_dagger_fits_the_teacher_and_keeps_the_best_student", "test_the_fit_imitates_the_teacher",
                    "test_history_and_policy_files_of_the_command")},
}
#: The line of ci/conda_suite_plugin.py: which osim modules the pytest process imported, from where.
IMPORTS = "CONDA-SUITE-IMPORTS "
#: The programs the suite's tests drive besides the environment's (redis-server, initdb, runuser, ...).
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#: The pytest summary line: "12 failed, 300 passed, 4 skipped, 3 errors in 512.3s".
SUMMARY = re.compile(r"(\d+) (passed|failed|skipped|errors?|deselected|xfailed|xpassed)")


def package_name(package: Path) -> str:
    """numpy-2.4.6-py311_0.conda -> numpy."""
    return package.name.rsplit("-", 2)[0]


def canonical(name: str) -> str:
    """A PyPI project name as packaging normalises it: Pillow, imageio_ffmpeg -> pillow, imageio-ffmpeg."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    """'psycopg[binary]>=3.1' -> 'psycopg'."""
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    if not match:
        raise ValueError(f"not a requirement: {requirement!r}")
    return canonical(match.group(0))


def suite_extra_requirements() -> list[str]:
    """The test extra of pyproject.toml expanded, less :data:`LEFT_OUT_EXTRAS` and :data:`LINT_TOOLS`."""
    extras = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    found: dict[str, str] = {}

    def expand(extra: str) -> None:
        for requirement in extras[extra]:
            inner = re.fullmatch(r"osim-rl\[(.+)\]", requirement)
            if inner:
                for name in inner.group(1).split(","):
                    if name.strip() not in LEFT_OUT_EXTRAS:
                        expand(name.strip())
            elif requirement_name(requirement) not in LINT_TOOLS:
                found.setdefault(requirement_name(requirement), requirement)

    expand("test")
    return list(found.values())


def channel_pins(channels: list[Path]) -> dict[str, str]:
    """name -> newest version of every package in ``channels`` (the first channel's wins a tie of names)."""
    from packaging.version import InvalidVersion, Version

    pins: dict[str, str] = {}
    for channel in channels:
        found: dict[str, list[str]] = {}
        for package in channel.glob("*/*.conda"):
            name, version, _build = package.name.removesuffix(".conda").rsplit("-", 2)
            found.setdefault(canonical(name), []).append(version)
        for name, versions in found.items():
            try:
                pins.setdefault(name, max(versions, key=Version))
            except InvalidVersion:
                continue  # not a PyPI version (a scaffold package): nothing to pin
    pins.pop("python", None)
    return pins


def extras_channel(scaffold: Path, seed: Path) -> Path:
    """The suite's extras converted from PyPI wheels into a cached channel, once.

    pip resolves them with every package the scaffold and the seed already have pinned to that
    version, so the environment gets one version of each; those wheels are not converted again.
    """
    _version, abi = python_tag()
    state = CACHE / f"suite-extras-{abi}-v{SEED_FORMAT}"
    channel = CACHE / f"channel-suite-extras-{abi}-v{SEED_FORMAT}"
    state.mkdir(parents=True, exist_ok=True)
    pins = channel_pins([scaffold, seed])
    constraints = state / "constraints.txt"
    constraints.write_text("".join(f"{name}=={version}\n" for name, version in sorted(pins.items())),
                           encoding="utf-8")
    with step("suite: the extras the tests drive, from PyPI wheels converted with whl2conda"):
        wheels = download_wheels(state / "wheels", [*suite_extra_requirements(), "-c", str(constraints)])
        names = sorted({canonical(wheel.name.split("-", 1)[0]) for wheel in wheels} | set(pins))
        for wheel in wheels:
            if canonical(wheel.name.split("-", 1)[0]) not in pins:
                convert_wheel(wheel, channel, state / "converted", names)
    index(channel)
    return channel


def seed_path() -> Path:
    """The seed channel of ``ci/local_channel.py``, made (or updated) first."""
    seed = CACHE / f"channel-seed-{python_tag()[1]}-v{SEED_FORMAT}"
    seed_channel(seed)
    return seed


def link_packages(sources: list[Path], channel: Path, skip: set[str]) -> list[str]:
    """Hard-link the packages of ``sources`` into ``channel`` but those named in ``skip``; their file names."""
    linked = []
    for package in sorted(p for source in sources for p in source.glob("*/*.conda")):
        if package_name(package) in skip:
            continue
        target = channel / package.parent.name / package.name
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            os.link(package, target)
        linked.append(package.name)
    index(channel)
    return linked


def link_seed_packages(channel: Path, scaffold: Path) -> list[str]:
    """Hard-link the seed channel's packages into ``channel``, less opensim and the scaffold's names."""
    skip = {"opensim"} | {package_name(p) for p in scaffold.glob("*/*.conda")}
    return link_packages([seed_path()], channel, skip)


def stage_checkout(dest: Path) -> Path:
    """A copy of the checkout's files (tracked and untracked, not ignored) at ``dest``: what tests read.

    Tests read the repository around ``tests/`` (``osim/``, ``pyproject.toml``, the wheel's
    sources); the copy gives them that without the checkout, whose ``osim`` must not be imported.
    """
    listed = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():  # a tracked file deleted in the worktree is not copied
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


def importable_tree(checkout: Path, prefix: Path, dest: Path) -> Path:
    """A directory of links to the checkout's top-level directories but those the environment installs.

    The suite imports the repository's script folders as namespace packages (``from benchmarks
    import ...``), which running from the checkout puts on ``sys.path``; with this directory on
    ``PYTHONPATH`` they import, while ``osim`` and ``envs`` come from the environment.
    """
    site = next((prefix / "lib").glob("python3*/site-packages"))
    dest.mkdir(parents=True, exist_ok=True)
    for folder in sorted(p for p in checkout.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if not (site / folder.name).exists():
            (dest / folder.name).symlink_to(folder, target_is_directory=True)
    return dest


def pytest_counts(output: str) -> dict[str, int]:
    """The counts of pytest's last summary line."""
    lines = [line for line in output.splitlines() if SUMMARY.search(line) and " in " in line]
    if not lines:
        return {}
    return {kind.rstrip("s") if kind.startswith("error") else kind: int(n) for n, kind in SUMMARY.findall(lines[-1])}


def print_deselected() -> None:
    print("extras of osim-rl left out of the conda environment:")
    for extra, reason in LEFT_OUT_EXTRAS.items():
        print(f"  {extra}: {reason}")
    print(f"deselected by name in the conda environment ({len(DESELECTED)}):")
    for node, reason in DESELECTED.items():
        print(f"  {node}: {reason}")


def run_suite(channel: Path, scaffold: Path, work: Path, gcc_major: str,
              tests: list[str] | None = None) -> dict[str, object]:
    """Environment from the local channels, then the checks of the module docstring; their results.

    ``gcc_major``: the compiler that built the packages (the GLIBCXX trap's runtime must be older).
    ``tests``: test files (``tests/test_x.py``) to run instead of the whole suite. ``passed`` in the
    results: the suite passed (the goldens are a report), its osim was the environment's and the
    GLIBCXX trap showed as expected.
    """
    results: dict[str, object] = {"deselected": DESELECTED, "left_out_extras": LEFT_OUT_EXTRAS}
    prefix = work / "env-suite"
    shutil.rmtree(prefix, ignore_errors=True)
    extras = extras_channel(scaffold, seed_path())
    extra_names = sorted({package_name(p) for p in extras.glob("*/*.conda")})
    with step("suite: environment python opensim osim-rl pytest and the extras from the local channels (py-rattler)"):
        t0 = time.monotonic()
        make_environment_from([channel, scaffold, extras], prefix, extra_names)
        results["environment_s"] = round(time.monotonic() - t0, 1)
    python = prefix / "bin" / "python"
    env = {"PATH": f"{prefix / 'bin'}:{SYSTEM_PATH}", "HOME": str(Path.home()), "LANG": "C.UTF-8",
           "OSIM_RL_REFERENCE": os.environ.get("OSIM_RL_REFERENCE", str(REPO.parent / "shared" / "reference"))}
    check_installed_sources(prefix, snapshot_sources())
    with tempfile.TemporaryDirectory(prefix="osim-conda-suite-") as scratch:
        show = ("import opensim, osim; print(opensim.GetVersionAndDate()); print(opensim.__file__); "
                "print(osim.__file__)")
        version = run([str(python), "-c", show], env=env, cwd=scratch, capture_output=True)
        print(version.stdout, end="")
        results["opensim"] = version.stdout.strip().splitlines()
        doctor = subprocess.run([str(prefix / "bin" / "osim"), "doctor"], env=env, cwd=scratch, text=True,
                                capture_output=True)
        print(doctor.stdout)
        results["doctor"] = doctor.stdout.strip().splitlines()[-1] if doctor.stdout.strip() else doctor.stderr
        # pytest runs from scratch, beside the copy: python -m puts its working directory first on
        # sys.path, and the copy's osim/ must stay out of reach.
        checkout = stage_checkout(Path(scratch) / "checkout")
        env["PYTHONPATH"] = str(importable_tree(checkout, prefix, Path(scratch) / "importable"))
        # An --ignore'd file named on the command line would still be collected: left out here too.
        targets = [str(checkout / t) for t in tests if t not in DESELECTED] if tests else [str(checkout / "tests")]
        # A whole file is left out of collection (--ignore: its imports may need what is missing); a
        # test by its node id, relative to the rootdir.
        skips = [f"--ignore={checkout / node}" if "::" not in node else f"--deselect={node}" for node in DESELECTED]
        base = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "ci.conda_suite_plugin",
                "--rootdir", str(checkout), "--continue-on-collection-errors", *targets, *skips]
        print_deselected()
        for name, marker in (("suite", "not golden_parity"), ("golden_parity", "golden_parity")):
            with step(f"suite: pytest -m '{marker}' inside the environment"):
                t0 = time.monotonic()
                completed = subprocess.run([*base, "-m", marker, "-rfE", "--tb=line"], env=env, cwd=scratch,
                                           text=True, capture_output=True)
                print(completed.stdout[-8000:], completed.stderr[-2000:], flush=True)
                imports = [json.loads(line.removeprefix(IMPORTS)) for line in completed.stdout.splitlines()
                           if line.startswith(IMPORTS)]
                results[name] = {"exit_code": completed.returncode, "counts": pytest_counts(completed.stdout),
                                 "seconds": round(time.monotonic() - t0, 1), "osim_imports": imports,
                                 "not_passed": [line for line in completed.stdout.splitlines()
                                                if line.startswith(("FAILED", "ERROR"))][:80]}
    results["glibcxx_trap"] = glibcxx_check(prefix, work, gcc_major)
    print_deselected()
    suite = results["suite"]
    results["passed"] = (suite["exit_code"] == 0  # type: ignore[index]
                         and bool(suite["osim_imports"]) and not suite["osim_imports"][0]["foreign"]  # type: ignore[index]
                         and results["glibcxx_trap"].get("ok", True))  # type: ignore[attr-defined]
    return results


def glibcxx_check(prefix: Path, work: Path, gcc_major: str) -> dict[str, object]:
    """The GLIBCXX trap on ``import opensim`` (``ci/glibcxx_trap.py``), when opensim was built here.

    The seed's opensim (the 4.6 wheel converted) declares no libstdcxx: there is no trap to show on it.
    """
    (record,) = prefix.glob("conda-meta/opensim-*.json")
    depends = json.loads(record.read_text(encoding="utf-8")).get("depends", [])
    if not any(d.startswith("libstdcxx") for d in depends):
        reason = f"not run: {record.stem} requires no libstdcxx (the seed's converted wheel, not a source build)"
        print(f"GLIBCXX trap on import opensim: {reason}")
        return {"skipped": reason}
    root = work / "glibcxx-trap"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    with step("suite: the GLIBCXX trap on import opensim (the scaffold's old libstdcxx swapped in)"):
        checks = opensim_trap([(work / "suite-channel").as_uri()], root, gcc_major)
        print(json.dumps(checks, indent=2))
    print(f"GLIBCXX trap on import opensim: {'OK' if checks['ok'] else 'FAILED'}")
    return checks


def make_environment_from(channels: list[Path], prefix: Path, extra_specs: list[str]) -> None:
    """``python opensim osim-rl pytest`` and ``extra_specs`` solved from ``channels`` only, merged into one."""
    merged = prefix.parent / "suite-channel"
    shutil.rmtree(merged, ignore_errors=True)
    for source in channels:
        for package in source.glob("*/*.conda"):
            target = merged / package.parent.name / package.name
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                os.link(package, target)
    index(merged)
    version = python_tag()[0]
    make_environment(merged, prefix, [f"python {version}.*", "opensim", "osim-rl", "pytest", "pytest-timeout",
                                      *extra_specs])

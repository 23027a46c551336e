"""A plain ``pip install`` of osim-rl (no extras) in a fresh venv: every command either works or says
in one line which extra it needs, before doing any work.

The venv is made once per session of this module (about a minute; pip takes the wheels from its
cache or index). Its commands run with no ``PYTHONPATH`` (so the installed package is the one
imported), no reference folder and an empty model cache, as on a new user's machine.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
#: what a wheel of osim-rl is built from (pyproject.toml names the readme and the license)
DISTRIBUTION_FILES = ("pyproject.toml", "README.md", "LICENSE")

pytestmark = pytest.mark.slow


class PlainInstall:
    """A venv with osim-rl and its core dependencies only, and a way to run its ``osim``."""

    def __init__(self, venv: Path, home: Path) -> None:
        self.bin = venv / ("Scripts" if os.name == "nt" else "bin")
        self.home = home

    def osim(self, *arguments: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        environ = {name: value for name, value in os.environ.items()
                   if name not in ("PYTHONPATH", "OSIM_RL_REFERENCE", "VIRTUAL_ENV")}
        environ.update(PATH=f"{self.bin}{os.pathsep}{environ.get('PATH', '')}",
                       OSIM_RL_MODEL_CACHE=str(self.home / "models"))
        return subprocess.run([str(self.bin / "osim"), *arguments], capture_output=True, text=True,
                              cwd=self.home, env=environ, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> PlainInstall:
    root = tmp_path_factory.mktemp("plain-install")
    source = root / "source"  # a copy of what the wheel is built from: the checkout stays clean
    shutil.copytree(REPO_ROOT / "osim", source / "osim", ignore=shutil.ignore_patterns("__pycache__"))
    for name in DISTRIBUTION_FILES:
        shutil.copy2(REPO_ROOT / name, source / name)
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    installed = PlainInstall(venv, root / "home")
    installed.home.mkdir()
    pip = subprocess.run([str(installed.bin / "python"), "-m", "pip", "install", "--quiet", str(source)],
                         capture_output=True, text=True, timeout=1800, check=False)
    assert pip.returncode == 0, f"pip install of the checkout failed:\n{pip.stderr[-4000:]}"
    return installed


def test_no_optional_package_is_installed(plain: PlainInstall) -> None:
    """The premise: none of the extras' packages came with the core dependencies."""
    probe = "import importlib.util as u; print([m for m in {!r} if u.find_spec(m)])".format(
        ["PIL", "matplotlib", "imageio", "requests", "fastapi", "uvicorn", "redis", "stable_baselines3",
         "cma", "ray", "mujoco", "numba"])
    completed = subprocess.run([str(plain.bin / "python"), "-c", probe], capture_output=True, text=True,
                               check=True, cwd=plain.home)
    assert completed.stdout.strip() == "[]"


def test_help_lists_every_command(plain: PlainInstall) -> None:
    completed = plain.osim("--help")
    assert completed.returncode == 0, completed.stderr
    for command in ("doctor", "models", "run", "bench", "serve", "tokens"):
        assert command in completed.stdout


def test_doctor_passes(plain: PlainInstall) -> None:
    completed = plain.osim("doctor")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "RESULT: OK" in completed.stdout


def test_run_steps_an_env_and_says_when_it_builds_a_model(plain: PlainInstall) -> None:
    completed = plain.osim("run", "L2RunEnv", "--steps", "5")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("5 steps, total reward ")
    assert "building the model gait9dof18musc (first use" in completed.stderr  # the empty cache


def test_run_takes_a_gymnasium_id(plain: PlainInstall) -> None:
    completed = plain.osim("run", "osim/Arm2D-v0", "--steps", "3", "--quiet")
    assert completed.returncode == 0, completed.stderr


def test_reflex_policy_runs_with_the_packaged_parameters(plain: PlainInstall) -> None:
    """No reference folder and no --reflex-params: the published parameters come with the package."""
    completed = plain.osim("run", "L2M2019Env", "--policy", "reflex", "--steps", "5", "--quiet",
                           "--sto", "walk.sto")
    assert completed.returncode == 0, completed.stderr
    assert (plain.home / "walk.sto").stat().st_size > 0


@pytest.mark.parametrize("option, output, missing", [
    ("--plot", "episode.png", "matplotlib"),
    ("--gif", "episode.gif", "PIL"),
    ("--mp4", "episode.mp4", "PIL"),
])
def test_outputs_of_the_render_extra_are_refused_before_simulating(plain: PlainInstall, option: str,
                                                                   output: str, missing: str) -> None:
    started = time.perf_counter()
    completed = plain.osim("run", "L2RunEnv", option, output)
    elapsed = time.perf_counter() - started
    assert completed.returncode == 2
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr  # one line, no traceback, no progress bar
    assert missing in lines[0] and "pip install 'osim-rl[render]'" in lines[0]
    assert completed.stdout == ""  # no episode summary: nothing ran
    assert not (plain.home / output).exists()
    assert elapsed < 30, f"took {elapsed:.1f} s: it simulated before checking?"  # 1000 steps take minutes


def test_serve_names_the_grader_extra(plain: PlainInstall) -> None:
    completed = plain.osim("serve", "--db", "grader.sqlite3")
    assert completed.returncode == 2
    assert completed.stderr.strip().splitlines() == [
        "osim serve: error: osim serve needs fastapi, uvicorn, which the 'grader' extra installs: "
        "pip install 'osim-rl[grader]'"
    ]


def test_models_and_bench_work(plain: PlainInstall) -> None:
    listing = plain.osim("models", "list")
    assert listing.returncode == 0 and "gait14dof22musc_20170320" in listing.stdout
    multi = plain.osim("bench", "multi", "--env", "Arm2DEnv", "--count", "2", "--steps", "2")
    assert multi.returncode == 0, multi.stderr
    assert "slowdown together" in multi.stdout

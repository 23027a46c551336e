"""The original's import paths, as its own test scripts and examples use them (issue 16).

``osim.env.osim`` (the original's defining module in 2.1.5 and 3.0.11), ``rect`` from
``osim.env``, and the top-level ``envs`` package of 3.0.11 re-export the project's classes: these
tests check that each name resolves to the project's object, and that ``envs`` is packaged.
"""
from __future__ import annotations

import fnmatch
import importlib
import math
import tomllib

import numpy as np
import pytest
from conftest import REPO_ROOT

import osim.env

# Every name the original's osim/env/osim.py defined (2.1.5 | 3.0.11) and where it lives now.
ORIGINAL_OSIM_MODULE = {
    "OsimModel": "osim.env.base", "OsimEnv": "osim.env.base", "Spec": "osim.env.base",
    "L2RunEnv": "osim.env.l2run", "ProstheticsEnv": "osim.env.prosthetics", "rect": "osim.env.prosthetics",
    "Arm2DEnv": "osim.env.arm", "L2M2019Env": "osim.env.l2m2019", "rotate_frame": "osim.env.l2m2019",
}


@pytest.mark.parametrize("name", sorted(ORIGINAL_OSIM_MODULE))
def test_osim_env_osim_reexports_the_originals_names(name):
    original_path = importlib.import_module("osim.env.osim")
    home = importlib.import_module(ORIGINAL_OSIM_MODULE[name])
    assert getattr(original_path, name) is getattr(home, name)
    assert name in original_path.__all__


def test_from_osim_env_import_the_2018_names():
    from osim.env import L2RunEnv, ProstheticsEnv, rect  # noqa: F401  (the 2018 test scripts' line)

    assert "rect" in osim.env.__all__
    assert rect([2, 0])[0] > 1.99 and rect([2, math.pi / 2])[0] < 0.01
    np.testing.assert_array_equal(rect((1.5, 0.3)), [1.5 * math.cos(0.3), 0.0, 1.5 * math.sin(0.3)])


def test_envs_package_of_3_0_11():
    from envs.control.loco_reflex_song2019 import LocoCtrl
    from envs.target import VTgtField
    from envs.target.v_tgt_field import VTgtSink
    from osim.control import LocoCtrl as project_ctrl
    from osim.env.target import VTgtField as project_field
    from osim.env.target import VTgtSink as project_sink

    assert (VTgtField, VTgtSink, LocoCtrl) == (project_field, project_sink, project_ctrl)
    field = VTgtField(visualize=False, version=1, dt=0.01, seed=3)  # the original test script's use
    field.reset(version=1, seed=3)
    assert np.all(np.isfinite(field.get_vtgt(np.zeros(2))))


def test_envs_is_packaged():
    """pyproject's package patterns take ``envs`` and its subpackages along with ``osim``."""
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = sorted(
        ".".join(init.parent.relative_to(REPO_ROOT).parts) for init in (REPO_ROOT / "envs").rglob("__init__.py")
    )
    assert packages == ["envs", "envs.control", "envs.target"]
    for package in packages:  # setuptools matches each dotted name against the patterns (fnmatch)
        assert any(fnmatch.fnmatchcase(package, pattern) for pattern in patterns), package

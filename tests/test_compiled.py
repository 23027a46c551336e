"""osim.compiled: the numba kernels' loader (the kernels themselves are compared bit for bit with the
NumPy path in test_vtgt_field.py and test_mujoco_engine.py)."""
from __future__ import annotations

import pytest

from osim import compiled


def test_the_kernels_load_with_the_mujoco_extra():
    """The test command installs the mujoco extra, numba with it: the kernels must load, compiled."""
    kernels = compiled.load("osim.env.target._numba_kernels")
    assert kernels is not None
    assert kernels.rotated_values.signatures  # compiled for its declared signature at import


def test_a_module_that_does_not_compile_warns_and_gives_the_numpy_path():
    with pytest.warns(RuntimeWarning, match="NumPy path is used"):
        assert compiled.load("osim.no_such_kernels") is None


def test_the_environment_variable_turns_them_off(monkeypatch):
    monkeypatch.setenv("OSIM_RL_COMPILED", "0")
    compiled.load.cache_clear()
    try:
        assert compiled.load("osim.env.target._numba_kernels") is None
    finally:
        monkeypatch.delenv("OSIM_RL_COMPILED")
        compiled.load.cache_clear()
    assert compiled.load("osim.env.target._numba_kernels") is not None

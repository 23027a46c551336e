"""The 2019 target-velocity field (osim.env.target): interpolation, sink field, targets, seeds, parity."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.interpolate import RectBivariateSpline

from osim.env.target import BilinearGrid, VTgtField, generate_grid
from osim.env.target.v_tgt_field import VTgt0


def reference_bilinear(x: np.ndarray, y: np.ndarray, values: np.ndarray, qx: float, qy: float) -> float:
    """Textbook bilinear interpolation of one point; outside the grid, the nearest edge point."""
    qx = min(max(qx, x[0]), x[-1])
    qy = min(max(qy, y[0]), y[-1])
    i = max(k for k in range(len(x) - 1) if x[k] <= qx)
    j = max(k for k in range(len(y) - 1) if y[k] <= qy)
    tx = (qx - x[i]) / (x[i + 1] - x[i])
    ty = (qy - y[j]) / (y[j + 1] - y[j])
    low = values[i, j] + tx * (values[i + 1, j] - values[i, j])
    high = values[i, j + 1] + tx * (values[i + 1, j + 1] - values[i, j + 1])
    return low + ty * (high - low)


@pytest.fixture(scope="module")
def map_and_values():
    grid = generate_grid(np.array([[-20.0, 20.0], [-20.0, 20.0]]), np.array([2, 2]))
    values = np.random.default_rng(5).normal(size=(2, 81, 81))
    return grid[0, :, 0], grid[1, 0, :], values


def _queries() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(6)
    inside = rng.uniform(-20, 20, size=(200, 2))
    outside = rng.uniform(-35, 35, size=(200, 2))  # mostly beyond an edge or a corner
    nodes = np.array([[-20.0, -20.0], [20.0, 20.0], [0.5, -3.0], [-20.0, 7.25], [13.5, 20.0]])
    points = np.vstack([inside, outside, nodes])
    return points[:, 0], points[:, 1]


def test_bilinear_matches_a_straightforward_computation(map_and_values):
    x, y, values = map_and_values
    qx, qy = _queries()
    got = BilinearGrid(x, y, values)(qx, qy)
    assert got.shape == (2, qx.size)
    for c in range(2):
        expected = [reference_bilinear(x, y, values[c], a, b) for a, b in zip(qx, qy)]
        np.testing.assert_allclose(got[c], expected, rtol=0, atol=1e-12)


def test_bilinear_matches_fitpack_linear_spline_used_by_interp2d(map_and_values):
    """interp2d(kind='linear') evaluated FITPACK's bilinear spline with queries clamped to the grid."""
    x, y, values = map_and_values
    qx, qy = _queries()
    got = BilinearGrid(x, y, values[0])(qx, qy)
    spline = RectBivariateSpline(x, y, values[0], kx=1, ky=1, s=0)
    expected = spline(np.clip(qx, x[0], x[-1]), np.clip(qy, y[0], y[-1]), grid=False)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_bilinear_rejects_bad_grids():
    with pytest.raises(ValueError, match="strictly increasing"):
        BilinearGrid(np.array([0.0, 0.0, 1.0]), np.array([0.0, 1.0]), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="shape"):
        BilinearGrid(np.array([0.0, 1.0]), np.array([0.0, 1.0]), np.zeros((3, 2)))


def test_compiled_kernels_give_the_numpy_bits(map_and_values):
    """The numba kernels (the mujoco extra, installed by the test command) repeat the NumPy path's
    operations in its order: every bit of every value is the same, inside the map, past its edges and
    corners, at node lines, rotated by any angle and by none."""
    x, y, values = map_and_values
    numpy_grid = BilinearGrid(x, y, values, compiled=False)
    compiled_grid = BilinearGrid(x, y, values, compiled=True)
    offsets = VTgt0()._get_points  # the local field's 121 body-frame points
    qx, qy = _queries()
    angles = np.random.default_rng(7).uniform(-4, 4, size=qx.size)
    angles[::4] = 0.0
    expected, got = np.empty(offsets.shape), np.empty(offsets.shape)
    for a, b, angle in zip(qx.tolist(), qy.tolist(), angles.tolist()):
        assert np.array(compiled_grid.point_values(a, b)).tobytes() == np.array(numpy_grid.point_values(a, b)).tobytes()
        cos, sin = math.cos(angle), math.sin(angle)
        numpy_grid.evaluate_rotated(offsets, a, b, cos, sin, expected)
        compiled_grid.evaluate_rotated(offsets, a, b, cos, sin, got)
        assert got.tobytes() == expected.tobytes(), (a, b, angle)


def test_rotated_query_needs_a_vector_field(map_and_values):
    x, y, values = map_and_values
    for compiled in (False, True):
        with pytest.raises(ValueError, match="2-component"):
            BilinearGrid(x, y, values[0], compiled=compiled).evaluate_rotated(
                np.zeros((2, 3)), 0.0, 0.0, 1.0, 0.0, np.empty((2, 3)))


def test_local_grid_is_11_by_11_points_1_m_apart():
    field = VTgtField(visualize=False, version=0, seed=1)
    field.reset(version=0)
    grid = field.vtgt_obj.get_grid
    assert grid.shape == (2, 11, 11)
    np.testing.assert_array_equal(grid[0, :, 0], np.arange(-5.0, 6.0))
    np.testing.assert_array_equal(grid[1, 0, :], np.arange(-5.0, 6.0))
    assert field.vtgt_obj.map.shape == (2, 81, 81)


def test_constant_field_rotates_into_the_body_frame():
    field = VTgtField(visualize=False, version=0)
    field.reset(version=0)
    local, flag = field.update(np.array([3.0, -2.0, math.pi / 2]))
    assert flag == 0 and local.shape == (2, 11, 11)
    # Global (1.4, 0) seen by an agent facing +y (left): it points to the agent's right.
    np.testing.assert_allclose(local[0], 0.0, atol=1e-12)
    np.testing.assert_allclose(local[1], -1.4, atol=1e-12)
    np.testing.assert_allclose(field.get_vtgt([100.0, 0.0]).ravel(), [1.4, 0.0])


def test_sink_field_points_to_the_sink_with_the_specified_speed():
    field = VTgtField(visualize=False, version=2, seed=3)
    field.reset(version=2)
    obj, p_sink = field.vtgt_obj, field.p_sink
    d_sink = float(np.linalg.norm(p_sink))  # agent at the origin when the sink was drawn
    rng = np.random.RandomState(3)
    rng.uniform(5, 7), rng.uniform(-math.pi / 2, math.pi / 2)
    v_phase0 = rng.uniform(-math.pi, math.pi)
    for ix, iy in [(0, 0), (40, 40), (52, 35), (80, 3), (45, 41)]:
        node = obj.map[:, ix, iy]
        d = float(np.linalg.norm(node - p_sink))
        if d > d_sink + 1:
            speed = 1.8
        elif d > 1:
            speed = 0.5 * math.sin(v_phase0 + 2 * math.pi * d / d_sink) + 1.3
        else:
            speed = d * (0.5 * math.sin(v_phase0 + 2 * math.pi / d_sink) + 1.3)
        expected = speed * (p_sink - node) / d
        np.testing.assert_allclose(obj.vtgt[:, ix, iy], expected, atol=1e-12)


def test_node_on_the_sink_has_zero_velocity_not_nan():
    field = VTgtField(visualize=False, version=1, seed=2)
    field.reset(version=1)
    field.p_sink = np.array([5.5, 0.0])  # exactly on a map node
    field.create_vtgt_sink(field.v_amp_rng)
    assert np.all(np.isfinite(field.vtgt_obj.vtgt))
    np.testing.assert_array_equal(field.get_vtgt([5.5, 0.0]).ravel(), [0.0, 0.0])


def _hold_at_sink(field: VTgtField, steps: int) -> list[int]:
    flags = []
    for _ in range(steps):
        _, flag = field.update(np.array([field.p_sink[0], field.p_sink[1], 0.0]))
        flags.append(flag)
    return flags


def test_targets_version3_twice_then_never():
    field = VTgtField(visualize=False, version=3, seed=11)
    field.reset(version=3)
    first_sink, hold = field.p_sink.copy(), field.t0_target
    flags = _hold_at_sink(field, 1500)
    reached = np.flatnonzero(flags)
    assert len(reached) == 2
    # Reached when the time held exceeds t0_target (one update enters the radius).
    assert reached[0] == math.floor(hold / 0.01 + 1e-9)
    assert not np.array_equal(field.p_sink, first_sink)


def test_targets_version2_keep_coming():
    field = VTgtField(visualize=False, version=2, seed=12)
    field.reset(version=2)
    assert sum(_hold_at_sink(field, 2000)) >= 4


def test_bad_version_is_rejected():
    with pytest.raises(ValueError, match=r"\[0, 1, 2, 3\]"):
        VTgtField(visualize=False, version=4)
    field = VTgtField(visualize=False, version=1)
    with pytest.raises(ValueError, match=r"\[0, 1, 2, 3\]"):
        field.reset(version=7)


def test_seeds_use_the_given_generator_only():
    global_state = np.random.get_state()[1].copy()
    a = VTgtField(visualize=False, version=3, seed=0)
    a.reset(version=3)
    b = VTgtField(visualize=False, version=3)
    b.reset(version=3, seed=0)
    c = VTgtField(visualize=False, version=3, seed=1)
    c.reset(version=3)
    np.testing.assert_array_equal(a.p_sink, b.p_sink)
    assert not np.array_equal(a.p_sink, c.p_sink)
    # Seed 0 draws what np.random.seed(0) made the original draw: distance, then angle.
    rng = np.random.RandomState(0)
    r, th = rng.uniform(5, 7), rng.uniform(-math.pi, math.pi)
    np.testing.assert_allclose(a.p_sink, [r * math.cos(th), r * math.sin(th)])
    shared = np.random.RandomState(4)
    d = VTgtField(visualize=False, version=1, rng=shared)
    d.reset(version=1)
    assert shared.uniform() == np.random.RandomState(4).uniform(size=5)[4]  # 4 draws were taken
    np.testing.assert_array_equal(np.random.get_state()[1], global_state)


@pytest.mark.parametrize("name", ["vtgt_v2", "vtgt_v3"])
def test_parity_with_the_original_field(name):
    from golden import load_case

    case = load_case(name)
    meta = case["meta"]
    field = VTgtField(visualize=False, version=meta["vtgt_version"], dt=0.01, seed=meta["seed"])
    field.reset(version=meta["vtgt_version"], seed=meta["seed"])
    np.testing.assert_allclose(field.p_sink, case["initial_sink"], atol=1e-12)
    stored = {int(k): i for i, k in enumerate(case["field_steps"])}
    for step, pose in enumerate(case["poses"]):
        local, flag = field.update(pose)
        assert flag == case["flags"][step], f"target flag differs at step {step}"
        np.testing.assert_allclose(field.get_vtgt(pose[:2]).ravel(), case["vtgt_global"][step], atol=1e-9)
        if step in stored:
            np.testing.assert_allclose(local, case["fields"][stored[step]], atol=1e-9)
    assert int(np.sum(case["flags"])) == len(case["sinks_after_flag"])

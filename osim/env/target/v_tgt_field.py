"""The target-velocity field of the NeurIPS 2019 "Learn to Move" task (spec §3.6.1).

A map of target velocities covers +-20 m around the agent at 0.5 m spacing (81 x 81 nodes). In
version 0 the target is a constant 1.4 m/s forward; in versions 1-3 every node points towards a
*sink* 5-7 m away, with a speed that oscillates between 0.8 and 1.8 m/s with the distance to the
sink and falls linearly to zero within 1 m of it. Standing within 0.3 m of the sink for a random
2-4 s "reaches" the target: a new sink is drawn further along a path (versions 1-2 indefinitely,
version 3 once) and :meth:`VTgtField.update` reports the event with a flag.

The agent observes the field in its own frame on an 11 x 11 grid of points 1 m apart within +-5 m
(:meth:`VTgtField.get_vtgt_field_local`); the reward compares the pelvis velocity with the field at
the pelvis (:meth:`VTgtField.get_vtgt`).

Differences from the original ``envs/target/v_tgt_field.py`` (none changes a value it returned):

* random draws come from the ``numpy.random.RandomState`` given as ``rng`` (the environment's), in
  the original's order, never from NumPy's global state; ``seed=0`` is a seed like any other (the
  original ignored falsy seeds);
* ``interp2d`` (removed in SciPy 1.14) is replaced by :class:`~.interpolation.BilinearGrid`, the
  same bilinear values with the same nearest-edge extrapolation, vectorised;
* a map node exactly on the sink gets the target velocity 0 (the original computed 0/0 = NaN);
* when a map rebuilt around an off-integer position has 82 nodes along an axis (the original's
  grid rounding, kept), the directions are computed on the map's own nodes: the original built
  them on a second grid that could have a different node count and then crashed;
* the version table is immutable per-instance configuration (the original kept it in a mutable
  class attribute shared by all instances) and versions are compared with ``==`` (not ``is``);
* the matplotlib figure opens only when ``visualize=True``, matplotlib is installed and a display
  exists (otherwise one warning and nothing is drawn).
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from osim.engine.display import display_available

from .interpolation import BilinearGrid


@dataclass(frozen=True)
class FieldVersion:
    """Parameters of one field version (``ver00`` ... ``ver03`` in the original)."""

    sink: bool
    constant_velocity: tuple[float, float] = (1.4, 0.0)
    speed_range: tuple[float, float] = (0.8, 1.8)
    sink_distance_range: tuple[float, float] = (5.0, 7.0)
    sink_angle_range: tuple[float, float] = (0.0, 0.0)
    target_radius: float = 0.3
    n_new_target: float = math.inf
    map_resolution: tuple[int, int] = (2, 2)  # nodes per metre
    map_half_width: float = 20.0  # the map spans +-20 m around the agent when (re)built
    get_range: tuple[tuple[float, float], tuple[float, float]] = ((-5.0, 5.0), (-5.0, 5.0))


FIELD_VERSIONS: dict[int, FieldVersion] = {
    0: FieldVersion(sink=False, n_new_target=1),
    1: FieldVersion(sink=True),
    2: FieldVersion(sink=True, sink_angle_range=(-math.pi / 2, math.pi / 2)),
    3: FieldVersion(sink=True, sink_angle_range=(-math.pi, math.pi), n_new_target=2),
}


def generate_grid(rng_xy: np.ndarray, res: np.ndarray) -> np.ndarray:
    """Grid ``(2, nx, ny)`` of points spanning ``rng_xy = [[x_lo, x_hi], [y_lo, y_hi]]`` with ``res``
    points per metre, built from the range's centre outwards exactly as the original did (so that
    rounding, and hence the node count for off-integer centres, is the same)."""
    rng_xy = np.asarray(rng_xy, dtype=np.float64)
    centre_x = 0.5 * (rng_xy[0, 0] + rng_xy[0, 1])
    centre_y = 0.5 * (rng_xy[1, 0] + rng_xy[1, 1])
    half_x = (rng_xy[0, 1] - centre_x) * res[0]
    half_y = (rng_xy[1, 1] - centre_y) * res[1]
    grid = np.mgrid[-half_x:half_x + 1, -half_y:half_y + 1]
    grid[0] = grid[0] / res[0] + centre_x
    grid[1] = grid[1] / res[1] + centre_y
    return grid


_grids: dict[bytes, np.ndarray] = {}


def _cached_grid(rng_xy: np.ndarray, res: np.ndarray) -> np.ndarray:
    """``generate_grid(rng_xy, res)``, read-only, kept for the last few ranges used: the local query
    grid never changes, and every reset builds the map around the same initial pose."""
    key = rng_xy.tobytes() + res.tobytes() + str(res.dtype).encode()
    grid = _grids.pop(key, None)
    if grid is None:
        if len(_grids) >= 8:
            _grids.pop(next(iter(_grids)))  # the least recently used
        grid = generate_grid(rng_xy, res)
        grid.flags.writeable = False
    _grids[key] = grid  # (re)inserted last: the most recently used
    return grid


class VTgt0:
    """A map of global-frame target velocities ``vtgt (2, nx, ny)`` on nodes ``map (2, nx, ny)``."""

    def __init__(
        self,
        rng_xy: Any = ((-30, 30), (-30, 30)),
        res_map: Any = (2, 2),
        rng_get: Any = ((-5, 5), (-5, 5)),
        res_get: Any = (2, 2),
    ) -> None:
        self.res_map = np.asarray(res_map)
        self.res_get = np.asarray(res_get, dtype=np.float64)
        self.rng_get = np.asarray(rng_get, dtype=np.float64)
        # The body-frame query grid never changes: built once per range and resolution.
        self.get_grid = _cached_grid(self.rng_get, self.res_get)
        # ... and its points flattened (2, n)
        self._get_points = self.get_grid.reshape(2, -1).copy()
        self.create_map(rng_xy)
        self.vtgt = -1.0 * self.map
        self._interpolator: BilinearGrid | None = None

    def create_map(self, rng_xy: Any) -> None:
        """Lay out the grid nodes ``map`` over the ranges ``rng_xy`` (read-only: shared by the maps
        over the same ranges, as every episode's first map is)."""
        self.map_rng_xy = np.asarray(rng_xy, dtype=np.float64)
        self.map = _cached_grid(self.map_rng_xy, np.asarray(self.res_map))

    def _fit(self) -> None:
        self._interpolator = BilinearGrid(self.map[0, :, 0], self.map[1, 0, :], self.vtgt)

    def get_vtgt(self, xy: Any) -> np.ndarray:
        """Global-frame target velocity at the point ``xy``, shape ``(2, 1)`` as in the original."""
        assert self._interpolator is not None, "no field yet (VTgtSink builds it in create_vtgt_sink)"
        values = self._interpolator(float(xy[0]), float(xy[1]))
        return values.reshape(2, 1)

    def vtgt_at(self, x: float, y: float) -> list[float]:
        """:meth:`get_vtgt` at ``(x, y)`` as two Python floats (the same values, without arrays)."""
        assert self._interpolator is not None, "no field yet (VTgtSink builds it in create_vtgt_sink)"
        return self._interpolator.point_values(x, y)

    def get_vtgt_field_local(self, pose: Any) -> np.ndarray:
        """Target velocities in the body frame at the 11 x 11 body-frame grid, shape (2, 11, 11).

        The grid is rotated by the yaw ``pose[2]`` and moved to ``pose[0:2]``; the interpolated
        global vectors are rotated back by ``-yaw``.
        """
        x, y, yaw = float(pose[0]), float(pose[1]), float(pose[2])
        interpolator = self._interpolator
        assert interpolator is not None, "no field yet (VTgtSink builds it in create_vtgt_sink)"
        # a new array each time: it is the state's observation
        local = np.empty(self._get_points.shape)
        interpolator.evaluate_rotated(self._get_points, x, y, math.cos(yaw), math.sin(yaw), local)
        return local.reshape(self.get_grid.shape)


class VTgtConst(VTgt0):
    """The same velocity everywhere (version 0)."""

    def __init__(self, v_tgt: Any = (1.4, 0.0), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.create_vtgt_const(v_tgt)

    def create_vtgt_const(self, v_tgt: Any) -> None:
        """Set the same target velocity ``v_tgt`` at every node."""
        self.vtgt = np.empty_like(self.map)
        self.vtgt[0].fill(v_tgt[0])
        self.vtgt[1].fill(v_tgt[1])
        self._fit()


class VTgtSink(VTgt0):
    """Velocities pointing to a sink, with a speed that depends on the distance to it."""

    def create_vtgt_sink(
        self,
        p_sink: np.ndarray,
        d_sink: float,
        v_amp_rng: Any,
        v_phase0: float,
        d_dec: float = 1.0,
    ) -> None:
        """Point every node at ``p_sink``; ``d_sink`` is the agent's distance to it when drawn.

        Speed at distance ``d``: ``vmax`` beyond ``d_sink + d_dec``; in between
        ``mean + half_range * sin(v_phase0 + 2 pi d / d_sink)``; within ``d_dec`` that expression at
        ``d_dec`` scaled by ``d`` (a linear ramp to zero at the sink).
        """
        v_min, v_max = float(v_amp_rng[0]), float(v_amp_rng[1])
        half_range, mean = 0.5 * (v_max - v_min), 0.5 * (v_min + v_max)
        # Direction: from each node towards the sink. (The original built a second grid around the
        # sink, equal up to rounding but, for some off-integer centres, with one node more or less
        # than the map, which crashed it; this cannot.)
        towards = np.asarray(p_sink, dtype=np.float64)[:, np.newaxis, np.newaxis] - self.map
        distance = np.hypot(towards[0], towards[1])
        speed = np.where(
            distance > d_sink + d_dec,
            v_max,
            np.where(
                distance > d_dec,
                half_range * np.sin(v_phase0 + distance / d_sink * 2 * np.pi) + mean,
                distance * (half_range * np.sin(v_phase0 + d_dec / d_sink * 2 * np.pi) + mean),
            ),
        )
        norm = distance  # the direction's norm: the distance (the same np.hypot, computed once)
        # A node exactly on the sink has no direction: its target velocity is 0 (the original: NaN).
        scale = np.divide(speed, norm, out=np.zeros_like(speed), where=norm > 0)
        self.vtgt = towards * scale
        self._fit()


class _FieldPlot:
    """The original's two quiver plots (global map; body frame), drawn with matplotlib."""

    def __init__(self, field: VTgtField, pose: np.ndarray) -> None:
        import matplotlib.pyplot as plt

        self.plt = plt
        self.figure, self.axes = plt.subplots(2, 1, figsize=(5, 6))
        self.global_quiver = self._quiver_map(field)
        self.axes[0].set_title("v$_{tgt}$ (global)")
        self.axes[0].set_xlabel("x")
        self.axes[0].set_ylabel("y")
        self.local_quiver = self._quiver_local(field, field.get_vtgt_field_local(pose))
        self.axes[1].set_title("v$_{tgt}$ (body)")
        self.axes[1].set_xlabel("forward")
        self.axes[1].set_ylabel("leftward")
        plt.tight_layout()
        plt.pause(0.0001)

    def _quiver_map(self, field: VTgtField) -> Any:
        obj = field.vtgt_obj
        speed = np.hypot(obj.vtgt[0], obj.vtgt[1])
        quiver = self.axes[0].quiver(obj.map[0], obj.map[1], obj.vtgt[0], obj.vtgt[1], speed)
        self.axes[0].axis("equal")
        return quiver

    def _quiver_local(self, field: VTgtField, local: np.ndarray) -> Any:
        grid = field.vtgt_obj.get_grid
        quiver = self.axes[1].quiver(grid[0], grid[1], local[0], local[1], np.hypot(local[0], local[1]))
        self.axes[1].axis("equal")
        return quiver

    def update(self, field: VTgtField, pose: np.ndarray, local: np.ndarray, new_target: bool) -> None:
        if new_target:
            self.global_quiver.remove()
            self.global_quiver = self._quiver_map(field)
        if field.di_visualize == 1 or field.i % field.di_visualize == 1 or field.i == 1:
            self.axes[0].plot(pose[0], pose[1], "k.")
            self.local_quiver.remove()
            self.local_quiver = self._quiver_local(field, local)
            self.axes[1].plot(0, 0, "k.")
            self.plt.pause(0.0001)

    def close(self) -> None:
        self.plt.close(self.figure)


_plot_warned = False


def _plot_possible() -> bool:
    global _plot_warned
    reason = None
    if not display_available():
        reason = "no display"
    else:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            reason = "matplotlib is not installed"
    if reason is not None and not _plot_warned:
        warnings.warn(f"target-velocity plot not shown: {reason}", RuntimeWarning, stacklevel=3)
        _plot_warned = True
    return reason is None


class VTgtField:
    """The target-velocity field with its targets (the original ``envs.target.VTgtField``).

    Args:
        visualize: plot the map and the body-frame field with matplotlib (needs a display).
        version: 0 constant field; 1 sinks straight ahead; 2 sinks within +-90 deg (Round 1);
            3 sinks within +-180 deg, two targets (Round 2). Used until :meth:`reset` says otherwise.
        dt: time per :meth:`update` (s).
        dt_visualize: time between redraws of the body-frame plot (s).
        seed: re-seed ``rng`` with this seed now (``None``: leave it as it is).
        rng: the ``numpy.random.RandomState`` to draw from (the environment's); a new one when None.
    """

    nn_get = np.array([11, 11])
    vtgt_space = np.array([[-10.0] * 2 * 11 * 11, [10.0] * 2 * 11 * 11])

    def __init__(
        self,
        visualize: bool = True,
        version: int = 1,
        dt: float = 0.01,
        dt_visualize: float = 0.5,
        seed: int | None = None,
        rng: np.random.RandomState | None = None,
    ) -> None:
        self.dt = dt
        self.visualize = bool(visualize)
        self.dt_visualize = dt_visualize
        self.di_visualize = max(1, int(dt_visualize / dt))
        self.rng = rng if rng is not None else np.random.RandomState(seed)
        if seed is not None and rng is not None:
            self.rng.seed(seed)
        self.version = self._check_version(version)
        self._plot: _FieldPlot | None = None
        self.t = 0.0
        self.i = 0

    @staticmethod
    def _check_version(version: int) -> int:
        if version not in FIELD_VERSIONS:
            raise ValueError(f"vtgt version should be in [0, 1, 2, 3], got {version!r}")
        return int(version)

    def reset(self, version: int = 1, seed: int | None = None, pose_agent: Any = (0.0, 0.0, 0.0)) -> None:
        """Build a new map around ``pose_agent`` (and, for versions 1-3, draw the first sink).

        ``seed`` re-seeds the generator first when it is not None.
        """
        self.version = self._check_version(version)
        params = FIELD_VERSIONS[self.version]
        self.params = params
        self.t = 0.0
        self.i = 0
        self.i_target = 1
        self.t_target = 0.0
        self.r_target = params.target_radius
        self.n_new_target = params.n_new_target
        self.v_amp_rng = np.array(params.speed_range)
        self.rng_p_sink_r_th = np.array([params.sink_distance_range, params.sink_angle_range])
        self.res_map = np.array(params.map_resolution)
        self.rng_xy0 = np.array([[-params.map_half_width, params.map_half_width]] * 2)
        self.rng_get = np.array(params.get_range)
        self.res_get = (self.rng_get[:, 1] - self.rng_get[:, 0] + 1) / self.nn_get
        self.pose_agent = np.asarray(pose_agent, dtype=np.float64)
        self.rng_xy = (self.pose_agent[0:2] + self.rng_xy0.T).T
        map_args = {"rng_xy": self.rng_xy, "res_map": self.res_map, "rng_get": self.rng_get, "res_get": self.res_get}

        if not params.sink:
            self.__dict__.pop("p_sink", None)
            self.vtgt_obj: VTgt0 = VTgtConst(v_tgt=params.constant_velocity, **map_args)
        else:
            self.vtgt_obj = VTgtSink(**map_args)
            if seed is not None:
                self.rng.seed(seed)
            # Draw order as in the original: distance, angle, then (create_vtgt_sink) phase, hold time.
            distance = self.rng.uniform(*params.sink_distance_range)
            angle = self.rng.uniform(*params.sink_angle_range)
            self.path_th = angle
            self.p_sink = self.pose_agent[0:2] + np.array([np.cos(angle) * distance, np.sin(angle) * distance])
            self.create_vtgt_sink(self.v_amp_rng)

        if self.visualize:
            self.close()
            if _plot_possible():
                self._plot = _FieldPlot(self, self.pose_agent)

    def create_vtgt_sink(self, v_amp_rng: Any) -> None:
        """Draw the speed phase and the hold time of the current sink and build its field."""
        d_sink = float(np.linalg.norm(self.p_sink - self.pose_agent[0:2]))
        v_phase0 = self.rng.uniform(-np.pi, np.pi)
        self.t0_target = self.rng.uniform(2, 4)
        if not isinstance(self.vtgt_obj, VTgtSink):
            raise RuntimeError(f"version {self.version} has a constant target velocity, no sink")
        self.vtgt_obj.create_vtgt_sink(self.p_sink, d_sink, v_amp_rng, v_phase0=v_phase0)

    def update(self, pose: Any) -> tuple[np.ndarray, int]:
        """Advance by ``dt`` with the agent at ``pose = (x, y, yaw)`` (global 2-D frame, y leftward).

        Returns the body-frame field (2, 11, 11) and 1 if a target was reached in this update
        (else 0).
        """
        self.t += self.dt
        self.i += 1
        self.pose_agent = np.asarray(pose, dtype=np.float64)
        reached = 0
        if hasattr(self, "p_sink"):
            to_sink = self.p_sink - self.pose_agent[0:2]
            # np.linalg.norm's own computation of a vector's norm, without its dispatch
            if math.sqrt(to_sink.dot(to_sink)) < self.r_target:
                self.t_target += self.dt
            else:
                self.t_target = 0.0
            if self.t_target > self.t0_target and self.i_target <= self.n_new_target:
                if self.i_target < self.n_new_target:
                    self._next_sink()
                self.i_target += 1
                self.t_target = 0.0
                reached = 1
        local = self.vtgt_obj.get_vtgt_field_local(self.pose_agent)
        if self._plot is not None:
            self._plot.update(self, self.pose_agent, local, bool(reached))
        return local, reached

    def _next_sink(self) -> None:
        """The next sink along the path, and a new map centred on the agent."""
        distance = self.rng.uniform(self.rng_p_sink_r_th[0, 0], self.rng_p_sink_r_th[0, 1])
        turn = self.rng.uniform(self.rng_p_sink_r_th[1, 0], self.rng_p_sink_r_th[1, 1])
        self.path_th += turn
        self.p_sink = self.p_sink + np.array([np.cos(self.path_th) * distance, np.sin(self.path_th) * distance])
        self.rng_xy = (self.pose_agent[0:2] + self.rng_xy0.T).T
        self.vtgt_obj.create_map(self.rng_xy)
        self.create_vtgt_sink(self.v_amp_rng)

    def get_vtgt(self, xy: Any) -> np.ndarray:
        """Global-frame target velocity at ``xy``, shape (2, 1)."""
        return self.vtgt_obj.get_vtgt(xy)

    def vtgt_at(self, x: float, y: float) -> list[float]:
        """:meth:`get_vtgt` at the point ``(x, y)`` as two Python floats."""
        return self.vtgt_obj.vtgt_at(x, y)

    def get_vtgt_field_local(self, pose: Any) -> np.ndarray:
        """Body-frame target velocities at the 11 x 11 grid around ``pose``, shape (2, 11, 11)."""
        return self.vtgt_obj.get_vtgt_field_local(pose)

    def close(self) -> None:
        """Close the plot window, if one is open."""
        if self._plot is not None:
            self._plot.close()
            self._plot = None

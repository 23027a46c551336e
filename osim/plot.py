"""A picture of an episode (matplotlib, no display): reward terms, joint angles and activations."""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np

from osim._optional import require
from osim.motion import EpisodeLog

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def require_plotting() -> None:
    """Raise :class:`osim._optional.MissingExtra` unless matplotlib is installed."""
    require("matplotlib", extra="render", feature="plotting (osim.plot)")


#: Line styles combined with the ten colours of matplotlib's ``tab10`` when a panel has more lines.
LINE_STYLES = ("-", "--", ":", "-.")
#: A legend with more entries than this is laid out in two columns.
LEGEND_ROWS = 16


def line_styles(count: int) -> list[tuple[tuple[float, ...], str]]:
    """A different (colour, line style) pair for each of ``count`` lines.

    Up to 10 lines: the ten ``tab10`` colours, solid; up to 40: the same colours again, dashed,
    dotted, then dash-dotted; beyond that, ``count`` colours spread over the ``turbo`` colour map.
    """
    from matplotlib import colormaps

    if count <= 10 * len(LINE_STYLES):
        palette = colormaps["tab10"].colors  # type: ignore[attr-defined]  # tab10 is a ListedColormap
        return [(tuple(palette[i % 10]), LINE_STYLES[i // 10]) for i in range(count)]
    spread = colormaps["turbo"]
    return [(tuple(spread(i / (count - 1))), LINE_STYLES[i % len(LINE_STYLES)]) for i in range(count)]


def moving_coordinates(log: EpisodeLog) -> list[int]:
    """Indices (into ``log.coordinate_names``) of the coordinates worth plotting.

    Left out: coordinates locked in the model or in the simulation's current state (e.g. the
    lumbar joint of the gait models), and any whose value never changes during the episode.
    """
    values = log.coordinates
    moving = []
    for j, name in enumerate(log.coordinate_names):
        locked = log.sim.coordinate_locked(name)
        if not locked and np.ptp(values[:, j]) > 0:
            moving.append(j)
    return moving


def _legend_outside(axis: Axes, count: int) -> None:
    """The legend of ``axis`` to the right of it, outside the curves."""
    axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, fontsize="x-small",
                ncols=1 if count <= LEGEND_ROWS else 2)


def plot_episode(log: EpisodeLog, path: str | os.PathLike[str], title: str | None = None) -> Figure:
    """Save a three-panel figure of ``log`` to ``path`` (PNG, PDF or SVG by its suffix); return it.

    Top: the reward of each step and its named terms (``info["reward_terms"]``); middle: rotational
    coordinates in degrees (those that move: see :func:`moving_coordinates`); bottom: muscle
    activations as a heat map (muscles x time, 0 to 1). Every line has its own colour and style
    (:func:`line_styles`); legends stand to the right of their panel.
    """
    if len(log) == 0:
        raise ValueError("the episode log is empty: nothing to plot")
    require_plotting()
    # A bare Figure renders with Agg: no display, and pyplot's global state is left alone.
    from matplotlib.figure import Figure

    times = np.asarray(log.times)
    figure = Figure(figsize=(11, 8), constrained_layout=True)
    rewards_axis, angles_axis, activations_axis = figure.subplots(3, 1, sharex=True)

    rewards = np.asarray(log.rewards)
    stepped = np.isfinite(rewards)  # the first record (after reset) has no reward
    rewards_axis.plot(times[stepped], rewards[stepped], color="black", lw=1.5, label="reward")
    term_names = sorted({name for terms in log.reward_terms for name in terms})
    for name, (color, style) in zip(term_names, line_styles(len(term_names))):
        values = np.array([terms.get(name, np.nan) for terms in log.reward_terms], dtype=float)
        rewards_axis.plot(times, values, lw=1, color=color, linestyle=style, label=name)
    rewards_axis.set_ylabel("reward per step")
    _legend_outside(rewards_axis, len(term_names) + 1)
    rewards_axis.grid(alpha=0.3)

    coordinates = log.coordinates
    angles = [j for j in moving_coordinates(log) if log.coordinate_rotational[j]]
    for j, (color, style) in zip(angles, line_styles(len(angles))):
        angles_axis.plot(times, np.degrees(coordinates[:, j]), lw=1, color=color, linestyle=style,
                         label=log.coordinate_names[j])
    angles_axis.set_ylabel("joint angle (deg)")
    if angles:
        _legend_outside(angles_axis, len(angles))
    angles_axis.grid(alpha=0.3)

    activations = log.activations
    step = times[1] - times[0] if len(times) > 1 else 0.01
    image = activations_axis.imshow(
        activations.T, aspect="auto", origin="lower", cmap="coolwarm", vmin=0.0, vmax=1.0,
        interpolation="nearest", extent=(times[0] - step / 2, times[-1] + step / 2,
                                         -0.5, len(log.muscle_names) - 0.5),
    )
    activations_axis.set_yticks(range(len(log.muscle_names)), log.muscle_names, fontsize="x-small")
    activations_axis.set_xlabel("time (s)")
    figure.colorbar(image, ax=activations_axis, label="activation")
    if title:
        figure.suptitle(title)
    figure.savefig(os.fspath(path), dpi=100)
    return figure

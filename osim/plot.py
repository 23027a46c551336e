"""A picture of an episode (matplotlib, no display): reward terms, joint angles and activations."""
from __future__ import annotations

import os

import numpy as np

from osim._optional import require
from osim.motion import EpisodeLog


def require_plotting() -> None:
    """Raise :class:`osim._optional.MissingExtra` unless matplotlib is installed."""
    require("matplotlib", extra="render", feature="plotting (osim.plot)")


def plot_episode(log: EpisodeLog, path: str | os.PathLike[str], title: str | None = None) -> None:
    """Save a three-panel figure of ``log`` to ``path`` (PNG, PDF or SVG by its suffix).

    Top: the reward of each step and its named terms (``info["reward_terms"]``); middle: rotational
    coordinates in degrees; bottom: muscle activations as a heat map (muscles x time, 0 to 1).
    """
    if len(log) == 0:
        raise ValueError("the episode log is empty: nothing to plot")
    require_plotting()
    # A bare Figure renders with Agg: no display, and pyplot's global state is left alone.
    from matplotlib.figure import Figure

    times = np.asarray(log.times)
    figure = Figure(figsize=(9, 8), constrained_layout=True)
    rewards_axis, angles_axis, activations_axis = figure.subplots(3, 1, sharex=True)

    rewards = np.asarray(log.rewards)
    stepped = np.isfinite(rewards)  # the first record (after reset) has no reward
    rewards_axis.plot(times[stepped], rewards[stepped], color="black", lw=1.5, label="reward")
    term_names = sorted({name for terms in log.reward_terms for name in terms})
    for name in term_names:
        values = np.array([terms.get(name, np.nan) for terms in log.reward_terms], dtype=float)
        rewards_axis.plot(times, values, lw=1, label=name)
    rewards_axis.set_ylabel("reward per step")
    rewards_axis.legend(loc="upper right", fontsize="small", ncols=min(4, len(term_names) + 1))
    rewards_axis.grid(alpha=0.3)

    coordinates = log.coordinates
    for j, name in enumerate(log.coordinate_names):
        if log.coordinate_rotational[j]:
            angles_axis.plot(times, np.degrees(coordinates[:, j]), lw=1, label=name)
    angles_axis.set_ylabel("joint angle (deg)")
    angles_axis.legend(loc="upper right", fontsize="x-small", ncols=3)
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

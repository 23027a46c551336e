"""``render_mode="human"``: OpenSim's own window (the simbody-visualizer), where there is a display.

OpenSim starts the ``simbody-visualizer`` executable when a model is initialised with its visualizer
on, and the integrator redraws it as the simulation advances. Asking for ``render_mode="human"``
without a display is an error (a plain ``visualize=True`` only warns, as the original's scripts pass
it everywhere); on a server use ``render_mode="rgb_array"`` or a virtual display (``xvfb-run``).
"""
from __future__ import annotations

import atexit
import os
import signal
import time
from typing import Any

from osim.engine.display import display_available, simbody_visualizer_path


class DisplayUnavailableError(RuntimeError):
    """``render_mode="human"`` was asked for where no window can be opened."""


def require_visualizer() -> None:
    """Raise :class:`DisplayUnavailableError` unless OpenSim's visualizer can open a window here."""
    if not display_available():
        raise DisplayUnavailableError(
            "render_mode='human' needs a display, and none is available ($DISPLAY and "
            "$WAYLAND_DISPLAY are not set). Use render_mode='rgb_array' for images without a "
            "display (e.g. osim run ENV --gif out.gif), or start a virtual display: "
            "xvfb-run -a python your_script.py"
        )
    if simbody_visualizer_path() is None:
        raise DisplayUnavailableError(
            "render_mode='human' needs OpenSim's simbody-visualizer executable, which this opensim "
            "installation does not have; use render_mode='rgb_array' instead"
        )


def show(sim: Any) -> None:
    """Redraw OpenSim's window with the simulation's current state (e.g. right after a reset)."""
    sim.show_in_visualizer()


def _visualizer_children() -> set[int]:
    """Process ids of this process's live simbody-visualizer children (Linux; elsewhere none)."""
    found: set[int] = set()
    if not os.path.isdir("/proc"):
        return found
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                name, rest = stat.read().split(" (", 1)[1].rsplit(") ", 1)
        except (OSError, ValueError, IndexError):
            continue
        state, parent = rest.split()[:2]
        if int(parent) == me and state != "Z" and name.startswith("simbody-visuali"):
            found.add(int(entry))
    return found


#: Visualizer processes already claimed by an environment of this process.
_claimed: set[int] = set()


def claim_new_visualizers() -> list[int]:
    """The visualizer processes started since the last call (call right after building a model)."""
    new = _visualizer_children() - _claimed
    _claimed.update(new)
    return sorted(new)


def close_visualizers(pids: list[int]) -> None:
    """End these visualizer processes (the window closes) and reap them.

    OpenSim gives no way to do this: Simbody's ``shutdown()`` leaves the process running, and it
    outlives Python (keeping a terminal or a CI job waiting on its output).
    """
    for pid in pids:
        _claimed.discard(pid)
        if pid not in _visualizer_children():
            continue  # already gone, or not ours any more
        try:
            os.kill(pid, signal.SIGTERM)
            for _ in range(50):
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    break
                time.sleep(0.02)
        except (ProcessLookupError, ChildProcessError):
            pass


# Environments that were never closed still take their windows with them.
atexit.register(lambda: close_visualizers(sorted(_claimed)))

"""Whether OpenSim's external simbody-visualizer can be used here."""
from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import opensim

_warned = False


def simbody_visualizer_path() -> Path | None:
    """The simbody-visualizer executable shipped with the opensim package, if any."""
    candidate = Path(opensim.__file__).parent / (
        "simbody-visualizer.exe" if sys.platform == "win32" else "simbody-visualizer"
    )
    return candidate if candidate.exists() else None


def display_available() -> bool:
    """True where a window can be opened: Windows and macOS always, Linux with $DISPLAY or Wayland."""
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def visualizer_usable(requested: bool) -> bool:
    """Decide whether to switch OpenSim's visualizer on.

    Without a display (or without the visualizer executable) a requested visualizer is refused with
    one warning per process and the simulation runs headless: the original's README snippets pass
    ``visualize=True`` and must not hang or crash on a server.
    """
    global _warned
    if not requested:
        return False
    reason = None
    if not display_available():
        reason = "no display ($DISPLAY is not set)"
    elif simbody_visualizer_path() is None:
        reason = "the opensim package has no simbody-visualizer executable"
    if reason is None:
        return True
    if not _warned:
        warnings.warn(
            f"visualize=True ignored: {reason}; running headless. "
            "Use render_mode='rgb_array' to get images without a display.",
            RuntimeWarning,
            stacklevel=3,
        )
        _warned = True
    return False

"""Seeing the body: headless images (:class:`Renderer`), GIF/MP4 recording and the human viewer.

``Renderer(env).render()`` returns an ``(H, W, 3)`` ``uint8`` image of the current state without a
display or GPU; ``OsimEnv.render()`` uses it for ``render_mode="rgb_array"``. See docs/rendering.md.
"""
from typing import Any

from .camera import CAMERAS, Camera
from .colors import activation_color

__all__ = ["CAMERAS", "Camera", "Renderer", "activation_color"]


def __getattr__(name: str) -> Any:
    """``Renderer`` is imported on first use: it needs Pillow (the 'render' extra), the human viewer
    (:mod:`osim.render.human`) does not."""
    if name == "Renderer":
        from .renderer import Renderer

        return Renderer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

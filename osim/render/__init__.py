"""Seeing the body: headless images (:class:`Renderer`), GIF/MP4 recording and the human viewer.

``Renderer(env).render()`` returns an ``(H, W, 3)`` ``uint8`` image of the current state without a
display or GPU; ``OsimEnv.render()`` uses it for ``render_mode="rgb_array"``. See docs/rendering.md.
"""
from .camera import CAMERAS, Camera
from .colors import activation_color
from .renderer import Renderer

__all__ = ["CAMERAS", "Camera", "Renderer", "activation_color"]

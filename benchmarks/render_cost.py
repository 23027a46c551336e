"""Rendering cost: CPU time of a headless frame (each camera) against the step it records.

Used by ``python benchmarks/run_suite.py render``.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from osim.bench import load_ours


def render_cost(env: str, steps: int, cameras: Sequence[str] = ("side", "three_quarter"),
                width: int = 480, height: int = 360, seed: int = 0) -> dict[str, Any]:
    """CPU ms per step and per rendered frame (each camera) of ``env`` under random excitations.

    Recording every step costs ``frame / step`` on top of the simulation; the frame is drawn by
    :class:`osim.render.Renderer` exactly as ``render_mode="rgb_array"`` and ``osim run --gif`` do.
    """
    import numpy as np

    from osim.render import Renderer

    instance = load_ours(env)(visualize=False)
    renderers = {camera: Renderer(instance, camera=camera, width=width, height=height) for camera in cameras}
    rng = np.random.default_rng(seed)
    instance.reset()
    for renderer in renderers.values():
        frame = renderer.render()  # framing and background are set up on the first frame
    step_seconds = 0.0
    frame_seconds = dict.fromkeys(cameras, 0.0)
    for _ in range(steps):
        start = time.process_time()
        _, _, done, _ = instance.step(rng.random(instance.get_action_space_size()))
        step_seconds += time.process_time() - start
        for camera, renderer in renderers.items():
            start = time.process_time()
            frame = renderer.render()
            frame_seconds[camera] += time.process_time() - start
        if done:
            instance.reset()
    step_ms = 1e3 * step_seconds / steps
    return {
        "env": env, "steps": steps, "width": width, "height": height, "frame_shape": list(frame.shape),
        "cpu_ms_per_step": step_ms,
        "cpu_ms_per_frame": {camera: 1e3 * s / steps for camera, s in frame_seconds.items()},
        "frame_over_step": {camera: 1e3 * s / steps / step_ms for camera, s in frame_seconds.items()},
    }

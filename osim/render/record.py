"""Writing frames to GIF and MP4 files (imageio; MP4 through the ffmpeg of ``imageio-ffmpeg``).

:class:`VideoRecorder` takes frames one at a time and writes any of the two formats at once::

    with VideoRecorder(gif="episode.gif", mp4="episode.mp4", fps=100) as recorder:
        for _ in range(steps):
            env.step(action)
            recorder.add(renderer.render())

MP4 frames are streamed to ffmpeg. GIF frames are kept (palettised, one byte per pixel) until
:meth:`VideoRecorder.close`, because a GIF's palette and frame table are written at the end.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Self

import numpy as np

from osim._optional import require

#: GIF delays are whole centiseconds and browsers slow anything under 2 cs down to 10 cs, so GIFs
#: play at most at 50 frames per second (an episode of 0.01 s steps plays at half speed).
GIF_MAX_FPS = 50.0


def require_recording(gif: bool, mp4: bool) -> None:
    """Raise :class:`osim._optional.MissingExtra` unless the packages for these formats are installed."""
    if gif:
        require("PIL", extra="render", feature="writing GIFs")
    if mp4:
        require("imageio", "imageio_ffmpeg", extra="render", feature="writing MP4s")


def _check_frame(frame: Any) -> np.ndarray:
    array = np.asarray(frame)
    if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8:
        raise ValueError(
            f"a frame must be an (height, width, 3) uint8 RGB array, got shape {array.shape} "
            f"and dtype {array.dtype}"
        )
    return array


class VideoRecorder:
    """Collects frames and writes them as a GIF and/or an MP4.

    Args:
        gif: path of the GIF to write, or None.
        mp4: path of the MP4 to write (H.264), or None.
        fps: frames per second of the simulation (100 for 0.01 s steps). The MP4 plays in real
            time; the GIF at ``min(fps, 50)`` frames per second (see :data:`GIF_MAX_FPS`).
    """

    def __init__(self, gif: str | os.PathLike[str] | None = None,
                 mp4: str | os.PathLike[str] | None = None, fps: float = 100.0) -> None:
        if gif is None and mp4 is None:
            raise ValueError("VideoRecorder needs a gif or an mp4 path (or both)")
        if not (fps > 0 and np.isfinite(fps)):
            raise ValueError(f"fps must be a positive number, got {fps!r}")
        self.gif_path = Path(gif) if gif is not None else None
        self.mp4_path = Path(mp4) if mp4 is not None else None
        for path, suffix in ((self.gif_path, ".gif"), (self.mp4_path, ".mp4")):
            if path is not None and path.suffix.lower() != suffix:
                raise ValueError(f"expected a {suffix} file name, got {str(path)!r}")
        require_recording(gif is not None, mp4 is not None)
        self.fps = float(fps)
        self.frame_count = 0
        self._gif_frames: list[Any] = []
        self._mp4_writer: Any = None
        self._shape: tuple[int, ...] | None = None

    def add(self, frame: Any) -> None:
        """Append one ``(H, W, 3)`` ``uint8`` frame (all frames must have the same size)."""
        array = _check_frame(frame)
        if self._shape is None:
            self._shape = array.shape
        elif array.shape != self._shape:
            raise ValueError(f"every frame must have shape {self._shape}, got {array.shape}")
        if self.gif_path is not None:
            from PIL import Image

            # A fast adaptive palette per frame: the renderer uses few colours.
            image = Image.fromarray(np.ascontiguousarray(array))
            self._gif_frames.append(image.quantize(colors=255, method=Image.Quantize.FASTOCTREE))
        if self.mp4_path is not None:
            if self._mp4_writer is None:
                self._mp4_writer = self._open_mp4()
            self._mp4_writer.append_data(array)
        self.frame_count += 1

    def _open_mp4(self) -> Any:
        import imageio.v2 as imageio  # require_recording checked it and imageio_ffmpeg (the ffmpeg binary)
        assert self.mp4_path is not None
        self.mp4_path.parent.mkdir(parents=True, exist_ok=True)
        # yuv420p (what players expect) needs even sizes; odd ones are padded by one pixel.
        return imageio.get_writer(
            self.mp4_path, format="FFMPEG", mode="I", fps=self.fps, codec="libx264",
            pixelformat="yuv420p", macro_block_size=2, quality=7, ffmpeg_log_level="error",
        )

    def close(self) -> None:
        """Finish the files (the GIF is written here)."""
        if self._mp4_writer is not None:
            self._mp4_writer.close()
            self._mp4_writer = None
        if self.gif_path is not None and self._gif_frames:
            self.gif_path.parent.mkdir(parents=True, exist_ok=True)
            duration_ms = 1000.0 / min(self.fps, GIF_MAX_FPS)
            first, *rest = self._gif_frames
            # Identical consecutive frames are merged by Pillow (their delays add up); the
            # renderer's time stamp keeps every simulation frame distinct.
            first.save(self.gif_path, save_all=True, append_images=rest, duration=duration_ms,
                       loop=0, optimize=False, disposal=1)
            self._gif_frames = []

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_gif(frames: Any, path: str | os.PathLike[str], fps: float = 100.0) -> None:
    """Write a sequence of frames as a GIF."""
    with VideoRecorder(gif=path, fps=fps) as recorder:
        for frame in frames:
            recorder.add(frame)


def write_mp4(frames: Any, path: str | os.PathLike[str], fps: float = 100.0) -> None:
    """Write a sequence of frames as an H.264 MP4."""
    with VideoRecorder(mp4=path, fps=fps) as recorder:
        for frame in frames:
            recorder.add(frame)

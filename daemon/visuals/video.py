"""Offline footage: a recorded run through the scenes (EGL, no display) to an MP4 or a PNG sequence."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from daemon.config import LoadedConfig
from daemon.recording.reader import Recording
from daemon.senses.timeline import Timeline, footage_seconds
from daemon.visuals.director import VisualDirector
from daemon.visuals.headless import HeadlessCanvas

__all__ = ["render_frames", "render_video"]


def render_frames(
    recording: Recording,
    loaded: LoadedConfig,
    scenes: list[str],
    width: int,
    height: int,
    fps: float,
    seconds: float | None = None,
) -> Iterator[tuple[int, int, np.ndarray]]:
    """Yield (frames done, frames in all, RGB image) with the scenes side by side, each width × height.

    The run's timeline (frames at their recorded times, from black and back to it) drives the
    director frame by frame.
    """
    video = loaded.config.video
    frames = list(recording.frames())
    if not frames:
        raise ValueError(f"{recording.folder} holds no frames to render")
    if seconds is None:  # as long as the sound's render of the same run
        seconds = footage_seconds(frames, loaded.config.audio.run_fade_out_seconds, video.fade_seconds)
    timeline = Timeline(frames, video.fade_seconds, video.fade_seconds, seconds)
    director = VisualDirector(loaded.config.mapping, video)
    canvas = HeadlessCanvas(loaded.shaders_path, width, height)
    try:
        for done, total in timeline.play(director, 1.0 / fps):
            yield done, total, np.concatenate([canvas.draw(scene, director) for scene in scenes], axis=1)
    finally:
        canvas.release()


def render_video(
    recording: Recording,
    loaded: LoadedConfig,
    out: Path,
    scenes: list[str],
    width: int,
    height: int,
    fps: float,
    progress: Callable[[int, int], None] | None = None,
    seconds: float | None = None,
) -> Path:
    """`out` ending in .mp4: H.264 (yuv420p, CRF 18) through PyAV; anything else: a folder of PNGs."""
    pictures = render_frames(recording, loaded, scenes, width, height, fps, seconds)
    if out.suffix.lower() == ".mp4":
        _write_mp4(pictures, out, fps, progress)
    else:
        out.mkdir(parents=True, exist_ok=True)
        for done, total, image in pictures:
            Image.fromarray(image).save(out / f"frame-{done:06d}.png", compress_level=1)
            if progress:
                progress(done, total)
    return out


def _write_mp4(pictures, out: Path, fps: float, progress) -> None:
    import fractions

    import av

    partial = out.with_name(out.name + ".partial.mp4")
    with av.open(str(partial), "w") as container:
        stream = None
        for done, total, image in pictures:
            if stream is None:
                stream = container.add_stream("libx264", rate=fractions.Fraction(fps).limit_denominator(1000))
                stream.height, stream.width = image.shape[0] // 2 * 2, image.shape[1] // 2 * 2
                stream.pix_fmt = "yuv420p"
                stream.options = {"crf": "18", "preset": "veryfast"}
            even = np.ascontiguousarray(image[: stream.height, : stream.width])
            container.mux(stream.encode(av.VideoFrame.from_ndarray(even, format="rgb24")))
            if progress:
                progress(done, total)
        if stream is not None:
            container.mux(stream.encode())
    partial.replace(out)

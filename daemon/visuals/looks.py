"""What a projector shows, looked at every few seconds: a small thumbnail, how much it changed, how bright it is."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import moderngl
import numpy as np
from PIL import Image

__all__ = ["LOOK_EVERY_SECONDS", "THUMBNAIL_SIZE", "Look", "Looker"]

THUMBNAIL_SIZE = (160, 90)
LOOK_EVERY_SECONDS = 2.0
JPEG_QUALITIES = (70, 45, 25)  # the first that fits THUMBNAIL_BYTES: noise compresses badly
THUMBNAIL_BYTES = 6_000  # a few KB on every heartbeat


@dataclass(frozen=True)
class Look:
    """`change`: mean absolute difference (0–255) from the previous look (None at first); `mean`: brightness 0–255."""

    change: float | None
    mean: float
    jpeg_base64: str


class Looker:
    """Presents the frame a second time into a thumbnail-sized framebuffer (the same crop, rotation and
    brightness, downscaled by the GPU's sampling) and reads those few pixels back: 43 KB, not a 1080p frame."""

    def __init__(self, ctx: moderngl.Context):
        self.framebuffer = ctx.simple_framebuffer(THUMBNAIL_SIZE, components=3)
        self.previous: np.ndarray | None = None

    def look(self, present) -> Look:
        """`present(framebuffer)` draws the frame into the framebuffer it is given."""
        present(self.framebuffer)
        width, height = THUMBNAIL_SIZE
        pixels = np.frombuffer(self.framebuffer.read(components=3), np.uint8).reshape(height, width, 3)[::-1]
        signed = pixels.astype(np.int16)
        change = None if self.previous is None else round(float(np.abs(signed - self.previous).mean()), 3)
        self.previous = signed
        return Look(change, round(float(pixels.mean()), 2), _jpeg(pixels))

    def release(self) -> None:
        self.framebuffer.release()


def _jpeg(pixels: np.ndarray) -> str:
    picture = Image.fromarray(np.ascontiguousarray(pixels))
    for quality in JPEG_QUALITIES:
        buffer = io.BytesIO()
        picture.save(buffer, "JPEG", quality=quality)
        if buffer.tell() <= THUMBNAIL_BYTES:
            break
    return base64.b64encode(buffer.getvalue()).decode("ascii")

"""What a projector shows, looked at every few seconds: a small thumbnail, how much it changed, how bright it is."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from enum import Enum

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


class _Stage(Enum):
    IDLE = "idle"
    DRAWN = "drawn"  # the thumbnail is drawn (or being drawn) with the frame
    COPIED = "copied"  # its pixels are on their way into the buffer


class Looker:
    """Presents the frame a second time into a thumbnail-sized framebuffer (the same crop, rotation and
    brightness, downscaled by the GPU's sampling) and reads those few pixels back: 43 KB, not a 1080p frame.

    A projector never waits for it: `begin(present)` draws the thumbnail after a frame; `advance()`,
    called before each of the next frames is drawn, copies it into a buffer at the first (a pixel
    buffer: on a GPU an asynchronous copy; on llvmpipe the thumbnail is finished by then and no
    frame is queued, so nothing is flushed) and maps and judges it at the second, returning the
    Look. Reading back in the frame itself would flush that frame's drawing and wait for it.
    `look(present)` does it all at once, waiting (tests, one-off looks).
    """

    def __init__(self, ctx: moderngl.Context):
        width, height = THUMBNAIL_SIZE
        self.framebuffer = ctx.simple_framebuffer(THUMBNAIL_SIZE, components=3)
        self.buffer = ctx.buffer(reserve=width * height * 3)
        self.stage = _Stage.IDLE
        self.previous: np.ndarray | None = None

    def begin(self, present) -> None:
        """`present(framebuffer)` draws the frame into the framebuffer it is given; the Look follows two
        `advance()` calls later. A look begun while another is under way replaces it."""
        present(self.framebuffer)
        self.stage = _Stage.DRAWN

    def advance(self) -> Look | None:
        """Call before drawing each frame: the look under way moves one step; at its last, it is returned."""
        if self.stage is _Stage.DRAWN:
            self.framebuffer.read_into(self.buffer, components=3)
            self.stage = _Stage.COPIED
        elif self.stage is _Stage.COPIED:
            self.stage = _Stage.IDLE
            return self._judge(self.buffer.read())
        return None

    def look(self, present) -> Look:
        """Draw, read back and judge at once (waits for the GPU)."""
        present(self.framebuffer)
        self.stage = _Stage.IDLE
        return self._judge(self.framebuffer.read(components=3))

    def _judge(self, data: bytes) -> Look:
        width, height = THUMBNAIL_SIZE
        pixels = np.frombuffer(data, np.uint8).reshape(height, width, 3)[::-1]
        signed = pixels.astype(np.int16)
        change = None if self.previous is None else round(float(np.abs(signed - self.previous).mean()), 3)
        self.previous = signed
        return Look(change, round(float(pixels.mean()), 2), _jpeg(pixels))

    def release(self) -> None:
        self.framebuffer.release()
        self.buffer.release()


def _jpeg(pixels: np.ndarray) -> str:
    picture = Image.fromarray(np.ascontiguousarray(pixels))
    for quality in JPEG_QUALITIES:
        buffer = io.BytesIO()
        picture.save(buffer, "JPEG", quality=quality)
        if buffer.tell() <= THUMBNAIL_BYTES:
            break
    return base64.b64encode(buffer.getvalue()).decode("ascii")

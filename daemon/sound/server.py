"""A pyo server in manual mode: we call process() per block and read the interleaved output."""

from __future__ import annotations

import ctypes
import os

import numpy as np

os.environ.setdefault("PYO_GUI_WX", "0")
import pyo  # after PYO_GUI_WX: no wx chatter on import

__all__ = ["ManualServer", "pyo"]


class ManualServer:
    """Boots pyo without an audio device (duplex=0, audio='manual'): no sound card needed.

    `block()` renders one block and returns a view (frames, channels) that the next call
    overwrites: copy it if you keep it. The same seed and block size give the same samples.
    """

    def __init__(self, channels: int, sample_rate_hz: int, block_frames: int, seed: int):
        self.channels, self.sample_rate_hz, self.block_frames = channels, sample_rate_hz, block_frames
        self.server = pyo.Server(sr=sample_rate_hz, nchnls=channels, buffersize=block_frames, duplex=0, audio="manual")
        self.server.setVerbosity(1)
        self.server.boot()
        self.server.setGlobalSeed(seed)
        self.server.start()
        address = int(self.server.getOutputAddr(), 16)
        raw = (ctypes.c_float * (block_frames * channels)).from_address(address)
        self._out = np.ctypeslib.as_array(raw).reshape(block_frames, channels)

    @property
    def block_seconds(self) -> float:
        return self.block_frames / self.sample_rate_hz

    def block(self) -> np.ndarray:
        self.server.process()
        return self._out

    def close(self) -> None:
        self.server.stop()
        self.server.shutdown()

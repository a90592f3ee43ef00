"""The overall noise floor: pink noise through a low-pass."""

from __future__ import annotations

from daemon.sound.server import pyo

__all__ = ["NoiseFloor"]


class NoiseFloor:
    def __init__(self, level, cutoff_hz):
        self.output = pyo.ButLP(pyo.PinkNoise(), freq=cutoff_hz, mul=level * 0.5)

"""The overall noise floor: pink noise through a low-pass."""

from __future__ import annotations

from daemon.sound.server import pyo

__all__ = ["NoiseFloor"]


class NoiseFloor:
    """`noise` (pink) through a low-pass at `cutoff_hz`."""

    def __init__(self, level, cutoff_hz, noise):
        self.output = pyo.ButLP(noise, freq=cutoff_hz, mul=level * 0.5)

"""Placing a mono layer on the ring of speakers: position, rotation and spread from [space]."""

from __future__ import annotations

from daemon.config.schema import SpaceLayer
from daemon.sound.server import pyo

__all__ = ["spatialise"]


def spatialise(mono, channels: int, layout: SpaceLayer):
    """`channels` streams of `mono`, panned around the ring (pyo's Pan is circular)."""
    position = pyo.Phasor(freq=layout.rotation_hz, phase=layout.position)
    return pyo.Pan(mono, outs=channels, pan=position, spread=layout.spread)

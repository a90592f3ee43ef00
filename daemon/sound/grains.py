"""The granular cloud over the drone material: density, grain length, read position, pitch spread."""

from __future__ import annotations

from daemon.sound.server import pyo

__all__ = ["GranularCloud"]

# Each grain samples the scatter and the transposition once, at its start. Random values held for
# 0.5 ms are as good as white noise to grains that start at most 200 times a second, and cost
# one random number per hold rather than one per sample (pyo's random numbers are dear).
DRAWS_HZ = 2000.0


class GranularCloud:
    """Grains read from `table`; position_jitter 0 reads the same spot every time: a stuck loop.

    `key` transposes every grain with the drone's drift (a ratio, 1 = the material's own pitch).
    """

    def __init__(self, table, level, density, duration_seconds, position, position_jitter, pitch_spread, key):
        size = table.getSize()
        scatter = pyo.Randh(min=-0.99, max=0.99, freq=DRAWS_HZ, mul=position_jitter * 0.5)
        pointer = pyo.Clip((position + scatter) * size, min=0, max=size - 1)
        pitch = pyo.Pow(2.0, pyo.Randh(min=-0.99, max=0.99, freq=DRAWS_HZ, mul=pitch_spread), mul=key)
        envelope = pyo.HannTable()
        self.particles = pyo.Particle(
            table, envelope, dens=density, pitch=pitch, pos=pointer, dur=duration_seconds, dev=0.0, chnls=1
        )
        self.output = pyo.Mix(self.particles, voices=1, mul=level * 0.5)

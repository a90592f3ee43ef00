"""The organ drone: nine drawbar pipes, each with a detuned twin that beats, and wind in the pipes."""

from __future__ import annotations

import numpy as np

from daemon.sound.server import pyo

__all__ = ["Organ", "RecordedDrone", "organ_material"]

# Hammond footages 16', 5⅓', 8', 4', 2⅔', 2', 1⅗', 1⅓', 1' as ratios of 8'; the first four are
# the body, the rest is what `brightness` pulls out.
DRAWBAR_RATIOS = (0.5, 1.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0)
DRAWBAR_LEVELS = (0.7, 0.35, 1.0, 0.6, 0.45, 0.4, 0.3, 0.25, 0.2)
BODY = 4


class Organ:
    """A mono organ on `fundamental_hz` ([audio]) × `pitch` (the key's drift), driven by level, brightness,
    beating (Hz) and wind (0–1) signals."""

    def __init__(self, fundamental_hz: float, pitch, level, brightness, beating_hz, wind):
        freqs = [pitch * (fundamental_hz * 2 * r) for r in DRAWBAR_RATIOS]
        levels = [lvl if i < BODY else brightness * lvl for i, lvl in enumerate(DRAWBAR_LEVELS)]
        scale = 0.5 / sum(DRAWBAR_LEVELS)
        self.pipes = pyo.Sine(freq=freqs, mul=[lvl * scale for lvl in levels])
        # Each twin drifts by beating × (harmonic ratio): the higher the pipe, the faster it beats.
        self.twins = pyo.Sine(
            freq=[f + beating_hz * r for f, r in zip(freqs, DRAWBAR_RATIOS, strict=True)],
            mul=[lvl * scale for lvl in levels],
        )
        breath = pyo.ButBP(pyo.PinkNoise(), freq=pitch * (fundamental_hz * 8), q=1.5, mul=wind * 0.4)
        wobble = pyo.Sine(freq=0.13, mul=0.15, add=0.85)
        self.output = pyo.Mix([self.pipes, self.twins, breath], voices=1, mul=level * wobble)


class RecordedDrone:
    """The artist's drone recording, looped at its own pitch beside the organ; `brightness` opens its low-pass."""

    def __init__(self, table, level, brightness):
        self.loop = pyo.Osc(table, freq=table.getRate(), interp=2)
        cutoff = pyo.Scale(brightness, outmin=300.0, outmax=12_000.0, exp=3.0)
        self.output = pyo.ButLP(self.loop, freq=cutoff, mul=level * 0.5)


def organ_material(sample_rate_hz: int, seconds: float, seed: int, fundamental_hz: float) -> np.ndarray:
    """A few seconds of organ tone with beating and breath, in numpy: the grains' source material."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(sample_rate_hz * seconds)) / sample_rate_hz
    tone = np.zeros_like(t)
    for ratio, level in zip(DRAWBAR_RATIOS, DRAWBAR_LEVELS, strict=True):
        freq = fundamental_hz * 2 * ratio
        tone += level * (np.sin(2 * np.pi * freq * t) + np.sin(2 * np.pi * (freq + 0.7 * ratio) * t))
    breath = np.convolve(rng.standard_normal(t.size), np.ones(24) / 24, mode="same")
    tone = tone / np.abs(tone).max() * 0.8 + 0.1 * breath
    return (tone / np.abs(tone).max() * 0.9).astype(np.float32)

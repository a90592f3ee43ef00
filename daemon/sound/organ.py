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
TABLE_POINTS = 8192  # the highest pipe (harmonic 16) has 512 points a period: linear reading stays below −90 dB
MATERIAL_PERIOD_POINTS = 1 << 16  # the same, in float64, 140 dB down
# The wind reads the shared pink noise this late: long after the band-passed noise has forgotten itself
# (≈ 3 ms), so the breath and the noise floor stay uncorrelated, as with a generator each.
BREATH_DELAY_SECONDS = 0.05


def _pipe_table(pipes: range) -> pyo.HarmTable:
    """One period of the given drawbars as harmonics of the 16' pipe (harmonic = 2 × ratio), at their levels."""
    harmonics = [0.0] * int(2 * max(DRAWBAR_RATIOS))
    for i in pipes:
        harmonics[int(2 * DRAWBAR_RATIOS[i]) - 1] = DRAWBAR_LEVELS[i]
    return pyo.HarmTable(harmonics, size=TABLE_POINTS)


class Organ:
    """A mono organ on `fundamental_hz` ([audio]) × `pitch` (the key's drift), driven by level, brightness,
    beating (Hz) and wind (0–1) signals; `noise` is the pink noise its wind blows (shared with the floor).

    Every pipe is a whole harmonic of the 16' pipe, and every twin (pipe + beating × ratio) a whole
    harmonic of the 16' twin (16' + beating / 2): so the pipes are one wavetable and the twins the
    same table a little faster, rather than eighteen sines. Body and bright pipes are two tables
    because `brightness` scales only the latter.
    """

    def __init__(self, fundamental_hz: float, pitch, level, brightness, beating_hz, wind, noise):
        self.tables = [_pipe_table(range(BODY)), _pipe_table(range(BODY, len(DRAWBAR_RATIOS)))]
        scale = 0.5 / sum(DRAWBAR_LEVELS)
        low = pitch * fundamental_hz
        twin = low + beating_hz * 0.5
        self.pipes = pyo.Osc(self.tables * 2, freq=[low, low, twin, twin], mul=[scale, brightness * scale] * 2)
        self.air = pyo.SDelay(noise, delay=BREATH_DELAY_SECONDS, maxdelay=BREATH_DELAY_SECONDS)
        breath = pyo.ButBP(self.air, freq=pitch * (fundamental_hz * 8), q=1.5, mul=wind * 0.4)
        wobble = pyo.Sine(freq=0.13, mul=0.15, add=0.85)
        self.output = pyo.Mix([self.pipes, breath], voices=1, mul=level * wobble)


class RecordedDrone:
    """The artist's drone recording, looped at its own pitch beside the organ; `brightness` opens its low-pass."""

    def __init__(self, table, level, brightness):
        self.loop = pyo.Osc(table, freq=table.getRate(), interp=2)
        cutoff = pyo.Scale(brightness, outmin=300.0, outmax=12_000.0, exp=3.0)
        self.output = pyo.ButLP(self.loop, freq=cutoff, mul=level * 0.5)


def organ_material(sample_rate_hz: int, seconds: float, seed: int, fundamental_hz: float) -> np.ndarray:
    """A few seconds of organ tone with beating and breath, in numpy: the grains' source material.

    The same pipes as the Organ's (twins 0.7 Hz × ratio up), read from one period of them: eighteen
    sines over the whole material were most of the engine's start-up, and a render's first tenth of a second.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(int(sample_rate_hz * seconds)) / sample_rate_hz
    x = np.linspace(0.0, 1.0, MATERIAL_PERIOD_POINTS + 1)
    period = sum(
        level * np.sin(2 * np.pi * 2 * ratio * x) for ratio, level in zip(DRAWBAR_RATIOS, DRAWBAR_LEVELS, strict=True)
    )
    tone = sum(np.interp((low * t) % 1.0, x, period) for low in (fundamental_hz, fundamental_hz + 0.35))
    breath = np.convolve(rng.standard_normal(t.size), np.ones(24) / 24, mode="same")
    tone = tone / np.abs(tone).max() * 0.8 + 0.1 * breath
    return (tone / np.abs(tone).max() * 0.9).astype(np.float32)

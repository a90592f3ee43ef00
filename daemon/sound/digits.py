"""The digit layer: ten voices, one per digit class, each loud as the share of samples that look like it."""

from __future__ import annotations

import numpy as np

from daemon.config.schema import Digits, SpaceLayer
from daemon.sound.server import pyo
from daemon.sound.space import Placement

__all__ = ["DigitVoices", "contrasted", "digit_frequencies"]

TWIN_BEAT_HZ = 0.35  # each voice is a pair of sines this far apart: a slow shimmer, not a test tone
VOICE_GAIN = 0.06  # per sine: ten voices at full level stay below the organ's loudest
SILENT_FLOOR = 1e-6  # added to the loudest voice's level before dividing by it


def digit_frequencies(digits: Digits, fundamental_hz: float) -> list[float]:
    """The ten pitches in Hz, digit 0 first: the artist's frequencies, else intervals over the fundamental."""
    if digits.frequencies_hz:
        return list(digits.frequencies_hz)
    return [fundamental_hz * 2.0 ** (interval / 12.0) for interval in digits.intervals_semitones]


class DigitVoices:
    """Ten voices on `channels` speakers (`output`); voice d stands d/10 of the ring after `layout.position`.

    `voices` are ten level signals (0–1), `level` scales them all, `pitch` is the key's ratio to
    the configured fundamental (the drift), so every voice moves with the drone.

    The voices share one spread and one rotation, so they are one Placement of ten sources (a
    pyo.Mixer turned at control rate), not a Placement each: ten were eighty gain oscillators.
    """

    def __init__(self, frequencies_hz: list[float], voices: list, level, pitch, channels: int, layout: SpaceLayer):
        # A pair of sines f and f + b is one sine at f + b/2 under 2·cos(π b t), and that cosine is the same
        # for every voice: so one sine a voice, and the shimmer (with `level`) on the mix, half the oscillators.
        self.tones = [
            pyo.Sine(freq=pitch * f + TWIN_BEAT_HZ / 2, mul=voice)
            for f, voice in zip(frequencies_hz, voices, strict=True)
        ]
        self.shimmer = pyo.Sine(freq=TWIN_BEAT_HZ / 2, phase=0.25, mul=level * (2 * VOICE_GAIN))
        offsets = [digit / len(voices) for digit in range(len(voices))]
        self.placement = Placement(self.tones, channels, layout, offsets, mul=self.shimmer)
        self.output = self.placement.output


def contrasted(levels: np.ndarray, contrast: float) -> np.ndarray:
    """Each voice × (it / the loudest) ^ contrast: the loudest keeps its level, the rest fall back.

    Computed on the voices' targets at control rate (each then glides there as every parameter does),
    not on the audio: ten Pow and a Max chain per sample cost more than the voices themselves.
    """
    if contrast == 0.0:
        return levels
    return levels * (levels / (levels.max() + SILENT_FLOOR)) ** contrast

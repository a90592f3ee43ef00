"""The digit layer: ten voices, one per digit class, each loud as the share of samples that look like it."""

from __future__ import annotations

import numpy as np

from daemon.config.schema import Digits, SpaceLayer
from daemon.sound.server import pyo
from daemon.sound.space import ring_gains

__all__ = ["DigitVoices", "contrasted", "digit_frequencies"]

TWIN_BEAT_HZ = 0.35  # each voice is a pair of sines this far apart: a slow shimmer, not a test tone
VOICE_GAIN = 0.06  # per sine: ten voices at full level stay below the organ's loudest
SILENT_FLOOR = 1e-6  # added to the loudest voice's level before dividing by it
GAIN_GLIDE_SECONDS = 0.05  # the matrix glides between two turns of the ring (30 Hz live, one block offline)


def digit_frequencies(digits: Digits, fundamental_hz: float) -> list[float]:
    """The ten pitches in Hz, digit 0 first: the artist's frequencies, else intervals over the fundamental."""
    if digits.frequencies_hz:
        return list(digits.frequencies_hz)
    return [fundamental_hz * 2.0 ** (interval / 12.0) for interval in digits.intervals_semitones]


class DigitVoices:
    """Ten voices on `channels` speakers (`output`); voice d stands d/10 of the ring after `layout.position`.

    `voices` are ten level signals (0–1), `level` scales them all, `pitch` is the key's ratio to
    the configured fundamental (the drift), so every voice moves with the drone.

    The voices share one spread and one rotation, so they are placed by one pyo.Mixer (ten inputs,
    a gain to each speaker from the layers' own equal-power law, ring_gains) rather than a Placement
    each: ten Placements were eighty gain oscillators, a third of an offline render's time. The
    rotation is slow (turns a minute), so `turn(seconds)` moves the matrix at control rate.
    """

    def __init__(self, frequencies_hz: list[float], voices: list, level, pitch, channels: int, layout: SpaceLayer):
        self.tones = [
            pyo.Sine(freq=[pitch * f, pitch * f + TWIN_BEAT_HZ], mul=voice * level * VOICE_GAIN)
            for f, voice in zip(frequencies_hz, voices, strict=True)
        ]
        self.monos = [pyo.Mix(tone, voices=1) for tone in self.tones]
        self.mixer = pyo.Mixer(outs=channels, chnls=1, time=GAIN_GLIDE_SECONDS)
        for digit, mono in enumerate(self.monos):
            self.mixer.addInput(digit, mono)
        self.layout, self.channels, self.turned = layout, channels, 0.0
        # Voice d's offset from speaker k, at no rotation: d/10 after the position, k/channels round the ring.
        self.offsets = (
            layout.position + np.arange(len(voices))[:, None] / len(voices) - np.arange(channels)[None, :] / channels
        )
        self._place()
        # pyo's arithmetic takes a Mixer only on its left: as one channels-stream signal it sums like a layer.
        self.output = self.mixer * 1.0

    def turn(self, seconds: float) -> None:
        """`seconds` have passed: the ring has turned by rotation_hz × seconds."""
        if self.layout.rotation_hz:
            self.turned = (self.turned + self.layout.rotation_hz * seconds) % 1.0
            self._place()

    def _place(self) -> None:
        gains = ring_gains((self.offsets + self.turned) % 1.0, self.layout.spread, self.channels)
        for digit, row in enumerate(gains):
            for speaker, gain in enumerate(row):
                self.mixer.setAmp(digit, speaker, float(gain))


def contrasted(levels: np.ndarray, contrast: float) -> np.ndarray:
    """Each voice × (it / the loudest) ^ contrast: the loudest keeps its level, the rest fall back.

    Computed on the voices' targets at control rate (each then glides there as every parameter does),
    not on the audio: ten Pow and a Max chain per sample cost more than the voices themselves.
    """
    if contrast == 0.0:
        return levels
    return levels * (levels / (levels.max() + SILENT_FLOOR)) ** contrast

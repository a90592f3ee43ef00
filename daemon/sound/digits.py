"""The digit layer: ten voices, one per digit class, each loud as the share of samples that look like it."""

from __future__ import annotations

from daemon.config.schema import Digits, SpaceLayer
from daemon.sound.server import pyo
from daemon.sound.space import Placement

__all__ = ["DigitVoices", "digit_frequencies"]

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
    """

    def __init__(
        self,
        frequencies_hz: list[float],
        voices: list,
        level,
        pitch,
        channels: int,
        layout: SpaceLayer,
        contrast: float = 0.0,
    ):
        self.tones = [
            pyo.Sine(freq=[pitch * f, pitch * f + TWIN_BEAT_HZ], mul=voice * level * VOICE_GAIN)
            for f, voice in zip(frequencies_hz, _contrasted(voices, contrast), strict=True)
        ]
        self.placements = [
            Placement(
                pyo.Mix(tone, voices=1),
                channels,
                layout.model_copy(update={"position": (layout.position + digit / len(voices)) % 1.0}),
            )
            for digit, tone in enumerate(self.tones)
        ]
        outputs = [placement.output for placement in self.placements]
        self.output = sum(outputs[1:], outputs[0])


def _contrasted(voices: list, contrast: float) -> list:
    """Each voice × (it / the loudest) ^ contrast, in pyo: the loudest keeps its level, the rest fall back.

    The loudest voice is a chain of pyo.Max, so no Python runs per block; the small floor keeps ten
    silent voices from dividing by zero.
    """
    if contrast == 0.0:
        return voices
    loudest = voices[0]
    for voice in voices[1:]:
        loudest = pyo.Max(loudest, voice)
    floor = loudest + SILENT_FLOOR
    return [voice * pyo.Pow(voice / floor, contrast) for voice in voices]

"""Placing mono layers on the ring of speakers: position, rotation and spread from [space], at equal power."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from daemon.config.schema import SpaceLayer
from daemon.sound.server import pyo

__all__ = ["Placement", "ring_gains"]

FIRST_GLIDE_SECONDS = 0.05  # the gains' first glide, in from silence
# A placement's gains are set again once its ring has turned this fraction of the speaker spacing (at
# the first tick after): the polyline between two stays within 1.6 % of the bell's peak even at
# spread 0, the narrowest bell; 2.2 % at the fastest shipped turn on 8 speakers, a step of 2 blocks.
PLACE_STEP_SPACINGS = 1 / 16
HALF_POWER = math.log(2.0)
CONCENTRATION = 0.6


def _concentration(spread: float, channels: int) -> float:
    """How tightly a layer gathers round its position: 0 at spread 1 (every speaker alike).

    κ = 0.6 (1 − spread) / spread puts the speaker opposite at about −10 dB at spread 0.5 and
    −2.6 dB at 0.8; spread 0 is capped where the neighbours are far down on any ring: one speaker.
    """
    most = HALF_POWER * (2.0 * channels / math.pi) ** 2
    if spread <= 0.0:
        return most
    return min(most, CONCENTRATION * (1.0 - spread) / spread)


def ring_gains(offsets: np.ndarray, spread: float, channels: int) -> np.ndarray:
    """The gain of the speaker `offset` (fraction of the ring, any shape) away from a layer's position.

    A von Mises bell normalised so that the speakers' powers always sum to `channels`: at spread 1
    each speaker gets gain 1, at spread 0 one speaker gets √channels, and the layer's loudness is
    the same wherever it stands. The ring is symmetric, so one function serves every speaker.
    """
    kappa = _concentration(spread, channels)
    speakers = np.arange(channels) / channels
    bell = lambda x: np.exp(kappa * (np.cos(2.0 * np.pi * x) - 1.0))  # noqa: E731
    power = (bell(np.asarray(offsets)[..., None] - speakers) ** 2).sum(axis=-1)
    return bell(offsets) * np.sqrt(channels / power)


class Placement:
    """`sources` (mono) on the ring of `channels` speakers (`output`, one stream a speaker), turning together.

    Source i stands `offsets[i]` of the ring after `layout.position`. One pyo.Mixer holds the gains
    (ring_gains); the ring turns at control rate, `turn(seconds)` as the conductor ticks: it is slow
    (a turn in five seconds at the fastest shipped), and gain oscillators per speaker and layer were
    a tenth of an offline render's time. The Mixer glides each gain between placements, so the gains
    follow the turn as a polyline, a placement each time the ring has moved PLACE_STEP_SPACINGS.
    """

    def __init__(self, sources: list, channels: int, layout: SpaceLayer, offsets: Sequence[float] = (0.0,), mul=1.0):
        self.sources, self.layout, self.channels = sources, layout, channels
        self.mixer = pyo.Mixer(outs=channels, chnls=1, time=FIRST_GLIDE_SECONDS)
        for index, source in enumerate(sources):
            self.mixer.addInput(index, source)
        # Source i's offset from speaker k, at no rotation.
        self.offsets = layout.position + np.asarray(offsets)[:, None] - np.arange(channels)[None, :] / channels
        self.turned = self.unplaced_seconds = 0.0
        self._place(0.0)
        # pyo's arithmetic takes a Mixer only on its left: as one channels-stream signal it sums like a layer.
        self.output = self.mixer * mul

    def turn(self, seconds: float) -> None:
        """`seconds` have passed: the ring has turned by rotation_hz × seconds (placed once it has turned a step)."""
        if not self.layout.rotation_hz:
            return
        self.unplaced_seconds += seconds
        step = self.layout.rotation_hz * self.unplaced_seconds
        if abs(step) * self.channels >= PLACE_STEP_SPACINGS:
            self.turned = (self.turned + step) % 1.0
            # Glide, for as long as this step took, to where the ring will stand when the next one is due,
            # so the gains meet the ring's own at every placement. Offline the conductor ticks as a block
            # begins, `seconds` ahead of the sound, so the glide starts where the ring stood a tick ago
            # (live, where ticks follow the sound, that lags a tick: 33 ms of a turn of five seconds or more).
            self.mixer.setTime(self.unplaced_seconds)
            self.unplaced_seconds = 0.0
            self._place(self.turned + step - self.layout.rotation_hz * seconds)

    def _place(self, turned: float) -> None:
        gains = ring_gains((self.offsets + turned) % 1.0, self.layout.spread, self.channels)
        for index, row in enumerate(gains):
            for speaker, gain in enumerate(row):
                self.mixer.setAmp(index, speaker, float(gain))

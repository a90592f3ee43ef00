"""Placing a mono layer on the ring of speakers: position, rotation and spread from [space], at equal power."""

from __future__ import annotations

import math

import numpy as np

from daemon.config.schema import SpaceLayer
from daemon.sound.server import pyo

__all__ = ["Placement", "ring_gains"]

GAIN_TABLE_POINTS = 8192
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
    """`channels` streams of `mono` around the ring (`output`): speaker k reads the gain table at its own offset.

    The gains are a wavetable read by an oscillator per speaker turning at `rotation_hz`, so the
    panning costs no Python once built. The placement keeps its source, table and oscillators
    alive: pyo's arithmetic keeps only some of them.
    """

    def __init__(self, mono, channels: int, layout: SpaceLayer):
        offsets = np.arange(GAIN_TABLE_POINTS) / GAIN_TABLE_POINTS
        self.mono = mono
        self.table = pyo.DataTable(size=GAIN_TABLE_POINTS, init=ring_gains(offsets, layout.spread, channels).tolist())
        phases = [(layout.position - k / channels) % 1.0 for k in range(channels)]
        self.gains = pyo.Osc(self.table, freq=layout.rotation_hz, phase=phases, interp=2)
        self.output = self.gains * mono

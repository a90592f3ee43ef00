"""Glitch: random clicks through a sweeping read head, buffer stutter, bit-crush and rate reduction."""

from __future__ import annotations

from daemon.sound.server import pyo

__all__ = ["Clicks", "Crusher", "Stutter"]


class Clicks:
    """Impulses at random times (`rate_hz` on average), rung through a band-pass that scans."""

    def __init__(self, level, rate_hz):
        self.triggers = pyo.Cloud(density=rate_hz, poly=4).play()
        click = pyo.LinTable([(0, 1.0), (40, 0.3), (400, 0.0)], size=512)
        # A click is 4 ms of noise at a random moment: pyo's cheap generator (a 16-bit LCG, which repeats
        # every 1.4 s) is random enough for that, at a fifteenth of the cost of its default one.
        self.excitation = pyo.Noise()
        self.excitation.setType(1)
        impulses = pyo.TrigEnv(self.triggers, table=click, dur=0.004, mul=self.excitation)
        head = pyo.Sine(freq=0.23, mul=2400, add=3200)
        # Cloud's polyphony makes one stream per voice: mix them, the layer is mono until spatialised.
        self.output = pyo.ButBP(pyo.Mix(impulses, voices=1), freq=head, q=6, mul=level * 2.5)


class Stutter:
    """A short delay line that feeds back on itself: a fragment of the mix repeats while `amount` is high."""

    def __init__(self, source, amount):
        self.output = pyo.Delay(source, delay=0.09, feedback=amount, maxdelay=0.5, mul=amount)


class Crusher:
    """Bit depth and sample-rate reduction of a signal."""

    def __init__(self, source, bits, rate_fraction):
        self.output = pyo.Degrade(source, bitdepth=bits, srscale=rate_fraction)

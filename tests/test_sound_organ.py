"""The organ, rendered by pyo: every drawbar pipe and its twin at the formula's frequency and level."""

from __future__ import annotations

import numpy as np
import pytest

from daemon.sound.organ import BODY, DRAWBAR_LEVELS, DRAWBAR_RATIOS, Organ
from daemon.sound.server import ManualServer, pyo

SR = 48_000
SECONDS = 8.0  # 0.125 Hz bins: the 16' pipe and its twin stand 1.5 Hz apart at 3 Hz beating
BAND_HZ = 0.4  # a partial's power is summed this far either side: the wobble's ±0.13 Hz sidebands included


def organ_spectrum(fundamental_hz: float, pitch: float, brightness: float, beating_hz: float):
    """(frequencies, power) of the organ alone, without wind, over SECONDS after a settling second."""
    server = ManualServer(1, SR, 1024, 1)
    try:
        signals = [pyo.Sig(value) for value in (pitch, 1.0, brightness, beating_hz, 0.0)]
        organ = Organ(fundamental_hz, *signals, pyo.PinkNoise())
        organ.output.out()
        for _ in range(47):
            server.block()
        mono = np.concatenate([server.block()[:, 0].copy() for _ in range(int(SECONDS * SR / 1024))])
    finally:
        server.close()
    power = np.abs(np.fft.rfft(mono.astype(np.float64) * np.hanning(mono.size))) ** 2
    return np.fft.rfftfreq(mono.size, 1 / SR), power


def band_db(frequencies: np.ndarray, power: np.ndarray, hz: float) -> float:
    return float(10 * np.log10(power[np.abs(frequencies - hz) <= BAND_HZ].sum() + 1e-30))


@pytest.mark.parametrize(("fundamental_hz", "pitch", "brightness"), [(55.0, 1.0, 1.0), (82.5, 1.05, 0.5)])
def test_each_pipe_and_its_twin_sound_at_the_formulas_frequency_and_level(fundamental_hz, pitch, brightness):
    """Pipe i at pitch × fundamental × 2 × ratio_i, its twin beating × ratio_i above, both at level_i
    (× brightness for the five upper drawbars), relative to the 8' pipe within 0.5 dB."""
    beating = 3.0
    frequencies, power = organ_spectrum(fundamental_hz, pitch, brightness, beating)
    levels = [lvl if i < BODY else brightness * lvl for i, lvl in enumerate(DRAWBAR_LEVELS)]
    eight_foot = DRAWBAR_RATIOS.index(1.0)
    reference = band_db(frequencies, power, pitch * fundamental_hz * 2)
    for ratio, level in zip(DRAWBAR_RATIOS, levels, strict=True):
        pipe = pitch * fundamental_hz * 2 * ratio
        expected = 20 * np.log10(level / levels[eight_foot])
        for hz in (pipe, pipe + beating * ratio):
            assert abs(band_db(frequencies, power, hz) - reference - expected) < 0.5, (ratio, hz, expected)
            # the peak itself sits on the formula's frequency, to the bin
            near = np.abs(frequencies - hz) <= BAND_HZ
            assert abs(frequencies[near][np.argmax(power[near])] - hz) <= SR / (2 * power.size), (ratio, hz)


def test_the_organ_has_no_partial_but_its_pipes():
    """Between the pipes (harmonics 5, 7, 9, 11, 13–15 of the 16') the organ is silent, 60 dB down or more."""
    frequencies, power = organ_spectrum(55.0, 1.0, 1.0, 0.0)
    reference = band_db(frequencies, power, 110.0)
    for harmonic in (5, 7, 9, 11, 13, 14, 15):
        assert band_db(frequencies, power, 55.0 * harmonic) < reference - 60, harmonic

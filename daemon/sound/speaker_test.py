"""The technician's speaker test: pink-noise bursts on each channel in turn, saying which is playing."""

from __future__ import annotations

import threading

import numpy as np

from daemon.sound.master import db_to_gain

__all__ = ["speaker_test"]

LEVEL_DBFS = -18.0


def pink_noise(frames: int, rng: np.random.Generator) -> np.ndarray:
    """Approximately pink noise (−3 dB/octave) by shaping white noise's spectrum, peak-normalised."""
    spectrum = np.fft.rfft(rng.standard_normal(frames))
    spectrum[1:] /= np.sqrt(np.arange(1, spectrum.size))
    noise = np.fft.irfft(spectrum, n=frames)
    return (noise / np.abs(noise).max()).astype(np.float32)


def speaker_test(
    device: int,
    channels: int,
    sample_rate_hz: int,
    seconds_per_channel: float,
    rounds: int,
    announce,
    stop: threading.Event,
) -> None:
    """Play a burst on channel 1, then 2, … `rounds` times; `announce(channel)` as each starts."""
    import sounddevice

    burst = pink_noise(int(seconds_per_channel * sample_rate_hz), np.random.default_rng(0))
    fade = min(2400, burst.size // 4)  # 50 ms ramps: no click at either end
    ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
    burst[:fade] *= ramp
    burst[-fade:] *= ramp[::-1]
    burst *= db_to_gain(LEVEL_DBFS)
    slot = burst.size
    total = slot * channels * rounds
    position = [0]
    finished = threading.Event()

    def callback(outdata, frames, time_info, status) -> None:
        # Blocking writes through PortAudio's JACK host API garble the samples: use a callback.
        outdata.fill(0.0)
        offset = 0
        while offset < frames and position[0] < total:  # at most two bursts meet in one block
            channel, within = divmod(position[0], slot)
            run = min(frames - offset, slot - within)
            outdata[offset : offset + run, channel % channels] = burst[within : within + run]
            position[0] += run
            offset += run
        if position[0] >= total:
            finished.set()

    with sounddevice.OutputStream(
        device=device, channels=channels, samplerate=sample_rate_hz, dtype="float32", callback=callback
    ):
        announced = -1
        while not finished.is_set() and not stop.is_set():
            now = position[0] // slot
            if now != announced and now < channels * rounds:
                announce(now % channels + 1)
                announced = now
            finished.wait(0.02)

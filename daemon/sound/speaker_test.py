"""The technician's speaker test: pink-noise bursts on each channel in turn, saying which is playing."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, cast

import numpy as np

from daemon.sound.master import db_to_gain

if TYPE_CHECKING:
    import jack

__all__ = ["Bursts", "jack_speaker_test", "speaker_test"]

LEVEL_DBFS = -18.0


def pink_noise(frames: int, rng: np.random.Generator) -> np.ndarray:
    """Approximately pink noise (−3 dB/octave) by shaping white noise's spectrum, peak-normalised."""
    spectrum = np.fft.rfft(rng.standard_normal(frames))
    spectrum[1:] /= np.sqrt(np.arange(1, spectrum.size))
    noise = np.fft.irfft(spectrum, n=frames)
    return (noise / np.abs(noise).max()).astype(np.float32)


class Bursts:
    """The bursts laid end to end, channel 1, 2, … `rounds` times: fill() writes the next block of them.

    `gains` (one per channel, 1.0 where missing) are the technician's volume trims: the test sounds as the
    installation will.
    """

    def __init__(
        self,
        channels: int,
        sample_rate_hz: int,
        seconds_per_channel: float,
        rounds: int,
        gains: tuple[float, ...] = (),
    ):
        burst = pink_noise(int(seconds_per_channel * sample_rate_hz), np.random.default_rng(0))
        fade = min(sample_rate_hz // 20, burst.size // 4)  # 50 ms ramps: no click at either end
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        burst[:fade] *= ramp
        burst[-fade:] *= ramp[::-1]
        self.burst = burst * db_to_gain(LEVEL_DBFS)
        self.gains = np.array([*gains[:channels], *[1.0] * (channels - len(gains[:channels]))], np.float32)
        self.channels, self.slot = channels, burst.size
        self.total = self.slot * channels * rounds
        self.position = 0
        self.finished = threading.Event()

    def fill(self, block: np.ndarray) -> None:
        """Write the next len(block) frames into `block` (frames × channels), silence where none plays."""
        block.fill(0.0)
        offset, frames = 0, block.shape[0]
        while offset < frames and self.position < self.total:  # at most two bursts meet in one block
            channel, within = divmod(self.position, self.slot)
            run = min(frames - offset, self.slot - within)
            speaker = channel % self.channels
            block[offset : offset + run, speaker] = self.burst[within : within + run] * self.gains[speaker]
            self.position += run
            offset += run
        if self.position >= self.total:
            self.finished.set()

    def announce_until_done(self, announce, stop: threading.Event) -> None:
        announced = -1
        while not self.finished.is_set() and not stop.is_set():
            now = self.position // self.slot
            if now != announced and now < self.total // self.slot:
                announce(now % self.channels + 1)
                announced = now
            self.finished.wait(0.02)


def speaker_test(
    device: int,
    channels: int,
    sample_rate_hz: int,
    seconds_per_channel: float,
    rounds: int,
    announce,
    stop: threading.Event,
    gains: tuple[float, ...] = (),
) -> None:
    """Play a burst on channel 1, then 2, … `rounds` times on a PortAudio device; `announce(channel)` as each starts."""
    import sounddevice

    bursts = Bursts(channels, sample_rate_hz, seconds_per_channel, rounds, gains)

    def callback(outdata, frames, time_info, status) -> None:
        # Blocking writes through PortAudio's JACK host API garble the samples: use a callback.
        bursts.fill(outdata)

    with sounddevice.OutputStream(
        device=device, channels=channels, samplerate=sample_rate_hz, dtype="float32", callback=callback
    ):
        bursts.announce_until_done(announce, stop)


def jack_speaker_test(
    spec: str,
    channels: int,
    seconds_per_channel: float,
    rounds: int,
    announce,
    stop: threading.Event,
    gains: tuple[float, ...] = (),
) -> list[str]:
    """The same bursts through JACK, as `[audio] route = "jack"` plays: our own client's outputs wired to the
    playback ports `spec` names (a port-name prefix, "" = the physical ones), at the server's rate.
    Returns the ports it played on; DeviceMissing when there is no server or too few ports."""
    from daemon.sound.devices import JackPatchbay, find_jack_ports

    patchbay = JackPatchbay("twos-and-sevens-speaker-test")
    client = patchbay.client
    try:
        destinations = find_jack_ports(spec, channels, client)
        bursts = Bursts(channels, client.samplerate, seconds_per_channel, rounds, gains)
        outputs = [cast("jack.OwnPort", client.outports.register(f"out_{k + 1}")) for k in range(channels)]
        block = np.zeros((client.blocksize, channels), np.float32)

        def process(frames: int) -> None:
            nonlocal block
            if block.shape[0] != frames:  # the server changed its period: rare, so allocating here is fine
                block = np.zeros((frames, channels), np.float32)
            bursts.fill(block)
            for k, port in enumerate(outputs):
                port.get_array()[:] = block[:, k]

        client.deactivate()  # JACK takes callbacks only from an inactive client; the patchbay activated without one
        client.set_process_callback(process)
        client.activate()
        patchbay.wire([port.name for port in outputs], destinations)
        bursts.announce_until_done(announce, stop)
        return destinations
    finally:
        patchbay.close()

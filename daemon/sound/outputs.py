"""The two real-time routes: pyo in manual mode under a sounddevice stream, or pyo's own JACK client."""

from __future__ import annotations

import os

import numpy as np

from daemon.config.schema import Audio
from daemon.logs import get_logger
from daemon.sound.devices import DeviceMissing, JackPatchbay, find_output_device
from daemon.sound.downmix import downmix_matrix
from daemon.sound.server import ManualServer, pyo

__all__ = ["JackOutput", "SounddeviceOutput", "open_output"]

JACK_CLIENT_NAME = "twos-and-sevens"


class SounddeviceOutput:
    """PortAudio (ALSA, JACK, PulseAudio/PipeWire) pulls blocks; each callback renders one with pyo.

    With `preview`, the ring of `channels` speakers is folded to stereo (daemon.sound.downmix)
    on the system's default output device, whatever [audio] device says.
    """

    def __init__(self, audio: Audio, channels: int, preview: bool = False):
        import sounddevice

        self.matrix = downmix_matrix(channels) if preview else None
        device_channels = 2 if preview else channels
        self.device = find_output_device("" if preview else audio.device, device_channels)
        self.manual = ManualServer(channels, audio.sample_rate_hz, audio.block_frames, audio.seed)
        self.sample_rate_hz = audio.sample_rate_hz
        self.underflows = self.blocks = 0
        self.stream = sounddevice.OutputStream(
            device=self.device,
            channels=device_channels,
            samplerate=audio.sample_rate_hz,
            blocksize=audio.block_frames,
            dtype="float32",
            callback=self._callback,
        )

    def _callback(self, outdata, frames, time_info, status) -> None:
        if status.output_underflow:
            self.underflows += 1
        if self.matrix is None:
            outdata[:] = self.manual.block()
        else:
            np.matmul(self.manual.block(), self.matrix, out=outdata)
        self.blocks += 1

    def progress(self) -> int:
        """Blocks played so far: it stops moving when the device stops pulling (JACK gone)."""
        return self.blocks

    def start(self) -> None:
        self.stream.start()

    def close(self) -> None:
        self.stream.stop()
        self.stream.close()
        self.manual.close()


class JackOutput:
    """pyo's JACK backend, its outputs wired to the configured playback ports (no PortAudio in between).

    pyo's own auto-connect is off: a JackPatchbay wires output k to playback port k once pyo is
    running, checks every connection in the graph (DeviceMissing otherwise), and counts xruns.
    """

    def __init__(self, audio: Audio, channels: int):
        os.environ["JACK_NO_START_SERVER"] = "1"  # never spawn a stray jackd: a missing server is an error
        self.patchbay = JackPatchbay()
        try:
            self.playback_ports = self.patchbay.playback_ports(audio.device, channels)
            self.server = self._boot(audio, channels)
        except BaseException:
            self.patchbay.close()
            raise
        self.device: list[str] = []  # the playback ports actually connected, once started
        self.sample_rate_hz = int(self.server.getSamplingRate())
        if self.sample_rate_hz != audio.sample_rate_hz:
            get_logger("sound").warning(
                "jack_sample_rate_differs",
                configured=audio.sample_rate_hz,
                jack=self.sample_rate_hz,
                fix="set [audio] sample_rate_hz to JACK's rate",
            )

    @staticmethod
    def _boot(audio: Audio, channels: int):
        server = pyo.Server(
            sr=audio.sample_rate_hz,
            nchnls=channels,
            buffersize=audio.block_frames,
            duplex=0,
            audio="jack",
            jackname=JACK_CLIENT_NAME,
        )
        server.setVerbosity(1)
        server.setJackAuto(False, False)  # wired by the patchbay, where the result can be checked
        server.boot()
        if not server.getIsBooted():
            raise DeviceMissing(
                'pyo could not open a JACK client. Fix: start the JACK server, or set [audio] route = "sounddevice".'
            )
        server.setGlobalSeed(audio.seed)
        return server

    @property
    def underflows(self) -> int:
        """JACK's xruns since the output opened (any client's: the speakers heard every one)."""
        return self.patchbay.xruns

    def progress(self) -> str:
        """pyo's stream clock: it stops moving when JACK stops calling (server gone)."""
        return self.server.getCurrentTime()

    def start(self) -> None:
        self.server.start()
        outputs = [f"{JACK_CLIENT_NAME}:output_{k + 1}" for k in range(len(self.playback_ports))]
        try:
            self.device = self.patchbay.wire(outputs, self.playback_ports)
        except BaseException:
            self.close()  # never leave a client playing into nothing
            raise

    def close(self) -> None:
        self.server.stop()
        self.server.shutdown()
        self.patchbay.close()


def open_output(audio: Audio, channels: int, preview: bool = False) -> SounddeviceOutput | JackOutput:
    """The configured route's output (or the stereo preview's), its pyo server booted and not yet started."""
    if audio.route == "jack" and not preview:
        return JackOutput(audio, channels)
    return SounddeviceOutput(audio, channels, preview)

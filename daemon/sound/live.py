"""Real-time sound: the engine rendered block by block inside a sounddevice (PortAudio) callback."""

from __future__ import annotations

import threading
import time

from daemon.config import LoadedConfig
from daemon.logs import get_logger
from daemon.metrics import MetricFrame
from daemon.sound.conductor import Conductor
from daemon.sound.devices import find_output_device
from daemon.sound.engine import SoundEngine
from daemon.sound.server import ManualServer

__all__ = ["LiveSound"]

CONTROL_HZ = 30.0


class LiveSound:
    """Plays the engine on the configured device; frames arrive from any thread via on_frame().

    The callback does no Python work beyond one server.process() and a copy (NOTES: keep the audio
    thread tiny); the mapping runs in a control thread at 30 Hz.
    """

    def __init__(self, loaded: LoadedConfig, channels: int | None = None):
        import sounddevice

        audio = loaded.config.audio
        self.channels = channels or audio.channels
        self.log = get_logger("sound")
        device = find_output_device(audio.device, self.channels)
        self.server = ManualServer(self.channels, audio.sample_rate_hz, audio.block_frames, audio.seed)
        self.engine = SoundEngine(audio, loaded.config.space, self.channels, audio.sample_rate_hz, loaded.base_dir)
        self.conductor = Conductor(self.engine, loaded.config.mapping, audio)
        self.lock = threading.Lock()
        self.underflows = 0
        self.stopping = threading.Event()
        self.stream = sounddevice.OutputStream(
            device=device, channels=self.channels, samplerate=audio.sample_rate_hz, blocksize=audio.block_frames,
            dtype="float32", callback=self._callback)
        self.control = threading.Thread(target=self._control_loop, name="sound-control", daemon=True)
        self.stream.start()
        self.control.start()
        self.log.info("sound_started", device=device, channels=self.channels, sample_rate_hz=audio.sample_rate_hz,
                      block_frames=audio.block_frames)

    def _callback(self, outdata, frames, time_info, status) -> None:
        if status.output_underflow:
            self.underflows += 1
        outdata[:] = self.server.block()

    def _control_loop(self) -> None:
        last = time.monotonic()
        while not self.stopping.wait(1.0 / CONTROL_HZ):
            now = time.monotonic()
            with self.lock:
                self.conductor.tick(now - last)
            last = now

    def on_frame(self, frame: MetricFrame) -> None:
        with self.lock:
            self.conductor.on_frame(frame)

    def fade_to(self, level: float, seconds: float) -> None:
        self.engine.fade_to(level, seconds)

    def close(self) -> None:
        self.stopping.set()
        self.control.join(2)
        self.stream.stop()
        self.stream.close()
        self.server.close()
        self.log.info("sound_stopped", underflows=self.underflows)

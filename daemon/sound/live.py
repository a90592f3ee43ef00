"""Real-time sound: the engine on the configured route, its mapping driven from a control thread."""

from __future__ import annotations

import threading
import time

from daemon.config import LoadedConfig
from daemon.logs import get_logger
from daemon.messages import Message
from daemon.senses import deliver
from daemon.sound.conductor import Conductor
from daemon.sound.engine import SoundEngine
from daemon.sound.meters import OutputMeters
from daemon.sound.outputs import open_output

__all__ = ["LiveSound"]

CONTROL_HZ = 30.0


class LiveSound:
    """Plays the engine on the configured device; messages arrive from any thread via deliver().

    The audio thread does no Python work beyond one server.process() and a copy (NOTES: keep it
    tiny), or none at all on the JACK route; the mapping runs in a control thread at 30 Hz.
    """

    def __init__(self, loaded: LoadedConfig, channels: int | None = None, preview: bool = False):
        audio = loaded.config.audio
        self.channels = channels or audio.channels
        # What actually plays, for the log and Ready: a preview folds to stereo on the default device,
        # whatever [audio] route says.
        self.route = "preview (stereo downmix)" if preview else audio.route
        self.log = get_logger("sound")
        self.output = open_output(audio, self.channels, preview)
        config = loaded.config
        self.engine = SoundEngine(
            audio, config.space, config.digits, self.channels, self.output.sample_rate_hz, loaded.base_dir
        )
        self.conductor = Conductor(self.engine, loaded.config.mapping, audio)
        self.meters = OutputMeters(self.engine.master.output)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.control = threading.Thread(target=self._control_loop, name="sound-control", daemon=True)
        self.output.start()
        self.control.start()
        self.log.info(
            "sound_started",
            route=self.route,
            device=self.output.device,
            channels=self.channels,
            sample_rate_hz=self.output.sample_rate_hz,
            block_frames=audio.block_frames,
        )

    @property
    def underflows(self) -> int:
        return self.output.underflows

    def _control_loop(self) -> None:
        last = time.monotonic()
        while not self.stopping.wait(1.0 / CONTROL_HZ):
            now = time.monotonic()
            with self.lock:
                self.conductor.tick(now - last)
            self.meters.sample()
            last = now

    def deliver(self, message: Message) -> None:
        """A sense message (frame, fade, crossfade…) from any thread."""
        with self.lock:
            deliver(self.conductor, message)

    def close(self) -> None:
        self.stopping.set()
        self.control.join(2)
        self.output.close()
        self.log.info("sound_stopped", underflows=self.underflows)

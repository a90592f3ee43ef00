"""The sound's sense: frames in, engine parameters out (mapping, hold then idle), fades on the master."""

from __future__ import annotations

from daemon.config.schema import Audio, MappingEntry
from daemon.messages import StreamFrame
from daemon.senses import Sense
from daemon.sound.engine import SoundEngine
from daemon.sound.key import key_ratio
from daemon.targets import SOUND_PARAMETERS

__all__ = ["IDLE", "Conductor"]

IDLE = {name: p.default for name, p in SOUND_PARAMETERS.items()}


class Conductor(Sense):
    """Keeps the engine's parameters following the frames, and playing when they stop.

    Fades ride on the master's gain, ramped inside pyo (no per-sample Python). A new run glides
    the drone into its key (docs/sound.md, the drift of the fundamental).
    """

    def __init__(self, engine: SoundEngine, mapping: list[MappingEntry], audio: Audio):
        super().__init__(mapping, IDLE, audio.hold_seconds, audio.idle_drift_seconds)
        self.engine, self.audio = engine, audio
        self.run_id: str | None = None

    def on_frame(self, frame: StreamFrame) -> None:
        if frame.run_id != self.run_id:
            # The first run heard since the sound started takes its key at once; later ones glide.
            glide = self.audio.fundamental_glide_seconds if self.run_id is not None else 0.0
            self.run_id = frame.run_id
            self.engine.retune(key_ratio(self.audio, frame.run_id, frame.time_unix_seconds), glide)
        super().on_frame(frame)

    def fade(self, level: float, seconds: float) -> None:
        self.engine.fade_to(level, seconds)

    def trim(self, gains: tuple[float, ...]) -> None:
        self.engine.trim(gains)

    def tick(self, seconds: float) -> None:
        self.engine.set(self.follow(seconds))
        self.engine.advance(seconds)

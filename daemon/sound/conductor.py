"""The sound's sense: frames in, engine parameters out (mapping, hold then idle), fades on the master."""

from __future__ import annotations

from daemon.config.schema import Audio, MappingEntry
from daemon.senses import Sense
from daemon.sound.engine import SoundEngine
from daemon.targets import SOUND_PARAMETERS

__all__ = ["IDLE", "Conductor"]

IDLE = {name: p.default for name, p in SOUND_PARAMETERS.items()}


class Conductor(Sense):
    """Keeps the engine's parameters following the frames, and playing when they stop.

    Fades ride on the master's gain, ramped inside pyo (no per-sample Python).
    """

    def __init__(self, engine: SoundEngine, mapping: list[MappingEntry], audio: Audio):
        super().__init__(mapping, IDLE, audio.hold_seconds, audio.idle_drift_seconds)
        self.engine = engine

    def fade(self, level: float, seconds: float) -> None:
        self.engine.fade_to(level, seconds)

    def tick(self, seconds: float) -> None:
        self.engine.set(self.follow(seconds))

"""Frames in, parameters out: mapping, hold-then-idle when frames stop, run fades."""

from __future__ import annotations

from daemon.config.schema import Audio, MappingEntry
from daemon.mapping import Mapper
from daemon.metrics import MetricFrame
from daemon.sound.parameters import SOUND_PARAMETERS

__all__ = ["Conductor"]

IDLE = {name: p.default for name, p in SOUND_PARAMETERS.items()}


class Conductor:
    """Keeps the engine's parameters following the frames, and playing when they stop.

    Time is whatever the caller says it is (`tick(seconds)`): audio blocks in an offline render,
    a clock in real time. After `hold_seconds` without a frame the sound drifts to the idle state.
    """

    def __init__(self, engine, mapping: list[MappingEntry], audio: Audio):
        self.engine, self.audio = engine, audio
        self.mapper = Mapper(mapping, IDLE)
        self.since_frame = 0.0
        self.idle = False

    def on_frame(self, frame: MetricFrame) -> None:
        self.mapper.update(frame.streams())
        self.since_frame = 0.0
        self.idle = False

    def crossfade(self, seconds: float) -> None:
        """The next run follows without a fade: its parameters glide in from this run's over `seconds`."""
        self.mapper.glide(seconds)

    def tick(self, seconds: float) -> None:
        self.since_frame += seconds
        if not self.idle and self.since_frame > self.audio.hold_seconds:
            self.mapper.drift_to(IDLE, self.audio.idle_drift_seconds)
            self.idle = True
        self.engine.set(self.mapper.advance(seconds))

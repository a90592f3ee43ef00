"""Frames in, scene uniforms out: the image's mapping, hold-then-idle when frames stop, fades to black."""

from __future__ import annotations

import math

from daemon.config.schema import MappingEntry, Video
from daemon.mapping import Mapper
from daemon.metrics import MetricFrame
from daemon.visuals.inputs import PictureInputs
from daemon.visuals.parameters import VISUAL_PARAMETERS, uniforms_for

__all__ = ["VisualDirector"]

IDLE = {name: p.default for name, p in VISUAL_PARAMETERS.items()}


class VisualDirector:
    """Keeps the pictures and uniforms following the frames; time is whatever `tick(seconds)` says.

    `fade_to(level, seconds)` glides the overall brightness (0 = blackout); `blackout()` is instant.
    """

    def __init__(self, mapping: list[MappingEntry], video: Video):
        self.video = video
        self.mapper = Mapper(mapping, IDLE)
        self.inputs = PictureInputs(video.history_steps)
        self.values = dict(IDLE)
        self.since_frame = 0.0
        self.idle = False
        self.time = 0.0
        self.fade, self.fade_goal, self.fade_rate = 0.0, 0.0, math.inf
        self.run_id: str | None = None

    def on_frame(self, frame: MetricFrame) -> None:
        if frame.run_id != self.run_id:
            self.run_id = frame.run_id
            self.inputs.reset()
        self.inputs.on_frame(frame)
        self.mapper.update(frame.streams())
        self.since_frame = 0.0
        self.idle = False

    def fade_to(self, level: float, seconds: float) -> None:
        self.fade_goal = min(1.0, max(0.0, level))
        distance = abs(self.fade_goal - self.fade)
        self.fade_rate = distance / seconds if seconds > 0 else math.inf

    def crossfade(self, seconds: float) -> None:
        """The next run follows without a fade: uniforms glide and the pictures blend into it over `seconds`."""
        self.mapper.glide(seconds)
        self.inputs.crossfade(seconds)

    def blackout(self) -> None:
        self.fade = self.fade_goal = 0.0

    def tick(self, seconds: float) -> None:
        self.time += seconds
        self.since_frame += seconds
        if not self.idle and self.since_frame > self.video.hold_seconds:
            self.mapper.drift_to(IDLE, self.video.idle_drift_seconds)
            self.idle = True
        self.values = self.mapper.advance(seconds)
        self.inputs.tick(seconds)
        step = self.fade_rate * seconds
        self.fade = self.fade_goal if abs(self.fade_goal - self.fade) <= step else \
            self.fade + math.copysign(step, self.fade_goal - self.fade)

    @property
    def brightness(self) -> float:
        return self.fade * min(1.0, max(0.0, self.values["visual.master.brightness"]))

    def uniforms(self, scene: str) -> dict[str, float]:
        return uniforms_for(scene, self.values)

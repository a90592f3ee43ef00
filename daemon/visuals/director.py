"""The image's sense: frames in, pictures and scene uniforms out (mapping, hold then idle), fades to black."""

from __future__ import annotations

import math

from daemon.config.schema import MappingEntry, Video
from daemon.messages import PictureFrame, StreamFrame
from daemon.senses import Sense
from daemon.targets import VISUAL_PARAMETERS, uniforms_for
from daemon.visuals.inputs import PictureInputs

__all__ = ["IDLE", "VisualDirector"]

IDLE = {name: p.default for name, p in VISUAL_PARAMETERS.items()}


class VisualDirector(Sense):
    """Keeps the pictures and uniforms following the frames; `brightness` carries the fades (0 = black)."""

    def __init__(self, mapping: list[MappingEntry], video: Video):
        super().__init__(mapping, IDLE, video.hold_seconds, video.idle_drift_seconds)
        self.inputs = PictureInputs(video.history_steps)
        self.values = dict(IDLE)
        self.time = 0.0
        self.level, self.level_goal, self.level_rate = 0.0, 0.0, math.inf
        self.run_id: str | None = None

    def on_frame(self, frame: StreamFrame) -> None:
        if frame.run_id != self.run_id:
            self.run_id = frame.run_id
            self.inputs.reset()
        self.inputs.on_streams(frame.streams)
        super().on_frame(frame)

    def on_pictures(self, pictures: PictureFrame) -> None:
        self.inputs.on_pictures(pictures.grid, pictures.insides)

    def fade(self, level: float, seconds: float) -> None:
        self.level_goal = min(1.0, max(0.0, level))
        distance = abs(self.level_goal - self.level)
        self.level_rate = distance / seconds if seconds > 0 else math.inf

    def crossfade(self, seconds: float) -> None:
        """Uniforms glide and the pictures blend into the next run over `seconds`."""
        super().crossfade(seconds)
        self.inputs.crossfade(seconds)

    def tick(self, seconds: float) -> None:
        self.time += seconds
        self.values = self.follow(seconds)
        self.inputs.tick(seconds)
        gap = self.level_goal - self.level
        step = math.inf if math.isinf(self.level_rate) else self.level_rate * seconds  # a fade over 0 s: at once
        self.level = self.level_goal if abs(gap) <= step else self.level + math.copysign(step, gap)

    @property
    def brightness(self) -> float:
        return self.level * min(1.0, max(0.0, self.values["visual.master.brightness"]))

    def uniforms(self, scene: str) -> dict[str, float]:
        return uniforms_for(scene, self.values)

"""The image's sense: frames in, pictures and scene uniforms out (mapping, hold then idle), fades to black."""

from __future__ import annotations

import math

import numpy as np

from daemon.config.schema import MappingEntry, Video
from daemon.messages import PictureFrame, StreamFrame
from daemon.senses import Sense
from daemon.targets import DIGITS, VISUAL_PARAMETERS, uniforms_for
from daemon.visuals.inputs import PictureInputs
from daemon.visuals.scene import UniformValue

__all__ = ["DIGIT_SMOOTHING_SECONDS", "IDLE", "VisualDirector"]

IDLE = {name: p.default for name, p in VISUAL_PARAMETERS.items()}
# The `digits` uniform glides to each new class histogram with this time constant (the trainer
# measures one every classifier_every_steps, a few seconds apart at the gallery's pace).
DIGIT_SMOOTHING_SECONDS = 1.5


class VisualDirector(Sense):
    """Keeps the pictures and uniforms following the frames; `brightness` carries the fades (0 = black)."""

    def __init__(self, mapping: list[MappingEntry], video: Video):
        super().__init__(mapping, IDLE, video.hold_seconds, video.idle_drift_seconds)
        self.inputs = PictureInputs(video.history_steps)
        self.values = dict(IDLE)
        self.time = 0.0
        self.level, self.level_goal, self.level_rate = 0.0, 0.0, math.inf
        self.run_id: str | None = None
        self.digits_goal = np.zeros(DIGITS)
        self.digits = np.zeros(DIGITS)

    def on_frame(self, frame: StreamFrame) -> None:
        if frame.run_id != self.run_id:
            self.run_id = frame.run_id
            self.inputs.reset()
            self.digits_goal = np.zeros(DIGITS)  # no digit is seen until the new run's classifier looks
        if len(frame.class_histogram) == DIGITS:
            self.digits_goal = np.clip(np.array(frame.class_histogram, float), 0.0, 1.0)
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
        self.digits += (self.digits_goal - self.digits) * (1.0 - math.exp(-seconds / DIGIT_SMOOTHING_SECONDS))
        gap = self.level_goal - self.level
        step = math.inf if math.isinf(self.level_rate) else self.level_rate * seconds  # a fade over 0 s: at once
        self.level = self.level_goal if abs(gap) <= step else self.level + math.copysign(step, gap)

    @property
    def brightness(self) -> float:
        return self.level * min(1.0, max(0.0, self.values["visual.master.brightness"]))

    def uniforms(self, scene: str) -> dict[str, UniformValue]:
        """The scene's own uniforms, and `digits`: each digit's share 0–1 of the latest class histogram."""
        return {**uniforms_for(scene, self.values), "digits": tuple(float(v) for v in self.digits)}

"""The sense interface: follow the frames through the mapping, hold then idle when they stop, fade on request."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping

from daemon.config.schema import MappingEntry
from daemon.mapping import Mapper
from daemon.messages import Crossfade, Fade, Message, PictureFrame, Rejoin, Stop, StreamFrame, Trim

__all__ = ["Sense", "deliver"]


class Sense(ABC):
    """Sound's conductor and the image's director: parameters that follow the frames' streams.

    Messages arrive through `deliver(sense, message)`; time passes through `tick(seconds)` (audio
    blocks or video frames offline, a clock live). `follow(seconds)` moves every mapped parameter
    toward the last frame's values; after `hold_seconds` without a frame they drift to `idle` over
    about `idle_drift_seconds`: the sense never stops when the trainer does.
    """

    def __init__(
        self, mapping: list[MappingEntry], idle: Mapping[str, float], hold_seconds: float, idle_drift_seconds: float
    ):
        self.idle_values = dict(idle)
        self.mapper = Mapper(mapping, idle)
        self.hold_seconds, self.idle_drift_seconds = hold_seconds, idle_drift_seconds
        self.since_frame = 0.0
        self.idle = False

    def on_frame(self, frame: StreamFrame) -> None:
        self.mapper.update(frame.streams)
        self.since_frame = 0.0
        self.idle = False

    def on_pictures(self, pictures: PictureFrame) -> None:  # noqa: B027  # only the image shows pictures
        """A step's pictures: ignored unless the sense shows them."""

    def crossfade(self, seconds: float) -> None:
        """The next run follows without a fade: its parameters glide in from this run's over `seconds`."""
        self.mapper.glide(seconds)

    @abstractmethod
    def fade(self, level: float, seconds: float) -> None:
        """Glide the overall level to `level` (0 silent or black, 1 full) over `seconds`."""

    def rejoin(self, level: float, seconds: float) -> None:
        """Started in the middle of the programme: come up (or stay dark) quickly."""
        self.fade(level, seconds)

    def trim(self, gains: tuple[float, ...]) -> None:  # noqa: B027  # only the sound has speakers to trim
        """The technician's volume, a gain per speaker: ignored unless the sense plays sound."""

    def stop(self, fade_seconds: float) -> None:
        """The process ends after this: fade out."""
        self.fade(0.0, fade_seconds)

    def follow(self, seconds: float) -> dict[str, float]:
        """Every parameter's value `seconds` later: toward the last frame, or toward idle once it is held too long."""
        self.since_frame += seconds
        if not self.idle and self.since_frame > self.hold_seconds:
            self.mapper.drift_to(self.idle_values, self.idle_drift_seconds)
            self.idle = True
        return self.mapper.advance(seconds)

    @abstractmethod
    def tick(self, seconds: float) -> None:
        """`seconds` have passed: follow, and apply the values to the engine or the uniforms."""


def deliver(sense: Sense, message: Message) -> None:
    """The one dispatcher of sense messages, live (the children, play, show) and offline (the renders)."""
    match message:
        case StreamFrame():
            sense.on_frame(message)
        case PictureFrame():
            sense.on_pictures(message)
        case Fade(level=level, seconds=seconds):
            sense.fade(level, seconds)
        case Rejoin(level=level, seconds=seconds):
            sense.rejoin(level, seconds)
        case Crossfade(seconds=seconds):
            sense.crossfade(seconds)
        case Stop(fade_seconds=seconds):
            sense.stop(seconds)
        case Trim(gains=gains):
            sense.trim(gains)
        case _:
            raise TypeError(f"a {type(message).__name__} is not a message for a sense")

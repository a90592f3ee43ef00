"""The one interface sound and image consume: an iterable of metric frames, live or replayed."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Protocol

from daemon.metrics import MetricFrame
from daemon.recording.reader import Recording

__all__ = ["FrameSource", "Replay"]


class FrameSource(Protocol):
    """Anything that yields MetricFrames in step order: a live run (daemon.runs.LiveRun) or a Replay."""

    def __iter__(self) -> Iterator[MetricFrame]: ...


class Replay:
    """A recording played back at its recorded pace (`speed` × real time) or flat out (`speed=None`)."""

    def __init__(
        self,
        recording: Recording,
        speed: float | None = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.recording, self.speed, self.clock, self.sleep = recording, speed, clock, sleep

    def __iter__(self) -> Iterator[MetricFrame]:
        start = self.clock()
        for frame in self.recording.frames():
            if self.speed:
                delay = start + frame.elapsed_seconds / self.speed - self.clock()
                if delay > 0:
                    self.sleep(delay)
            yield frame

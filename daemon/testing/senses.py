"""Recorded frames into a sense as they travel live: each frame's streams, then its pictures, at the gallery's pace."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator

from daemon.config.schema import RunPreset
from daemon.gan.pacing import Pacer, pacing_law
from daemon.metrics import MetricFrame
from daemon.senses import Sense, deliver

__all__ = ["feed", "paced_batches"]


def feed(sense: Sense, frames: Iterable[MetricFrame]) -> None:
    """Deliver each frame to `sense` split as the trainer sends it (StreamFrame, then PictureFrame if any)."""
    for frame in frames:
        for part in frame.split():
            if part is not None:
                deliver(sense, part)


def paced_batches(
    frames: list[MetricFrame], preset: RunPreset, tick_seconds: float, seconds: float | None = None
) -> Iterator[list[MetricFrame]]:
    """Tick by tick of `tick_seconds`, the frames a gallery releases during it: the first steps of a
    run of `preset`, timed by its pacing law over its duration (a machine fast enough for it), until
    the last frame is out or `seconds` have passed."""
    pacer = Pacer(preset.duration_seconds, preset.steps, law=pacing_law(preset.pacing, preset.pacing_exponent))
    released = [pacer.release_seconds(k) for k in range(len(frames))]
    end = min(released[-1], seconds) if seconds is not None else released[-1]
    start = 0
    for tick in range(int(end / tick_seconds) + 1):
        stop = bisect.bisect_left(released, (tick + 1) * tick_seconds)
        yield frames[start:stop]
        start = stop

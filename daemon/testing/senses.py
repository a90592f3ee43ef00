"""Recorded frames into a sense as they travel live: each frame's streams, then its pictures."""

from __future__ import annotations

from collections.abc import Iterable

from daemon.metrics import MetricFrame
from daemon.senses import Sense, deliver

__all__ = ["feed"]


def feed(sense: Sense, frames: Iterable[MetricFrame]) -> None:
    """Deliver each frame to `sense` split as the trainer sends it (StreamFrame, then PictureFrame if any)."""
    for frame in frames:
        for part in frame.split():
            if part is not None:
                deliver(sense, part)

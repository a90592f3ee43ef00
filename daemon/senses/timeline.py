"""A recording's messages in time, for the offline renders: fade in at 0, each frame when due, fade out at its end."""

from __future__ import annotations

import math
from collections.abc import Iterator

from daemon.messages import Fade, Message
from daemon.metrics import MetricFrame
from daemon.senses.sense import Sense, deliver

__all__ = ["TAIL_SECONDS", "Timeline", "footage_seconds"]

TAIL_SECONDS = 1.0  # after the fade-out, a little of the idle state


def footage_seconds(frames: list[MetricFrame], audio_fade_out_seconds: float, video_fade_seconds: float) -> float:
    """How long both offline renders of a run last by default: the run, the longer of the two fade-outs,
    TAIL_SECONDS. One length for sound and image, so `render-audio` and `render-video` of a run line up
    when put together ([audio] run_fade_out_seconds and [video] fade_seconds differ: 5 s and 3 s)."""
    return frames[-1].elapsed_seconds + max(audio_fade_out_seconds, video_fade_seconds) + TAIL_SECONDS


class Timeline:
    """`play(sense, step_seconds)` delivers, for each audio block or video frame, the messages due at its start.

    Frames are due at their recorded `elapsed_seconds`; the render lasts `seconds`, or by default
    the run, its fade-out and TAIL_SECONDS.
    """

    def __init__(
        self, frames: list[MetricFrame], fade_in_seconds: float, fade_out_seconds: float, seconds: float | None = None
    ):
        if not frames:
            raise ValueError("no frames to render")
        self.frames, self.fade_in_seconds, self.fade_out_seconds = frames, fade_in_seconds, fade_out_seconds
        self.end_seconds = frames[-1].elapsed_seconds
        self.total_seconds = seconds if seconds is not None else self.end_seconds + fade_out_seconds + TAIL_SECONDS

    def play(self, sense: Sense, step_seconds: float) -> Iterator[tuple[int, int]]:
        """Drive `sense` step by step (the messages due, then `tick(step_seconds)`); yield (steps done, in all).

        The caller takes the step's output after each yield: an audio block, a drawn frame.
        """
        for index, steps, messages in self._walk(step_seconds):
            for message in messages:
                deliver(sense, message)
            sense.tick(step_seconds)
            yield index + 1, steps

    def _walk(self, step_seconds: float) -> Iterator[tuple[int, int, list[Message]]]:
        """(step index, steps in all, messages due) from 0 to the end of the render."""
        steps = math.ceil(self.total_seconds / step_seconds)
        due: list[Message] = [Fade(1.0, self.fade_in_seconds)]
        next_frame, faded_out = 0, False
        for index in range(steps):
            now = index * step_seconds
            while next_frame < len(self.frames) and self.frames[next_frame].elapsed_seconds <= now:
                streams, pictures = self.frames[next_frame].split()
                due += [streams] if pictures is None else [streams, pictures]
                next_frame += 1
            if not faded_out and now >= self.end_seconds:
                due.append(Fade(0.0, self.fade_out_seconds))
                faded_out = True
            yield index, steps, due
            due = []

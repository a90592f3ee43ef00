"""Pacing a run so its arc fills the preset's duration on whatever machine it runs on."""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["Pacer"]


class Pacer:
    """Holds step k until `k × duration / steps` seconds after the start; never holds a late step.

    It measures the machine's own step rate (time spent training, sleeps excluded), so a slow
    machine is noticed rather than assumed: `projected_seconds` says how long the run will take.
    """

    def __init__(
        self,
        duration_seconds: float,
        steps: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.interval = duration_seconds / steps
        self.steps = steps
        self.clock, self.sleep = clock, sleep
        self.start = clock()
        self.busy_seconds = 0.0
        self.slept_seconds = 0.0
        self.done = 0
        self._step_started = self.start

    def before_step(self) -> None:
        delay = self.start + self.done * self.interval - self.clock()
        if delay > 0:
            self.sleep(delay)
            self.slept_seconds += delay
        self._step_started = self.clock()

    def after_step(self) -> None:
        self.busy_seconds += self.clock() - self._step_started
        self.done += 1

    @property
    def machine_steps_per_second(self) -> float:
        """Steps per second this machine manages flat out, measured so far."""
        return self.done / self.busy_seconds if self.busy_seconds > 0 else float("nan")

    @property
    def projected_seconds(self) -> float:
        """When the run will end: the preset's duration, or longer if the machine is too slow."""
        flat_out = self.steps / self.machine_steps_per_second if self.done else 0.0
        return max(self.interval * self.steps, flat_out)

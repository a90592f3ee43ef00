"""Pacing a run so its arc fills the preset's duration on whatever machine it runs on."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from daemon.config.schema import PacingKind

__all__ = ["ARC_START_FRACTION", "Pacer", "PacingLaw", "pacing_law"]

# Below about this fraction of its steps the arc law runs at a steady pace: the first steps are held
# for a bounded time (about 1.4 s for the shipped presets) instead of the unbounded hold of a pure power.
ARC_START_FRACTION = 0.01
# The rest of a run is planned as if it took this much longer than measured: a rate measured over
# a few steps can flatter the machine, and the margin is only spent where the plan was right.
CATCH_UP_MARGIN = 1.1


@dataclass(frozen=True)
class PacingLaw:
    """Where in a run's duration each step is released: the fraction of the steps done → of the time.

    `linear`: step k of n at k/n of the duration. `arc`: at g(k/n), where
    g(x) = ((x + a)^gamma − a^gamma) / ((1 + a)^gamma − a^gamma), a = ARC_START_FRACTION and gamma = `exponent`
    (0 < gamma ≤ 1): a power law, shifted so its first steps come at a finite pace. g(0) = 0,
    g(1) = 1, g rises fastest at the start — the early steps, where a GAN changes most, get more
    of the time and the late ones less. gamma = 1 is linear; a smaller gamma gives the start more.
    """

    kind: PacingKind = "linear"
    exponent: float = 1.0

    def __post_init__(self) -> None:
        if not 0.0 < self.exponent <= 1.0:
            raise ValueError(f"a pacing exponent is above 0 and at most 1, not {self.exponent}")

    def __call__(self, fraction: float) -> float:
        x = min(max(fraction, 0.0), 1.0)
        if self.kind == "linear" or self.exponent == 1.0:
            return x
        a, gamma = ARC_START_FRACTION, self.exponent
        return ((x + a) ** gamma - a**gamma) / ((1 + a) ** gamma - a**gamma)


def pacing_law(kind: PacingKind, exponent: float) -> PacingLaw:
    """The law a preset's `pacing` and `pacing_exponent` name (linear ignores the exponent)."""
    return PacingLaw(kind, exponent if kind == "arc" else 1.0)


class Pacer:
    """Holds step k until the law's time for it; never holds a late step.

    Step k (0-based) is released at `duration × law(k / steps)` after the start. It measures the
    machine's own step rate (time spent training, sleeps excluded), so a slow machine is noticed
    rather than assumed: `projected_seconds` says how long the run will take. A law that asks
    for late steps faster than the machine trains is bent to what the machine can do: no step is
    held past the moment from which the rest of the run, flat out, just ends on time.
    """

    def __init__(
        self,
        duration_seconds: float,
        steps: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        law: PacingLaw = PacingLaw(),
    ):
        self.duration_seconds = duration_seconds
        self.steps = steps
        self.law = law
        self.clock, self.sleep = clock, sleep
        self.start = clock()
        self.busy_seconds = 0.0
        self.slept_seconds = 0.0
        self.done = 0
        self._step_started = self.start
        self._first_step_seconds = 0.0

    @property
    def preset_steps_per_second(self) -> float:
        """The mean pace the preset asks for: its steps over its duration."""
        return self.steps / self.duration_seconds

    def release_seconds(self, index: int) -> float:
        """When step `index` (0-based) is due, in seconds after the start, by the law alone."""
        return self.duration_seconds * self.law(index / self.steps)

    def before_step(self) -> None:
        due = self.release_seconds(self.done)
        rate = self.machine_steps_per_second
        if self.done > 1 and math.isfinite(rate):  # a rate from steps past the first
            # The rest of the run, flat out, must still fit: hold no longer than that allows.
            due = min(due, self.duration_seconds - CATCH_UP_MARGIN * (self.steps - self.done) / rate)
        delay = self.start + due - self.clock()
        if delay > 0:
            self.sleep(delay)
            self.slept_seconds += delay
        self._step_started = self.clock()

    def after_step(self) -> None:
        took = self.clock() - self._step_started
        self.busy_seconds += took
        if self.done == 0:
            self._first_step_seconds = took
        self.done += 1

    @property
    def machine_steps_per_second(self) -> float:
        """Steps per second this machine manages flat out, measured so far.

        The first step is left out once there is a second: it warms the machine up and takes every
        measure at once (often ten times a usual step), and counted in it would rush a law's early steps.
        """
        steps, seconds = self.done, self.busy_seconds
        if steps > 1:
            steps, seconds = steps - 1, seconds - self._first_step_seconds
        return steps / seconds if seconds > 0 else float("nan")

    @property
    def projected_seconds(self) -> float:
        """When the run will end: the preset's duration, or longer if the machine is too slow."""
        flat_out = self.steps / self.machine_steps_per_second if self.done else 0.0
        return max(self.duration_seconds, flat_out)

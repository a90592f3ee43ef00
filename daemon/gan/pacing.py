"""Pacing a run so its arc fills the preset's duration on whatever machine it runs on."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from daemon.config.schema import PacingKind

__all__ = ["ARC_START_FRACTION", "PLAN_AFTER_STEPS", "Pacer", "PacingLaw", "pacing_law"]

# Below about this fraction of its steps the arc law runs at a steady pace: the first steps are held
# for a bounded time (about 1.4 s for the shipped presets) instead of the unbounded hold of a pure power.
ARC_START_FRACTION = 0.01
# The rest of a run is planned as if it took this much longer than measured: a rate measured over
# a few steps can flatter the machine, and the margin is only spent where the plan was right.
CATCH_UP_MARGIN = 1.1
# A run is fitted to the machine once this many steps have measured it: enough to trust a rate,
# early enough that the arc's first moves are still to come.
PLAN_AFTER_STEPS = 10
# A fitted run is planned bigger again only when the machine could now do this much more: a rate
# that wavers a little does not move the plan back and forth.
REGROW_RATIO = 1.1
# The machine's rate is the mean of this many recent steps: a machine that slows (another program,
# a hot CPU) or speeds up is followed within a few seconds, and the window spans the measuring
# cadences (samples every 10 steps, the classifier and the grid every 25), whose heavier steps count as often
# as they come.
RATE_WINDOW_STEPS = 100
# Steps are spread over the duration less this share of it (at most END_SLACK_MAX_SECONDS): the
# last step and the recording's close land before the slot ends, so a run completes, never cut.
END_SLACK_FRACTION = 0.015
END_SLACK_MAX_SECONDS = 2.0


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
    """Holds step k until the law's time for it; never holds a late step; fits the run to the machine.

    Step k (0-based) of `steps` is released at `finish × law(k / steps)` after the start, `finish`
    being the duration less a little slack so the run ends before its slot does. It
    measures the machine's own step rate (time spent training, sleeps excluded), so a slow machine
    is noticed rather than assumed. A law that asks for late steps faster than the machine trains is
    bent to what the machine can do: no step is held past the moment from which the rest of the
    run, flat out, just ends on time.

    From PLAN_AFTER_STEPS on, the run is fitted to its time: when the machine, flat out, could no
    longer do the planned steps before the duration ends (a slow machine, or an override or skip
    that gave the run less time), `steps` becomes what it can do, with CATCH_UP_MARGIN to spare, and
    the law spreads those; if the machine speeds up it is planned back up to `preset_steps`. So a
    run ends on time with its arc complete instead of being cut, and `replans` counts the changes.
    """

    def __init__(
        self,
        duration_seconds: float,
        steps: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        law: PacingLaw = PacingLaw(),
        start: float | None = None,
    ):
        """`start`: the `clock()` reading the duration counts from (default now)."""
        self.duration_seconds = duration_seconds
        self.finish_seconds = duration_seconds - min(END_SLACK_FRACTION * duration_seconds, END_SLACK_MAX_SECONDS)
        self.preset_steps = self.steps = steps
        self.law = law
        self.clock, self.sleep = clock, sleep
        self.start = clock() if start is None else start
        self.slept_seconds = 0.0
        self.done = 0
        self.replans = 0
        self._step_started = self.start
        self._recent: deque[float] = deque(maxlen=RATE_WINDOW_STEPS)  # step times, from the second step on

    @property
    def preset_steps_per_second(self) -> float:
        """The mean pace the preset asks for: all its steps over the run's duration."""
        return self.preset_steps / self.duration_seconds

    @property
    def planned_steps_per_second(self) -> float:
        """The mean pace of the plan: the steps planned now over the run's duration."""
        return self.steps / self.duration_seconds

    @property
    def fitted(self) -> bool:
        """Planned fewer steps than the preset's: the machine cannot do them all in the time."""
        return self.steps < self.preset_steps

    @property
    def finished(self) -> bool:
        """Every planned step is done."""
        return self.done >= self.steps

    def release_seconds(self, index: int) -> float:
        """When step `index` (0-based) is due, in seconds after the start, by the law alone."""
        return self.finish_seconds * self.law(index / self.steps)

    def before_step(self) -> None:
        due = self.release_seconds(self.done)
        rate = self.machine_steps_per_second
        if self.done > 1 and math.isfinite(rate):  # a rate from steps past the first
            # The rest of the run, flat out, must still fit: hold no longer than that allows.
            due = min(due, self.finish_seconds - CATCH_UP_MARGIN * (self.steps - self.done) / rate)
        delay = self.start + due - self.clock()
        if delay > 0:
            self.sleep(delay)
            self.slept_seconds += delay
        self._step_started = self.clock()

    def after_step(self) -> None:
        if self.done > 0:
            self._recent.append(self.clock() - self._step_started)
        self.done += 1
        if self.done >= PLAN_AFTER_STEPS:
            self._fit()

    def _fit(self) -> None:
        """Plan the steps the machine can do in the time left (never more than the preset's)."""
        rate = self.machine_steps_per_second
        if not math.isfinite(rate):
            return
        left = self.finish_seconds - (self.clock() - self.start)
        can_do = self.done + max(0, math.floor(left * rate / CATCH_UP_MARGIN))
        too_many = (self.steps - self.done) / rate > left
        room = self.steps < self.preset_steps and can_do >= self.steps * REGROW_RATIO
        if too_many or room:
            planned = max(self.done, min(self.preset_steps, can_do))
            if planned != self.steps:
                self.steps = planned
                self.replans += 1

    @property
    def machine_steps_per_second(self) -> float:
        """Steps per second this machine manages flat out now: over the last RATE_WINDOW_STEPS steps.

        The first step is left out: it warms the machine up and takes every measure at once (often
        ten times a usual step), and counted in it would rush a law's early steps.
        """
        seconds = sum(self._recent)
        return len(self._recent) / seconds if seconds > 0 else float("nan")

    @property
    def projected_seconds(self) -> float:
        """How long all the preset's steps would take: its duration, or longer if the machine is too slow."""
        flat_out = self.preset_steps / self.machine_steps_per_second if self.done else 0.0
        return max(self.duration_seconds, flat_out)

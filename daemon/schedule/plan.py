"""The day's programme from the clock alone: opening hours cut into back-to-back run slots.

Nothing about the schedule needs remembering: slot k of a day starts at the day's opening plus
the lengths of the slots before it, and its preset is the cycle's (day number + k)-th (or the
day's k-th weighted draw). After a restart or a power cut the supervisor asks `at(now)` and plays
what should be playing; only overrides and pauses are state, kept elsewhere.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from daemon.config.schema import Cycle, Hours, RunPreset

__all__ = ["WEEKDAYS", "Plan", "Slot"]

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
SHORTEST_RUN_SECONDS = 60.0  # a remainder shorter than this is added to the slot before it


@dataclass(frozen=True)
class Slot:
    """One run in the programme: `first`/`last` of an opening period fade with [hours]' slower fades."""

    preset: str
    start: datetime
    end: datetime
    first: bool
    last: bool

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


class Plan:
    def __init__(self, cycle: Cycle, hours: Hours, runs: dict[str, RunPreset]):
        self.cycle, self.hours, self.runs = cycle, hours, runs
        self._days: dict[date, list[Slot]] = {}

    def periods(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's opening period (none on a closed date or a day marked "")."""
        text = getattr(self.hours, WEEKDAYS[day.weekday()])
        if not text or day.isoformat() in self.hours.closed_dates:
            return []
        opening, closing = text.split("-")
        start = datetime.combine(day, time.fromisoformat(opening))
        end = (
            datetime.combine(day, time()) + timedelta(days=1)
            if closing == "24:00"
            else datetime.combine(day, time.fromisoformat(closing))
        )
        return [(start, end)] if end > start else []

    def slots(self, day: date) -> list[Slot]:
        if day not in self._days:
            self._days = {d: s for d, s in self._days.items() if abs((d - day).days) <= 2}
            self._days[day] = self._lay_out(day)
        return self._days[day]

    def _lay_out(self, day: date) -> list[Slot]:
        presets = self._sequence(day)
        slots: list[Slot] = []
        for start, end in self.periods(day):
            t, first = start, True
            while t < end:
                preset = next(presets)
                slot_end = min(t + timedelta(seconds=self.runs[preset].duration_seconds), end)
                if (end - slot_end).total_seconds() < SHORTEST_RUN_SECONDS:
                    slot_end = end
                slots.append(Slot(preset, t, slot_end, first, slot_end == end))
                t, first = slot_end + timedelta(seconds=self.cycle.gap_seconds), False
        return slots

    def _sequence(self, day: date):
        order = self.cycle.presets
        if self.cycle.order == "shuffle":
            draw = random.Random(day.toordinal())
            weights = [self.cycle.weights.get(name, 1.0) for name in order]
            while True:
                yield draw.choices(order, weights)[0]
        k = day.toordinal()
        while True:
            yield order[k % len(order)]
            k += 1

    def at(self, now: datetime) -> Slot | None:
        """The slot playing at `now`, or None (closed, or in a gap between runs)."""
        for slot in self.slots(now.date()):
            if slot.start <= now < slot.end:
                return slot
        return None

    def closing(self, now: datetime) -> datetime | None:
        """When the opening period holding `now` closes; None when `now` is outside the hours."""
        return next((end for start, end in self.periods(now.date()) if start <= now < end), None)

    def upcoming(self, now: datetime, hours: float = 24.0) -> list[Slot]:
        """Every slot overlapping the next `hours`, the current one first."""
        until = now + timedelta(hours=hours)
        day, found = now.date(), []
        while datetime.combine(day, time()) < until:
            found += [s for s in self.slots(day) if s.end > now and s.start < until]
            day += timedelta(days=1)
        return found

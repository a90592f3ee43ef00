"""The day's programme from the clock alone: opening hours cut into back-to-back run slots.

Nothing about the schedule needs remembering: slot k of a day starts at the day's opening plus
the lengths of the slots before it, and its preset is the cycle's (day number + k)-th (or the
day's k-th weighted draw). After a restart or a power cut the supervisor asks `at(now)` and plays
what should be playing; only overrides and pauses are state, kept elsewhere.

Days and hours are the gallery's wall clock (`[hours] timezone`); instants are UTC, and a run's
length is elapsed time: the night the clock jumps forward or back, slots are laid out by the
seconds that really pass, so none is cut short or played twice.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from daemon.config.schema import WEEKDAY_NAMES, Cycle, Hours, RunPreset
from daemon.schedule.clock import first_instant_showing, gallery_zone

__all__ = ["WEEKDAYS", "Plan", "Slot"]

WEEKDAYS = WEEKDAY_NAMES
SHORTEST_RUN_SECONDS = 60.0  # a remainder shorter than this is added to the slot before it


@dataclass(frozen=True)
class Slot:
    """One run in the programme (UTC instants): `first`/`last` of an opening fade with [hours]' slower fades."""

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
        self.zone = gallery_zone(hours.timezone)
        self._days: dict[date, list[Slot]] = {}

    def local(self, moment: datetime) -> datetime:
        """`moment` on the gallery's clock (a naive time is taken as already on it)."""
        return moment.astimezone(self.zone) if moment.tzinfo else moment.replace(tzinfo=self.zone)

    def periods(self, day: date) -> list[tuple[datetime, datetime]]:
        """The opening that begins on `day` (none on a closed date or a day marked ""), in UTC.

        It closes the next morning when its closing time is not after its opening time.
        """
        text = getattr(self.hours, WEEKDAYS[day.weekday()])
        if not text or day.isoformat() in self.hours.closed_dates:
            return []
        opening, closing = text.split("-")
        start = first_instant_showing(day, time.fromisoformat(opening), self.zone)
        if closing == "24:00" or closing <= opening:
            closing_day = day + timedelta(days=1)
            closing = "00:00" if closing == "24:00" else closing
        else:
            closing_day = day
        end = first_instant_showing(closing_day, time.fromisoformat(closing), self.zone)
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
        now = self.instant(now)
        for day in self._days_around(now):
            for slot in self.slots(day):
                if slot.start <= now < slot.end:
                    return slot
        return None

    def closing(self, now: datetime) -> datetime | None:
        """When the opening holding `now` closes; None when `now` is outside the hours."""
        now = self.instant(now)
        for day in self._days_around(now):
            for start, end in self.periods(day):
                if start <= now < end:
                    return end
        return None

    def next_opening(self, now: datetime, days: int = 8) -> datetime | None:
        """The next opening after `now` within `days` days (None: closed all that time)."""
        now = self.instant(now)
        first = self._days_around(now)[0]
        for day in (first + timedelta(days=k) for k in range(days + 1)):
            for start, _ in self.periods(day):
                if start > now:
                    return start
        return None

    def powered(self, now: datetime, lead_seconds: float) -> bool:
        """Whether the equipment (projectors) should be on: within the hours, or `lead_seconds` before an opening.

        A run's last fade ends at closing time, so closing is also when the equipment may go off.
        """
        now = self.instant(now)
        if self.closing(now) is not None:
            return True
        opening = self.next_opening(now, days=2 + int(lead_seconds // 86_400))
        return opening is not None and (opening - now).total_seconds() <= lead_seconds

    def upcoming(self, now: datetime, hours: float = 24.0) -> list[Slot]:
        """Every slot overlapping the next `hours`, the current one first."""
        now = self.instant(now)
        until = now + timedelta(hours=hours)
        day, found = self._days_around(now)[0], []
        while first_instant_showing(day, time(), self.zone) < until:
            found += [s for s in self.slots(day) if s.end > now and s.start < until]
            day += timedelta(days=1)
        return found

    def instant(self, moment: datetime) -> datetime:
        """`moment` in UTC (a naive time is taken as on the gallery's clock)."""
        return self.local(moment).astimezone(UTC)

    def _days_around(self, now: datetime) -> list[date]:
        """The gallery's day holding `now`, after the day before (whose opening may run past midnight)."""
        today = now.astimezone(self.zone).date()
        return [today - timedelta(days=1), today]

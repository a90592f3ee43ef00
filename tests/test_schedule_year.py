"""A whole year of opening and closing, in four zones, against the C library's own clock.

The plan computes its instants with Python's zoneinfo; here each day's opening and closing are
found independently, by asking libc (`TZ=…`, `time.localtime`) what the wall clock shows at each
instant and taking the first instant that shows the opening time or later on that date. The
year (July 2027 to July 2028) holds both DST changes of both hemispheres, a 30-minute DST (Lord
Howe), a leap day, closed dates, and nights that run past midnight across the changes, with
openings and closings at times the clock skips or shows twice. `schedule` must print the same.
"""

from __future__ import annotations

import itertools
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import pytest

from daemon.config import parse
from daemon.schedule.plan import WEEKDAYS, Plan
from tests.conftest import run_cli

ZONES = ("Europe/Berlin", "America/New_York", "Australia/Sydney", "Australia/Lord_Howe")
FIRST_DAY, DAYS = date(2027, 7, 1), 366
HOURS = {
    "monday": "",
    "tuesday": "10:00-18:00",
    "wednesday": "10:00-18:00",
    "thursday": "10:00-18:00",
    "friday": "10:00-22:00",
    "saturday": "22:00-02:30",  # closes at a time the clock skips in spring and shows twice in autumn
    "sunday": "02:30-12:00",  # and opens then
}
CLOSED = ["2027-12-25", "2028-02-29", "2027-10-31"]  # Christmas, the leap day, a Sunday of a DST change
SATURDAY_NIGHTS_ELAPSED = {  # seconds: 4.5 h of clock, 4 h the spring night, 5.5 h (5 h) the autumn one
    "Europe/Berlin": {14400, 16200},
    "America/New_York": {14400, 16200, 19800},
    "Australia/Sydney": {14400, 16200},
    "Australia/Lord_Howe": {14400, 16200, 18000},
}
GRID_SECONDS = 1800  # every opening, closing and DST change here falls on the half hour


def config_text(zone: str) -> str:
    days = "".join(f'{day} = "{text}"\n' for day, text in HOURS.items())
    return f'[hours]\ntimezone = "{zone}"\n{days}closed_dates = {CLOSED!r}\n[cycle]\ngap_seconds = 20.0\n'.replace(
        "'", '"'
    )


@contextmanager
def libc_zone(zone: str) -> Iterator[None]:
    before = os.environ.get("TZ")
    os.environ["TZ"] = zone
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TZ")
        else:
            os.environ["TZ"] = before
        time.tzset()


def libc_first_showing(day: date, wall: str) -> int:
    """The first epoch second at which libc's clock shows `wall` or later on `day` (TZ already set)."""
    target = (day.year, day.month, day.day, int(wall[:2]), int(wall[3:]))
    start = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) - 16 * 3600
    for second in itertools.count(start - start % GRID_SECONDS, GRID_SECONDS):
        if tuple(time.localtime(second)[:5]) >= target:
            return second
    raise AssertionError("unreachable")


def expected_periods(zone: str) -> dict[date, tuple[int, int]]:
    found = {}
    with libc_zone(zone):
        for day in (FIRST_DAY + timedelta(days=k) for k in range(DAYS)):
            text = HOURS[WEEKDAYS[day.weekday()]]
            if not text or day.isoformat() in CLOSED:
                continue
            opening, closing = text.split("-")
            closing_day = day + timedelta(days=1) if closing <= opening else day
            found[day] = (libc_first_showing(day, opening), libc_first_showing(closing_day, closing))
    return found


@pytest.mark.parametrize("zone", ZONES)
def test_a_year_of_openings_and_closings_matches_the_c_library(zone):
    config = parse(config_text(zone))
    plan = Plan(config.cycle, config.hours, config.runs)
    expected = expected_periods(zone)
    assert len(expected) > 200
    elapsed_nights = set()
    for day in (FIRST_DAY + timedelta(days=k) for k in range(DAYS)):
        periods = [(int(a.timestamp()), int(b.timestamp())) for a, b in plan.periods(day)]
        assert periods == ([expected[day]] if day in expected else []), (zone, day)
        slots = plan.slots(day)
        if day not in expected:
            assert slots == []
            continue
        opening, closing = expected[day]
        assert slots[0].first and int(slots[0].start.timestamp()) == opening
        assert slots[-1].last and int(slots[-1].end.timestamp()) == closing
        for before, after in itertools.pairwise(slots):  # back to back by elapsed time: nothing cut, nothing twice
            assert (after.start - before.end).total_seconds() == 20.0
            assert before.seconds == config.runs[before.preset].duration_seconds
        if HOURS[WEEKDAYS[day.weekday()]] == "22:00-02:30":
            elapsed_nights.add(closing - opening)
    # Saturday 22:00 to 02:30 is 4.5 hours of clock. The spring night closes when the clock jumps
    # past 02:30 (4 h elapsed); the autumn night closes at the first 02:30, which comes after the
    # repeated hour where the clock goes back at 02:00 (New York, Lord Howe by half an hour).
    assert elapsed_nights == SATURDAY_NIGHTS_ELAPSED[zone]


@pytest.mark.parametrize("zone", ZONES[::3])  # Berlin and Lord Howe: whole-hour and half-hour DST
def test_the_schedule_command_prints_the_same_year(tmp_path, zone):
    path = tmp_path / "installation.toml"
    path.write_text(config_text(zone))
    result = run_cli("schedule", "--config", str(path), "--from", f"{FIRST_DAY}T00:00", "--hours", str(DAYS * 24))
    assert result.returncode == 0, result.stderr
    printed_openings = re.findall(r"^(\S+ \S+ \S+)–.* opens: fades in", result.stdout, re.M)
    printed_closings = re.findall(r"^(\S+ \S+ \S+)  closed ", result.stdout, re.M)
    with libc_zone(zone):
        shown = [
            tuple(time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(moment)) for moment in period)
            for _, period in sorted(expected_periods(zone).items())
        ]
    assert printed_openings == [opening for opening, _ in shown]
    assert printed_closings == [closing for _, closing in shown]

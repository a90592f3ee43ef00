"""The programme from the clock: slots over opening hours, closed days, shuffle, and what a restart resumes."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from daemon.config import parse
from daemon.schedule.plan import Plan
from tests.conftest import run_cli


def plan_of(toml: str) -> Plan:
    config = parse(toml)
    return Plan(config.cycle, config.hours, config.runs)


BERLIN = ZoneInfo("Europe/Berlin")


def berlin(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=BERLIN)  # type: ignore[misc]


GALLERY = (
    '[hours]\ntimezone = "Europe/Berlin"\n'
    'monday = ""\ntuesday = "10:00-18:00"\nwednesday = "10:00-18:00"\nclosed_dates = ["2026-12-01"]\n'
    "[cycle]\ngap_seconds = 10.0\n"
)


def test_slots_fill_the_opening_hours_back_to_back_with_gaps():
    plan = plan_of(GALLERY)
    day = datetime(2026, 11, 24).date()  # a Tuesday
    slots = plan.slots(day)
    assert slots[0].start == berlin(2026, 11, 24, 10, 0) and slots[0].first
    assert slots[-1].end == berlin(2026, 11, 24, 18, 0) and slots[-1].last
    assert slots[0].start.tzinfo == UTC  # instants are UTC; days and hours are the gallery's clock
    for before, after in itertools.pairwise(slots):
        assert after.start - before.end == timedelta(seconds=10)
        assert before.seconds >= 60
    names = [s.preset for s in slots[:5]]
    order = ["healthy", "collapsed", "underfit", "random"]
    k = order.index(names[0])
    assert names == [order[(k + i) % 4] for i in range(5)]  # the cycle, in order
    assert slots[0].seconds == 240.0 and next(s for s in slots if s.preset == "random").seconds == 120.0


def test_closed_days_and_hours_play_nothing():
    plan = plan_of(GALLERY)
    assert plan.slots(datetime(2026, 11, 23).date()) == []  # Monday: ""
    assert plan.slots(datetime(2026, 12, 1).date()) == []  # a closed date (a Tuesday)
    assert plan.at(berlin(2026, 11, 24, 9, 59)) is None and plan.at(berlin(2026, 11, 24, 18, 0)) is None
    assert plan.at(berlin(2026, 11, 24, 10, 0)).first
    assert plan.at(datetime(2026, 11, 24, 9, 0, tzinfo=UTC)).first  # 10:00 in Berlin, asked in UTC
    assert plan.at(datetime(2026, 11, 24, 10, 0)).first  # a naive time is on the gallery's clock


def test_a_restart_resumes_what_the_clock_says():
    """Two plans built at different times (a restart) agree on what plays at any moment."""
    moment = berlin(2026, 11, 25, 13, 17, 42)
    before, after = plan_of(GALLERY), plan_of(GALLERY)
    before.slots(moment.date() - timedelta(days=1))  # one plan has lived longer than the other
    assert before.at(moment) == after.at(moment) and after.at(moment).start <= moment < after.at(moment).end


def test_shuffle_follows_the_weights_and_is_fixed_per_day():
    shuffle = '[cycle]\norder = "shuffle"\nweights = { healthy = 6.0, random = 0.0 }\n'
    day = datetime(2026, 11, 25).date()
    presets = [s.preset for s in plan_of(shuffle).slots(day)]
    assert "random" not in presets and presets.count("healthy") > 2 * presets.count("collapsed")
    assert presets == [s.preset for s in plan_of(shuffle).slots(day)]  # the same draw after a restart


def test_hours_mistakes_are_config_errors():
    from daemon.config import ConfigInvalid

    try:
        parse('[hours]\nfriday = "10-18"\nclosed_dates = ["25.12.2026"]\n')
    except ConfigInvalid as exc:
        messages = {e.key: e.message for e in exc.errors}
    assert "hours.friday" in messages and "YYYY-MM-DD" in messages["hours.closed_dates"]


def test_schedule_command_prints_the_next_24_hours(tmp_path):
    config = tmp_path / "installation.toml"
    config.write_text(GALLERY)
    result = run_cli("schedule", "--config", str(config), "--from", "2026-11-24T17:50")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "times on the gallery's clock: Europe/Berlin ([hours] timezone)"
    assert lines[1].startswith("2026-11-24 17:") and "closed" in result.stdout
    assert "2026-11-24 18:00:00 CET  closed until 2026-11-25 10:00:00 CET" in lines
    assert any(line.startswith("2026-11-25 10:00:00 CET–10:04:00 CET  ") for line in lines)
    bad = run_cli("schedule", "--config", str(config), "--from", "tomorrow")
    assert bad.returncode == 2 and "--from 'tomorrow' is not a time" in bad.stderr and "Traceback" not in bad.stderr


NIGHTS = (
    '[hours]\ntimezone = "Europe/Berlin"\nfriday = "20:00-03:00"\nsaturday = "20:00-05:00"\nsunday = ""\n'
    "[cycle]\ngap_seconds = 0.0\n"
)


def test_hours_past_midnight_close_the_next_morning():
    plan = plan_of(NIGHTS)
    friday = datetime(2026, 11, 27).date()
    assert plan.periods(friday) == [(berlin(2026, 11, 27, 20, 0), berlin(2026, 11, 28, 3, 0))]
    assert plan.at(berlin(2026, 11, 28, 2, 59)).last  # Saturday morning still plays Friday's night
    assert plan.closing(berlin(2026, 11, 28, 1, 0)) == berlin(2026, 11, 28, 3, 0)
    assert plan.at(berlin(2026, 11, 28, 3, 0)) is None and plan.at(berlin(2026, 11, 28, 19, 59)) is None
    assert plan.at(berlin(2026, 11, 29, 21, 0)) is None  # Sunday is closed: its evening does not open
    assert plan.at(berlin(2026, 11, 29, 2, 0)) is not None  # Saturday's night reaches into Sunday


def test_the_nights_the_clock_jumps_are_laid_out_by_elapsed_time():
    """Saturday 20:00 to Sunday 05:00 lasts 8 hours in March (02:00 → 03:00) and 10 in October."""
    plan = plan_of(NIGHTS)
    for day, hours in ((datetime(2027, 3, 27).date(), 8), (datetime(2026, 10, 24).date(), 10)):
        slots = plan.slots(day)
        assert slots[-1].end - slots[0].start == timedelta(hours=hours)
        assert sum(slot.seconds for slot in slots) == hours * 3600  # back to back, nothing lost or repeated
        assert len({slot.start for slot in slots}) == len(slots)
        assert all(slot.seconds >= 60 for slot in slots)
    # The slot over the jump forward is as long as any other: the clock skips, the run does not.
    jump = plan.at(berlin(2027, 3, 28, 1, 59, 59))
    assert jump.seconds == plan.runs[jump.preset].duration_seconds
    assert plan.at(berlin(2027, 3, 28, 3, 0)).start == jump.end  # the clock jumped, the runs did not


def test_an_opening_the_clock_skips_opens_at_the_jump():
    plan = plan_of('[hours]\ntimezone = "Europe/Berlin"\nsunday = "02:30-10:00"\n')
    sunday = datetime(2027, 3, 28).date()  # 02:00 becomes 03:00: 02:30 never shows
    assert plan.periods(sunday)[0][0] == berlin(2027, 3, 28, 3, 0)
    autumn = datetime(2026, 10, 25).date()  # 02:30 shows twice: the first time opens
    assert plan.periods(autumn)[0][0] == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_the_zone_and_night_mistakes_are_config_errors():
    from daemon.config import ConfigInvalid

    cases = {
        '[hours]\ntimezone = "Europe/Berln"\n': ("hours.timezone", "Did you mean 'Europe/Berlin'?"),
        '[hours]\ntimezone = "Europe"\n': ("hours.timezone", "is not a time zone"),
        '[hours]\ntimezone = "../../etc/passwd"\n': ("hours.timezone", "is not a time zone"),
        '[hours]\nmonday = "20:00-14:00"\n': ("hours.monday", 'Did you mean "14:00-20:00"?'),
        '[hours]\nfriday = "20:00-03:00"\nsaturday = "02:00-05:00"\n': ("hours.saturday", "still open"),
        '[hours]\nsunday = "20:00-03:00"\nmonday = "01:00-05:00"\n': ("hours.sunday", "runs past midnight into"),
    }
    for toml, (key, words) in cases.items():
        try:
            parse(toml)
        except ConfigInvalid as exc:
            messages = {e.key: e.message for e in exc.errors}
        else:
            raise AssertionError(f"accepted: {toml!r}")
        assert words in messages.get(key, ""), (toml, messages)
    parse('[hours]\nfriday = "20:00-03:00"\nsaturday = "03:00-05:00"\n')  # touching is not overlapping
    parse('[hours]\nfriday = "18:00-00:00"\nsaturday = "00:00-05:00"\n')


def test_weights_that_would_make_the_days_draw_impossible_are_config_errors():
    from daemon.config import ConfigInvalid

    for weights in ("{ healthy = inf }", "{ healthy = 1e308, random = 1e308 }", "{ healthy = nan }"):
        try:
            parse(f'[cycle]\norder = "shuffle"\nweights = {weights}\n')
        except ConfigInvalid as exc:
            assert any(e.key == "cycle.weights" for e in exc.errors), exc.errors
        else:
            raise AssertionError(f"accepted: {weights}")

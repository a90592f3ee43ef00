"""The programme from the clock: slots over opening hours, closed days, shuffle, and what a restart resumes."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from daemon.config import parse
from daemon.schedule.plan import Plan
from tests.conftest import run_cli


def plan_of(toml: str) -> Plan:
    config = parse(toml)
    return Plan(config.cycle, config.hours, config.runs)


GALLERY = (
    '[hours]\nmonday = ""\ntuesday = "10:00-18:00"\nwednesday = "10:00-18:00"\nclosed_dates = ["2026-12-01"]\n'
    "[cycle]\ngap_seconds = 10.0\n"
)


def test_slots_fill_the_opening_hours_back_to_back_with_gaps():
    plan = plan_of(GALLERY)
    day = datetime(2026, 11, 24).date()  # a Tuesday
    slots = plan.slots(day)
    assert slots[0].start == datetime(2026, 11, 24, 10, 0) and slots[0].first
    assert slots[-1].end == datetime(2026, 11, 24, 18, 0) and slots[-1].last
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
    assert plan.at(datetime(2026, 11, 24, 9, 59)) is None and plan.at(datetime(2026, 11, 24, 18, 0)) is None
    assert plan.at(datetime(2026, 11, 24, 10, 0)).first


def test_a_restart_resumes_what_the_clock_says():
    """Two plans built at different times (a restart) agree on what plays at any moment."""
    moment = datetime(2026, 11, 25, 13, 17, 42)
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
    assert lines[0].startswith("2026-11-24 17:") and "closed" in result.stdout
    assert any(line.startswith("2026-11-25 10:00") for line in lines)

"""What the supervisor tells the trainer and the senses, pass by pass, from the plan, overrides and pauses.

The programme's two outputs are plain callbacks; here they collect the messages a real trainer
and real senses would receive (the same messages tests/test_supervision.py sends for real).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from daemon.config import parse
from daemon.config.loader import LoadedConfig
from daemon.messages import Crossfade, Fade, Pause, Play, Resume, StopRun
from daemon.schedule.programme import Programme

OPEN_10_TO_18 = "".join(
    f'{day} = "10:00-18:00"\n' for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
)


NO_CROSSFADE = "[cycle]\ncrossfade_seconds = 0.0\n"  # each run fades out, the next fades in


def programme(tmp_path, toml: str = "", runs: int | None = None, hours: str = OPEN_10_TO_18):
    loaded = LoadedConfig(parse("[hours]\n" + hours + toml), "test", tmp_path)
    trainer, senses = [], []
    made = Programme(loaded, trainer.append, senses.append, tmp_path / "state.json", runs)
    made.on_idle()
    return made, trainer, senses


def test_the_plan_plays_within_hours_and_is_dark_outside(tmp_path):
    prog, trainer, senses = programme(tmp_path, NO_CROSSFADE)
    prog.tick(datetime(2026, 11, 25, 9, 0))
    assert trainer == [] and senses == []  # closed: nothing starts (and the senses start dark)
    opening = datetime(2026, 11, 25, 10, 0, 1)
    prog.tick(opening)
    slot = prog.plan.at(opening)
    assert trainer == [Play(slot.preset, (slot.end - prog.plan.instant(opening)).total_seconds())]
    assert senses == [Fade(1.0, 30.0)]  # the first run of the day rises with [hours] fade_in_seconds
    prog.tick(slot.end - timedelta(seconds=4))
    assert senses[-1] == Fade(0.0, 5.0)  # the run's own fade-out, before the slot ends
    prog.tick(slot.end)
    assert trainer[-1] == StopRun()
    prog.on_run_ended("stopped", slot.end)
    prog.on_idle()
    prog.tick(slot.end + timedelta(seconds=0.1))
    assert trainer[-1].preset == prog.plan.at(slot.end).preset


def test_an_override_plays_now_and_the_schedule_resumes_after_it(tmp_path):
    prog, trainer, senses = programme(tmp_path, NO_CROSSFADE)
    now = datetime(2026, 11, 25, 12, 0)
    prog.tick(now)
    scheduled = trainer[-1].preset
    prog.override_with("random", 2.0, "alice", now)
    prog.tick(now + timedelta(seconds=1))
    assert trainer[-1] == StopRun() and senses[-1] == Fade(0.0, 1.0)  # a quick fade out, then in
    prog.on_run_ended("stopped", now)
    prog.on_idle()
    prog.tick(now + timedelta(seconds=1.5))
    assert trainer[-1] == Play("random", 118.5)
    # A restart in the middle keeps the override (state.json), then the clock takes over again.
    again, trainer2, _ = programme(tmp_path, NO_CROSSFADE)
    again.tick(now + timedelta(seconds=30))
    assert trainer2[-1].preset == "random"
    again.tick(now + timedelta(minutes=2, seconds=1))
    assert trainer2[-1] == StopRun()
    again.on_run_ended("stopped", now)
    again.on_idle()
    later = now + timedelta(minutes=2, seconds=2)
    again.tick(later)
    assert trainer2[-1].preset == again.plan.at(later).preset and again.override is None
    assert scheduled in ("healthy", "collapsed", "underfit", "random")


def test_consecutive_runs_and_an_override_crossfade_and_only_closing_fades_to_dark(tmp_path):
    prog, trainer, senses = programme(tmp_path, "[cycle]\ncrossfade_seconds = 6.0\n")
    opening = datetime(2026, 11, 25, 10, 0, 1)
    prog.tick(opening)
    assert senses == [Fade(1.0, 30.0)]  # the day still rises from dark
    first = prog.plan.at(opening)
    prog.tick(first.end - timedelta(seconds=2))
    assert senses == [Fade(1.0, 30.0)]  # no fade-out before the next run
    prog.tick(first.end)
    assert trainer[-1] == StopRun() and len(senses) == 1
    prog.on_run_ended("stopped", first.end)
    prog.on_idle()
    prog.tick(first.end + timedelta(seconds=0.5))
    assert trainer[-1].preset == prog.plan.at(first.end).preset and senses[-1] == Crossfade(6.0)
    now = first.end + timedelta(seconds=30)
    prog.override_with("random", 1.0, "alice", now)
    prog.tick(now)
    assert trainer[-1] == StopRun() and senses[-1] == Crossfade(6.0)  # no dip to silence
    prog.on_run_ended("stopped", now)
    prog.on_idle()
    prog.tick(now + timedelta(seconds=0.5))
    assert trainer[-1].preset == "random" and senses[-1] == Crossfade(6.0) and len(senses) == 3
    prog.override = None
    prog.playing = prog.wanted(datetime(2026, 11, 25, 17, 59))  # as if the day had played on to its last slot
    prog.tick(prog.playing.end - timedelta(seconds=29))
    assert senses[-1] == Fade(0.0, 30.0)  # closing: the day's fade-out, to dark


def test_a_run_that_completes_just_before_its_slot_ends_is_not_started_again(tmp_path):
    prog, trainer, senses = programme(tmp_path)
    now = datetime(2026, 11, 25, 12, 0)
    prog.tick(now)
    slot_end = prog.playing.end
    prog.on_run_ended("completed", slot_end - timedelta(seconds=0.2))  # pacing ends it a step early
    prog.on_idle()
    prog.tick(slot_end - timedelta(seconds=0.1))
    assert len(trainer) == 1  # no 0.1-second run of the same slot
    prog.tick(slot_end + timedelta(seconds=0.05))
    assert trainer[-1].preset == prog.plan.at(slot_end).preset and isinstance(senses[-1], Crossfade)


def test_a_run_completed_early_holds_its_slot_to_its_end_watched_and_faded_as_if_it_played(tmp_path):
    """A paced run completes a little before its slot ends (a fitted one up to 2 s): the slot plays on,
    the senses holding its last step. Output is still expected (the watch judges on), what plays is
    still its preset, its own fade-out comes at its time, and the next run starts with no StopRun to
    a trainer that has nothing to stop."""
    prog, trainer, senses = programme(tmp_path, NO_CROSSFADE)
    now = datetime(2026, 11, 25, 12, 0)
    prog.tick(now)
    slot_end, preset = prog.playing.end, prog.playing.preset
    prog.tick(now + timedelta(seconds=20))  # lit long enough for output to be expected
    prog.on_run_ended("completed", slot_end - timedelta(seconds=8))
    prog.on_idle()
    prog.tick(slot_end - timedelta(seconds=7))
    assert prog.expecting_output(slot_end - timedelta(seconds=7))
    assert prog.outlook(slot_end - timedelta(seconds=7))["playing"] == preset and len(trainer) == 1
    prog.tick(slot_end - timedelta(seconds=4))
    assert senses[-1] == Fade(0.0, 5.0)  # its own fade-out, at its time
    prog.tick(slot_end + timedelta(seconds=0.05))
    assert [type(m) for m in trainer] == [Play, Play] and trainer[-1].preset == prog.plan.at(slot_end).preset
    assert senses[-1] == Fade(1.0, prog.config.audio.run_fade_in_seconds)


def test_pause_holds_everything_until_resume(tmp_path):
    prog, trainer, _ = programme(tmp_path)
    now = datetime(2026, 11, 25, 12, 0)
    prog.tick(now)
    prog.set_paused(True, "bob")
    slot_end = prog.playing.end
    prog.tick(slot_end + timedelta(seconds=1))
    assert trainer[-1] == Pause()  # no stop_run while paused, even past the slot's end
    prog.set_paused(False, "bob")
    prog.tick(slot_end + timedelta(seconds=2))
    assert trainer[-2:] == [Resume(), StopRun()]


def test_a_pause_never_outlives_closing_time_and_is_cleared_at_the_next_opening(tmp_path):
    prog, trainer, senses = programme(tmp_path, NO_CROSSFADE)
    day = datetime(2026, 11, 25)
    last = prog.plan.slots(day.date())[-1]
    prog.tick(last.start)
    prog.set_paused(True, "bob")
    prog.tick(last.start + timedelta(seconds=5))
    assert trainer[-1] == Pause() and senses[-1] == Fade(1.0, 5.0)  # paused: the day's last run holds
    prog.tick(last.end - timedelta(seconds=29))
    assert senses[-1] == Fade(0.0, 30.0)  # the closing fade-out starts on time all the same
    prog.tick(last.end + timedelta(seconds=1))
    assert trainer[-1] == StopRun() and prog.paused  # closed: the run ends, the pause is kept overnight
    prog.on_run_ended("stopped", last.end)
    prog.on_idle()
    prog.tick(last.end + timedelta(seconds=2))
    assert senses[-1] == Fade(0.0, 30.0) and prog.dark
    prog.tick(datetime(2026, 11, 26, 10, 0, 1))  # the next opening: the pause is cleared, the day plays
    assert not prog.paused and trainer[-2] == Resume() and isinstance(trainer[-1], Play)
    assert senses[-1] == Fade(1.0, 30.0)
    again, _, _ = programme(tmp_path, NO_CROSSFADE)
    assert not again.paused  # and it stays cleared after a restart (state.json)


def test_an_override_ends_at_closing_time_with_the_days_fade_out(tmp_path):
    prog, trainer, senses = programme(tmp_path, NO_CROSSFADE)
    late = datetime(2026, 11, 25, 17, 50)
    prog.tick(late)
    prog.override_with("random", 60.0, "alice", late)  # an hour asked for, ten minutes before closing
    prog.tick(late + timedelta(seconds=1))
    prog.on_run_ended("stopped", late)
    prog.on_idle()
    prog.tick(late + timedelta(seconds=2))
    assert trainer[-1] == Play("random", 598.0)  # to closing time, not for the hour
    prog.tick(datetime(2026, 11, 25, 17, 59, 31))
    assert senses[-1] == Fade(0.0, 30.0)  # the day's fade-out, not a run's
    prog.tick(datetime(2026, 11, 25, 18, 0, 1))
    assert trainer[-1] == StopRun()
    prog.on_run_ended("stopped", late)
    prog.on_idle()
    prog.tick(datetime(2026, 11, 25, 18, 0, 2))
    assert prog.override is None and prog.dark and not isinstance(trainer[-1], Play)


def test_a_failing_run_is_retried_with_backoff(tmp_path):
    prog, trainer, _ = programme(tmp_path)
    now = datetime(2026, 11, 25, 12, 0)
    for failures in range(3):
        prog.tick(now)
        assert isinstance(trainer[-1], Play)
        prog.on_run_ended("failed", now)
        prog.on_idle()
        prog.tick(now + timedelta(seconds=0.9 * 2**failures))
        assert isinstance(trainer[-1], Play) and len(trainer) == failures + 1  # not yet
        now += timedelta(seconds=2**failures)
    prog.tick(now)
    assert len(trainer) == 4


def test_runs_mode_plays_the_cycle_from_its_start_then_finishes(tmp_path):
    prog, trainer, _ = programme(tmp_path, '[cycle]\npresets = ["random", "underfit"]\n', runs=3)
    now = datetime(2026, 11, 25, 3, 0)  # closed hours do not matter here
    for expected in ("random", "underfit", "random"):
        prog.tick(now)
        assert trainer[-1].preset == expected
        prog.on_run_ended("completed", now)
        prog.on_idle()
    prog.tick(now)
    assert prog.finished and len(trainer) == 3


def play_through(
    prog, trainer, start: datetime, end: datetime, step: timedelta
) -> list[tuple[str, datetime, datetime]]:
    """Tick a simulated clock (UTC) from `start` to `end`; the trainer stops at once when told. Runs as played."""
    runs, now = [], start
    while now < end:
        sent = len(trainer)
        prog.tick(now)
        for message in trainer[sent:]:
            if isinstance(message, Play):
                runs.append([message.preset, now, None])
            elif isinstance(message, StopRun):
                runs[-1][2] = now
                prog.on_run_ended("stopped", now)
                prog.on_idle()
        now += step
    return [tuple(run) for run in runs]


def test_the_nights_the_clocks_change_no_run_is_cut_short_or_played_twice(tmp_path):
    """Saturday 20:00 to Sunday 05:00 in Berlin, ticked in UTC as the supervisor does."""
    from zoneinfo import ZoneInfo

    night = 'timezone = "Europe/Berlin"\nsaturday = "20:00-05:00"\nsunday = "12:00-18:00"\n'
    berlin = ZoneInfo("Europe/Berlin")
    for saturday, elapsed_hours in ((datetime(2027, 3, 27), 8), (datetime(2026, 10, 24), 10)):
        prog, trainer, _ = programme(tmp_path / saturday.date().isoformat(), NO_CROSSFADE, hours=night)
        opening = saturday.replace(hour=20, tzinfo=berlin).astimezone(UTC)
        runs = play_through(prog, trainer, opening, opening + timedelta(hours=11), timedelta(seconds=2))
        slots = prog.plan.slots(saturday.date())
        assert [preset for preset, _, _ in runs] == [slot.preset for slot in slots]  # each once, in order
        assert runs[-1][2] - runs[0][1] == timedelta(hours=elapsed_hours)
        for (_, started, stopped), slot in zip(runs, slots, strict=True):
            # Stopped at its slot's end; the next starts on the tick after the trainer reports idle.
            assert stopped == slot.end and timedelta(0) <= started - slot.start <= timedelta(seconds=2)
        jump = prog.plan.at(datetime(2027, 3, 28, 0, 59, 59, tzinfo=UTC) if saturday.month == 3 else opening)
        assert jump.seconds == prog.plan.runs[jump.preset].duration_seconds


def test_a_state_file_of_an_older_version_without_offsets_is_read_on_the_gallerys_clock(tmp_path):
    state = tmp_path / "state.json"
    state.write_text(
        '{"override": {"preset": "random", "until": "2026-11-25T12:30:00", '
        '"since": "2026-11-25T12:00:00", "by": "alice"}, "paused": false}'
    )
    prog, trainer, _ = programme(tmp_path, hours='timezone = "Asia/Tokyo"\n' + OPEN_10_TO_18)
    prog.tick(datetime(2026, 11, 25, 3, 10, tzinfo=UTC))  # 12:10 in Tokyo
    assert trainer[-1].preset == "random"
    assert trainer[-1].seconds == 20 * 60.0


def test_closed_is_said_when_the_daemon_starts_and_at_each_opening_and_closing(tmp_path):
    from structlog.testing import capture_logs

    prog, _, _ = programme(tmp_path, hours='timezone = "Europe/Berlin"\n' + OPEN_10_TO_18)
    with capture_logs() as logs:
        prog.tick(datetime(2026, 11, 25, 0, 51, tzinfo=UTC))  # 01:51 in Berlin
        prog.tick(datetime(2026, 11, 25, 0, 52, tzinfo=UTC))
        prog.tick(datetime(2026, 11, 25, 9, 0, 1, tzinfo=UTC))  # 10:00:01
    events = [(entry["event"], entry) for entry in logs]
    assert [name for name, _ in events if name != "programme_playing"] == [
        "cycle_started",
        "gallery_closed",
        "gallery_opened",
    ]
    closed = dict(events)["gallery_closed"]
    assert closed["opens_at"] == "2026-11-25T10:00:00+01:00" and dict(events)["cycle_started"]["open"] is False
    assert dict(events)["gallery_opened"]["closes_at"] == "2026-11-25T18:00:00+01:00"
    outlook = prog.outlook(datetime(2026, 11, 25, 17, 0, tzinfo=UTC))  # 18:00: closed until tomorrow
    assert outlook["open"] is False and outlook["opens_at"] == "2026-11-26T10:00:00+01:00"
    assert outlook["timezone"] == "Europe/Berlin" and outlook["next"] is None
    during = prog.outlook(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
    assert during["open"] and during["closes_at"] == "2026-11-25T18:00:00+01:00" and during["next"]["preset"]


def test_presets_shorter_than_the_least_run_still_play(tmp_path):
    """A 6-second preset (the schema allows 1 s and up) plays its slots rather than waiting for ever."""
    short = '[cycle]\npresets = ["random"]\n[runs.random]\nduration_seconds = 6.0\nsteps = 30\nlr_generator = 0.0\n'
    prog, trainer, _ = programme(tmp_path, short)
    now = datetime(2026, 11, 25, 12, 0, 1)
    prog.tick(now)
    assert isinstance(trainer[-1], Play) and trainer[-1].preset == "random" and trainer[-1].seconds <= 6.0
    prog.on_run_ended("completed", now + timedelta(seconds=4.5))
    prog.on_idle()
    prog.tick(now + timedelta(seconds=4.6))  # 1.4 s of its slot left: not started again
    assert len(trainer) == 1


def test_a_kept_override_of_a_preset_that_is_gone_or_a_damaged_state_file_is_dropped(tmp_path):
    """A renamed [runs.mine] or a state file cut short must not crash every pass (and every restart) of the loop."""
    state = tmp_path / "state.json"
    for kept in (
        '{"override": {"preset": "mine", "until": "2026-11-25T18:00:00+00:00", '
        '"since": "2026-11-25T11:00:00+00:00", "by": "alice"}, "paused": false}',
        '{"override": {"preset": "random"}, "paused": "yes"}',
        '["not", "a", "state"]',
        '{"override": {"preset": "random", "until": 5, "since": null}}',
    ):
        state.write_text(kept)
        prog, trainer, _ = programme(tmp_path, NO_CROSSFADE)
        prog.tick(datetime(2026, 11, 25, 12, 0))
        assert prog.override is None and prog.paused is False and isinstance(trainer[-1], Play), kept
    prog.override_with("random", 60.0, "alice", datetime(2026, 11, 25, 12, 0))
    loaded = LoadedConfig(
        parse("[hours]\n" + OPEN_10_TO_18 + '[cycle]\npresets = ["healthy"]\n[runs.healthy]\nsteps = 100\n'),
        "t",
        tmp_path,
    )
    prog.reconfigure(loaded)  # [runs.random] is gone from the reloaded file
    prog.tick(datetime(2026, 11, 25, 12, 1))
    assert prog.override is None

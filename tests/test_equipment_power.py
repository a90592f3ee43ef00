"""The power keeper over real TCP: projectors on for opening, off after closing, re-asserted, reported, never stuck.

No real projector can run here: PjlinkEmulator (daemon/testing/pjlink_emulator.py, written from the JBMIA
specification) stands in for each one, on 127.0.0.1. A fake clock walks through the gallery's day.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from datetime import time as time_of_day

import pytest
from structlog.testing import capture_logs

from daemon.equipment.pjlink import PASSWORD_FIX, PjlinkClient, PjlinkTarget
from daemon.equipment.power import PowerKeeper
from daemon.testing.pjlink_emulator import PjlinkEmulator
from daemon.testing.pjlink_emulator import PowerState as Emulated
from tests.test_equipment_pjlink import Emulators, ScriptedProjector, closed_port, garbage_projector, target_of, until

NAME = "projector 1 (monitor 1)"


class Gallery:
    """A day on a fake clock: open 10:00–18:00; projectors wanted on from 09:45 (lead time) to 18:05 (fade out)."""

    def __init__(self, hour: int, minute: int = 0) -> None:
        self.now = datetime(2026, 3, 2, hour, minute, tzinfo=UTC)

    def set(self, hour: int, minute: int = 0, day: int = 2) -> None:
        self.now = datetime(2026, 3, day, hour, minute, tzinfo=UTC)

    def clock(self) -> datetime:
        return self.now

    @staticmethod
    def wanted_on(now: datetime) -> bool:
        return time_of_day(9, 45) <= now.time() < time_of_day(18, 5)


@pytest.fixture
def logs() -> Iterator[list[dict]]:
    """The events logged during the test (keepers must be made inside it: structlog binds on creation)."""
    with capture_logs() as captured:
        yield captured


@pytest.fixture
def projector() -> Iterator[Emulators]:
    emulators = Emulators()
    yield emulators
    emulators.stop_all()


Keep = Callable[..., PowerKeeper]


@pytest.fixture
def keep(logs) -> Iterator[Keep]:
    """keep(targets, gallery, **options) → a started keeper (passes every 0.1 s, 1 s timeout); closed after."""
    started: list[PowerKeeper] = []

    def start(targets: list[PjlinkTarget], gallery: Gallery, **options) -> PowerKeeper:
        options = {"interval_seconds": 0.1, "timeout_seconds": 1.0, "clock": gallery.clock, **options}
        started.append(PowerKeeper(targets, options.pop("wanted_on", Gallery.wanted_on), **options))
        started[-1].start()
        return started[-1]

    yield start
    for keeper in started:
        keeper.close()
        assert not keeper.running


def events(logs: list[dict], name: str) -> list[dict]:
    return [event for event in logs if event["event"] == name]


def switches(emulator: PjlinkEmulator) -> list[str]:
    """The POWR commands that asked for a change ("1" on, "0" off), in order."""
    return [command.parameter for command in emulator.received("POWR") if command.parameter != "?"]


def switch_on(emulator: PjlinkEmulator) -> None:
    """Someone (a remote control, a power-restore setting) switches the projector on behind the keeper's back."""
    asyncio.run(PjlinkClient(target_of(emulator)).set_power(True))
    until(lambda: emulator.power is Emulated.ON)


def more_passes(keeper: PowerKeeper, count: int) -> None:
    done = keeper.passes
    until(lambda: keeper.passes >= done + count)


@pytest.mark.parametrize(("klass", "password"), [(1, None), (2, "secret")])
def test_opening_lead_time_powers_on_once_and_waits_through_warming(projector, keep, logs, klass, password):
    emulator = projector(klass=klass, password=password, warmup_seconds=0.6)
    gallery = Gallery(9, 0)
    keeper = keep([target_of(emulator, NAME, password)], gallery)
    more_passes(keeper, 2)
    assert emulator.power is Emulated.OFF and switches(emulator) == [], "closed: nothing to switch"
    assert keeper.status()[NAME] | {"checked_at": None} == {
        "reachable": True,
        "power": "off",
        "wanted": "off",
        "input": None,
        "lamp_hours": 0,
        "errors": dict.fromkeys(["fan", "lamp", "temperature", "cover", "filter", "other"], "ok"),
        "checked_at": None,
        "problem": None,
        "manual": None,
    }
    gallery.set(9, 46)  # the lead time before the 10:00 opening
    keeper.check_now()
    until(lambda: keeper.status()[NAME]["power"] == "warming", 1.0)
    done = keeper.passes
    until(lambda: keeper.status()[NAME]["power"] == "on", 3.0)
    assert keeper.passes - done >= 3, "it looked several times while the lamp warmed"
    assert switches(emulator) == ["1"], "and asked for power once"
    assert [(e["name"], e["to"], e["why"]) for e in events(logs, "projector_power")] == [(NAME, "on", "plan")]
    assert keeper.status()[NAME]["input"] == "11"


def test_closing_powers_off_through_cooling_without_a_toggle_meanwhile(projector, keep, logs):
    emulator = projector(cooldown_seconds=0.6)
    switch_on(emulator)
    gallery = Gallery(17, 0)
    keeper = keep([target_of(emulator, NAME)], gallery)
    more_passes(keeper, 1)
    gallery.set(18, 6)  # after the closing fade
    keeper.check_now()
    until(lambda: keeper.status()[NAME]["power"] == "cooling", 1.0)
    gallery.set(17, 30)  # the plan says on again while the lamp cools (say, a clock set back)
    until(lambda: emulator.power is Emulated.ON, 3.0)
    powr = [command for command in emulator.received("POWR") if command.parameter != "?"]
    assert [command.parameter for command in powr] == ["1", "0", "1"]
    assert powr[2].at - powr[1].at >= 0.6, "power on came only after the cool-down ended"
    assert all(command.answer != "ERR3" for command in emulator.received("POWR")), "never tried while cooling"
    assert [(e["to"], e["why"]) for e in events(logs, "projector_power")] == [("off", "plan"), ("on", "plan")]


def test_a_power_cut_then_the_projector_back_on_at_3am_is_switched_off(projector, keep, logs):
    emulator = projector()
    port = emulator.address[1]
    switch_on(emulator)
    gallery = Gallery(16, 0)
    keeper = keep([target_of(emulator, NAME)], gallery)
    more_passes(keeper, 1)
    emulator.stop()  # the power cut
    until(lambda: keeper.status()[NAME]["reachable"] is False)
    gallery.set(3, 0, day=3)
    more_passes(keeper, 3)
    back = projector(port=port)  # the power returns; this projector powers up on by itself
    switch_on(back)
    until(lambda: back.power is Emulated.OFF and keeper.status()[NAME]["power"] == "off")
    assert switches(back) == ["1", "0"]
    [unreachable] = events(logs, "projector_unreachable")
    assert unreachable["name"] == NAME and "connection refused" in unreachable["error"]
    assert len(events(logs, "projector_reachable")) == 1
    assert keeper.status()[NAME]["problem"] is None


def test_a_keeper_started_at_3am_switches_off_a_projector_left_on_in_its_first_pass(projector, keep):
    emulator = projector()
    switch_on(emulator)
    keeper = keep([target_of(emulator, NAME)], Gallery(3, 0), interval_seconds=60.0)  # no second pass in this test
    took = until(lambda: emulator.power is Emulated.OFF, 2.0)
    assert keeper.passes <= 1
    print(f"\nfirst pass switched off a projector left on after {took:.3f} s")


def test_check_now_corrects_a_wrong_state_at_once(projector, keep):
    emulator = projector()
    keeper = keep([target_of(emulator, NAME)], Gallery(23, 0), interval_seconds=60.0)
    more_passes(keeper, 1)
    switch_on(emulator)  # someone with the remote, at night
    started = time.monotonic()
    keeper.check_now()
    until(lambda: emulator.power is Emulated.OFF, 2.0)
    took = time.monotonic() - started
    assert took < 0.5
    print(f"\ncheck_now → projector off again in {took:.3f} s")


def test_a_lamp_error_is_logged_once_shown_in_status_and_cleared(projector, keep, logs):
    emulator = projector()
    keeper = keep([target_of(emulator, NAME)], Gallery(12, 0))
    until(lambda: keeper.status()[NAME]["power"] == "on")
    emulator.set_error("lamp", 2)
    until(lambda: keeper.status()[NAME]["errors"]["lamp"] == "error")
    more_passes(keeper, 3)
    assert [(e["name"], e["part"], e["level"], e["log_level"]) for e in events(logs, "projector_error")] == [
        (NAME, "lamp", "error", "error")
    ]
    emulator.set_error("lamp", 0)
    until(lambda: keeper.status()[NAME]["errors"]["lamp"] == "ok")
    more_passes(keeper, 2)
    assert [(e["part"], e["was"]) for e in events(logs, "projector_error_cleared")] == [("lamp", "error")]


def test_a_projector_that_refuses_power_on_for_a_fault_is_reported_once(projector, keep, logs):
    emulator = projector()
    emulator.set_error("temperature", 2)
    keeper = keep([target_of(emulator, NAME)], Gallery(12, 0))
    more_passes(keeper, 4)
    assert emulator.power is Emulated.OFF
    [fault] = events(logs, "projector_fault")
    assert fault["name"] == NAME and "ERR4" in fault["error"]
    status = keeper.status()[NAME]
    assert status["errors"]["temperature"] == "error" and "ERR4" in status["problem"]
    emulator.set_error("temperature", 0)  # repaired: the next pass powers it on
    until(lambda: emulator.power is Emulated.ON)
    until(lambda: len(events(logs, "projector_fault_cleared")) == 1)


def test_a_wrong_password_is_logged_once_with_the_fix_and_nothing_gets_through(projector, keep, logs):
    emulator = projector(password="right")
    keeper = keep([target_of(emulator, NAME, "wrong")], Gallery(12, 0))
    more_passes(keeper, 3)
    [failed] = events(logs, "projector_auth_failed")
    assert failed["name"] == NAME and failed["fix"] == PASSWORD_FIX and failed["log_level"] == "error"
    status = keeper.status()[NAME]
    assert status["reachable"] is True and status["power"] is None
    assert NAME in status["problem"] and "pjlink_password" in status["problem"]
    assert emulator.power is Emulated.OFF and emulator.received() == []


def test_closed_and_hung_projectors_do_not_hold_up_the_one_that_answers(projector, keep, logs):
    good, hung = projector(), projector(silent=True)
    targets = [
        PjlinkTarget("projector 1 (closed port)", "127.0.0.1", closed_port()),
        target_of(hung, "projector 2 (hung)"),
        target_of(good, "projector 3"),
    ]
    started = time.monotonic()
    keeper = keep(targets, Gallery(12, 0), timeout_seconds=0.6, interval_seconds=0.1)
    until(lambda: good.power is Emulated.ON, 1.0)
    switched = time.monotonic() - started
    until(lambda: keeper.passes >= 1)
    first_pass = keeper.last_pass_seconds
    assert switched < 0.4, "switched well inside the hung projector's 0.6 s timeout"
    assert first_pass is not None and 0.6 <= first_pass < 1.1, "the pass lasts one timeout, not one per projector"
    more_passes(keeper, 2)
    status = keeper.status()
    assert status["projector 1 (closed port)"]["reachable"] is False
    assert "connection refused" in status["projector 1 (closed port)"]["problem"]
    assert status["projector 2 (hung)"]["reachable"] is False
    assert "no answer within 0.6 s" in status["projector 2 (hung)"]["problem"]
    assert status["projector 3"]["power"] == "on"
    unreachable = sorted(e["name"] for e in events(logs, "projector_unreachable"))
    assert unreachable == ["projector 1 (closed port)", "projector 2 (hung)"], "once each"
    print(f"\nthree projectors, one hung: the good one on after {switched:.3f} s, a pass takes {first_pass:.3f} s")


def test_a_manual_off_during_opening_holds_until_the_plan_next_changes(projector, keep, logs):
    emulator = projector()
    gallery = Gallery(11, 0)
    keeper = keep([target_of(emulator, NAME)], gallery)
    until(lambda: emulator.power is Emulated.ON)
    answer = keeper.command(False, "anna (status page)")
    assert answer["to"] == "off" and answer["by"] == "anna (status page)" and answer["projectors"] == [NAME]
    until(lambda: emulator.power is Emulated.OFF, 1.0)
    gallery.set(11, 30, day=2)  # half an hour later, still open
    more_passes(keeper, 5)
    assert emulator.power is Emulated.OFF and switches(emulator) == ["1", "0"], "not undone by the plan"
    status = keeper.status()[NAME]
    assert status["wanted"] == "off" and status["manual"]["by"] == "anna (status page)"
    gallery.set(18, 10, day=2)  # closing: the plan changes, the manual command ends
    until(lambda: keeper.status()[NAME]["manual"] is None)
    gallery.set(9, 50, day=3)  # the next morning's lead time: the plan switches it on
    until(lambda: emulator.power is Emulated.ON)
    powered = [(e["to"], e["why"], e["by"]) for e in events(logs, "projector_power")]
    assert powered == [("on", "plan", None), ("off", "manual", "anna (status page)"), ("on", "plan", None)]
    assert len(events(logs, "projector_manual_ended")) == 1


def test_close_cuts_a_pass_short_even_with_a_hung_projector(projector, keep):
    keeper = keep([target_of(projector(silent=True), NAME)], Gallery(12, 0), timeout_seconds=3.0)
    time.sleep(0.2)  # the first pass is waiting on the hung projector
    started = time.monotonic()
    keeper.close()
    assert time.monotonic() - started < 0.5 and not keeper.running


def test_a_plan_that_raises_is_logged_and_the_keeper_goes_on_reading(projector, keep, logs):
    def broken(now: datetime) -> bool:
        raise RuntimeError("no opening hours")

    emulator = projector()
    keeper = keep([target_of(emulator, NAME)], Gallery(12, 0), wanted_on=broken)
    more_passes(keeper, 3)
    assert keeper.running and events(logs, "projector_plan_failed")
    status = keeper.status()[NAME]
    assert status["power"] == "off" and status["wanted"] is None and switches(emulator) == []


def test_the_keeper_survives_a_projector_that_answers_garbage(projector, keep, logs):
    good = projector()
    server = ScriptedProjector(garbage_projector(random.Random("keeper-garbage"), threading.Lock()))
    try:
        keeper = keep([server.target, target_of(good, NAME)], Gallery(12, 0), interval_seconds=0.0, timeout_seconds=0.1)
        more_passes(keeper, 100)
        assert keeper.running and good.power is Emulated.ON
        assert not events(logs, "projector_check_failed") and not events(logs, "projector_pass_failed")
        assert keeper.status()[server.target.name]["checked_at"] is not None
    finally:
        server.stop()

"""The projectors follow the opening hours through the running daemon: on before opening, off after closing.

No real projector can run here: daemon.testing.pjlink_emulator (written from the PJLink specification)
stands in for each one, on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import time
from datetime import UTC, datetime, timedelta

import pytest

from daemon.config import LoadedConfig, parse
from daemon.equipment.pjlink import PjlinkClient, PjlinkTarget
from daemon.equipment.targets import describe_power
from daemon.schedule.plan import Plan
from daemon.testing import RunningDaemon, config_for
from daemon.testing.pjlink_emulator import ErrorLevel, Part, PjlinkEmulator, PowerState
from tests.conftest import run_cli
from tests.test_supervision import SHORT_CYCLE

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"]


def _hours(draw: random.Random) -> str:
    days = []
    for name in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"):
        kind = draw.random()
        if kind < 0.2:
            days.append(f'{name} = ""')
        elif kind < 0.35:
            days.append(f'{name} = "{draw.randint(18, 22):02d}:00-{draw.randint(0, 3):02d}:30"')  # past midnight
        else:
            days.append(f'{name} = "{draw.randint(8, 11):02d}:{draw.choice(["00", "30"])}-{draw.randint(13, 18)}:00"')
    return f'[hours]\ntimezone = "{draw.choice(ZONES)}"\n' + "\n".join(days) + "\n"


def _powered_model(plan: Plan, now: datetime, lead_seconds: float) -> bool:
    """Independently: within an opening, or an opening starts within lead_seconds; from the days' periods."""
    day = now.astimezone(plan.zone).date()
    periods = [p for k in range(-2, 4) for p in plan.periods(day + timedelta(days=k))]
    return any(start - timedelta(seconds=lead_seconds) <= now < end for start, end in periods)


@pytest.mark.parametrize("seed", range(300))
def test_the_projectors_are_wanted_within_the_hours_and_their_lead_before_each_opening(seed):
    """Generated: random weekly hours (closed days, nights past midnight, four zones), lead times and
    instants over a year, against a model built from the opening periods alone."""
    draw = random.Random(seed)
    config = parse(_hours(draw))
    plan = Plan(config.cycle, config.hours, config.runs)
    lead = draw.choice([0.0, 60.0, 300.0, 1800.0, 7200.0])
    start = datetime(2027, 1, 1, tzinfo=UTC) + timedelta(days=draw.randrange(365))
    for _ in range(20):
        now = start + timedelta(seconds=draw.randrange(3 * 86_400))
        assert plan.powered(now, lead) == _powered_model(plan, now, lead), (now, lead)
    opening = plan.next_opening(start)
    if opening is not None:  # at the edges: on exactly `lead` before the opening, not a second earlier
        assert plan.powered(opening - timedelta(seconds=lead), lead)
        assert not plan.powered(opening - timedelta(seconds=lead + 1), lead) or plan.closing(
            opening - timedelta(seconds=lead + 1)
        )


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not within {seconds} s: {what}"
        time.sleep(0.1)


def test_the_daemon_powers_its_projectors_by_the_hours_and_by_hand(tmp_path, mnist_root, classifier_file):
    plain = PjlinkEmulator(port=0, warmup_seconds=0.5, cooldown_seconds=0.5)
    guarded = PjlinkEmulator(port=0, klass=2, password="s3cret", warmup_seconds=0.5, cooldown_seconds=0.5)
    plain.start()
    guarded.start()
    guarded.set_error(Part.FILTER, ErrorLevel.WARNING)  # a flag to report (an error would refuse power on: ERR4)
    (tmp_path / "projector-1.password").write_text("s3cret\n")
    projectors = "".join(
        f'[[video.projector]]\nmonitor = "{k}"\npjlink = "127.0.0.1:{port}"\n{extra}'
        for k, (port, extra) in enumerate(
            [
                (plain.address[1], ""),
                (guarded.address[1], 'pjlink_password_file = "projector-1.password"\n'),
                (_closed_port(), ""),  # an address where nothing answers: the others are switched all the same
            ]
        )
    )
    timing = "[power]\ncheck_seconds = 2.0\ntimeout_seconds = 1.0\nlead_seconds = 0.0\n"
    hours = '[hours]\ntimezone = "UTC"\n'
    loaded = config_for(tmp_path, mnist_root, classifier_file, SHORT_CYCLE + timing + projectors + hours)
    daemon = RunningDaemon(loaded.source, {}, ("--no-sound", "--no-image"))
    try:
        # Open all day: both reachable projectors are switched on, through their warm-up.
        _wait(lambda: plain.power == guarded.power == PowerState.ON, 30, "both projectors on")
        error = daemon.wait_for(lambda e: e["event"] == "projector_error", 10, "the filter warning")
        assert error["part"] == "filter" and "projector 1" in str(error)
        daemon.wait_for(lambda e: e["event"] == "projector_unreachable" and "projector 2" in str(e), 10, "unreachable")

        def shown() -> list[str]:
            answer = run_cli("projectors", "--config", loaded.source)
            assert answer.returncode == 0, answer.stderr
            return answer.stdout.splitlines()

        _wait(lambda: shown()[0].startswith("projector 0 (monitor 0): on"), 10, "the next check seeing it on")
        lines = shown()
        assert lines[0].startswith("projector 0 (monitor 0): on (wanted on)"), lines
        assert "flags: filter warning" in lines[1] and "problem:" in lines[2], lines
        metrics = daemon.http_get("/metrics")[1]
        assert 'twos_and_sevens_projector_power_on{projector="projector 0 (monitor 0)"} 1.0' in metrics
        assert 'twos_and_sevens_projector_fault{part="filter",projector="projector 1 (monitor 1)"} 1.0' in metrics
        assert 'twos_and_sevens_projector_reachable{projector="projector 2 (monitor 2)"} 0.0' in metrics
        # By hand: off, and held although the hours say open (checked again and again meanwhile).
        off = run_cli("projectors", "off", "--config", loaded.source)
        assert off.returncode == 0 and "asked: off by" in off.stdout, off
        _wait(lambda: plain.power == guarded.power == PowerState.OFF, 10, "both projectors off by hand")
        time.sleep(5.0)  # two more checks
        assert plain.power == guarded.power == PowerState.OFF
        status = json.loads(daemon.http_get("/status")[1])["projectors"]
        assert status["projector 0 (monitor 0)"]["manual"]["to"] == "off"
        # On by hand, then the technician closes today: the hours change, the hold ends, both go off.
        assert run_cli("projectors", "on", "--config", loaded.source).returncode == 0
        _wait(lambda: plain.power == guarded.power == PowerState.ON, 10, "both projectors on by hand")
        today = datetime.now(UTC).date()
        closed = (
            f"closed_dates = [{json.dumps(today.isoformat())}, {json.dumps((today - timedelta(days=1)).isoformat())}]\n"
        )
        config_for(tmp_path, mnist_root, classifier_file, SHORT_CYCLE + timing + projectors + hours + closed)
        assert run_cli("reload", "--config", loaded.source).returncode == 0
        _wait(lambda: plain.power == guarded.power == PowerState.OFF, 15, "both projectors off: closed today")
        # A power cut: a projector comes back on by itself at night; the next check switches it off again.
        asyncio.run(PjlinkClient(PjlinkTarget("stray", *plain.address)).set_power(True))
        stray = time.monotonic()
        _wait(lambda: plain.power == PowerState.OFF, 10, "the stray projector switched off again")
        print(f"a projector switched on behind the daemon's back was off again {time.monotonic() - stray:.2f} s later")
    finally:
        daemon.stop()
        plain.stop()
        guarded.stop()
    assert daemon.exit_code == 0, daemon.stderr[-20:]
    assert not [e for e in daemon.events if e["event"] in ("projector_pass_failed", "projector_check_failed")]


def test_a_wrong_pjlink_address_or_two_passwords_are_config_errors_naming_the_fix():
    from daemon.config import ConfigInvalid

    for address in ("projector one", "10.0.0.5:0", "10.0.0.5:70000", "host:port", ":4352", "a:1:2"):
        with pytest.raises(ConfigInvalid) as caught:
            parse(f'[[video.projector]]\npjlink = "{address}"\n')
        (error,) = caught.value.errors
        assert error.key == "video.projector[0].pjlink" and "4352" in error.message, error
    with pytest.raises(ConfigInvalid, match="not both"):
        parse('[[video.projector]]\npjlink = "h"\npjlink_password = "a"\npjlink_password_file = "b"\n')
    assert parse('[[video.projector]]\npjlink = "beamer-1.local"\n').video.projector[0].pjlink == "beamer-1.local"


def test_projector_test_reads_each_projectors_power_lamp_and_flags_or_says_why_not(tmp_path):
    lit = PjlinkEmulator(port=0, lamp_hours=1234)
    locked = PjlinkEmulator(port=0, password="right")
    lit.start()
    locked.start()
    try:
        asyncio.run(PjlinkClient(PjlinkTarget("lit", *lit.address)).set_power(True))
        lit.set_error(Part.FILTER, ErrorLevel.WARNING)
        addresses = [f"127.0.0.1:{lit.address[1]}", f"127.0.0.1:{locked.address[1]}", f"127.0.0.1:{_closed_port()}"]
        text = "".join(
            f'[[video.projector]]\nmonitor = "{k}"\npjlink = "{a}"\npjlink_password = "wrong"\n'
            for k, a in enumerate(addresses)
        ).replace('pjlink_password = "wrong"\n', "", 1)  # the first one has no password: none is needed
        path = tmp_path / "installation.toml"
        lines = describe_power(LoadedConfig(parse(text, str(path)), str(path), tmp_path), 1.0)
    finally:
        lit.stop()
        locked.stop()
    assert lines[0] == f"projector 0 (monitor 0): PJLink {addresses[0]}: on, lamp 1234 h, filter warning", lines
    assert lines[1].startswith(f"projector 1 (monitor 1): PJLink {addresses[1]}: ") and "password" in lines[1], lines
    assert "refused" in lines[2], lines


def _address_is_valid(address: str) -> bool:
    """Independently of the schema's pattern: "" (no PJLink), or host[:port] with a plain host and port 1–65535."""
    if address == "":
        return True
    host, colon, port = address.partition(":")
    plain = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_")
    if not host or not set(host) <= plain:
        return False
    if not colon:
        return True
    return port.isascii() and port.isdigit() and len(port) <= 5 and 1 <= int(port) <= 65535


@pytest.mark.parametrize("seed", range(400))
def test_any_pjlink_address_is_taken_or_refused_naming_the_key(seed):
    """Generated: addresses made of host characters, colons, ports of any size, spaces, slashes and other text."""
    from daemon.config import ConfigInvalid

    draw = random.Random(seed)
    pieces = [
        "beamer",
        "10.0.0.5",
        "a-b_c.local",
        ":",
        "4352",
        "0",
        "65535",
        "65536",
        "99999",
        "",
        " ",
        "/",
        "@",
        "[::1]",
        "é",
        "1",
        "x" * 60,
    ]
    address = "".join(draw.choice(pieces) for _ in range(draw.randrange(1, 4)))
    text = f"[[video.projector]]\npjlink = {json.dumps(address)}\n"
    if _address_is_valid(address):
        assert parse(text).video.projector[0].pjlink == address
        return
    with pytest.raises(ConfigInvalid) as caught:
        parse(text)
    (error,) = caught.value.errors
    assert error.key == "video.projector[0].pjlink" and ("host" in error.message or "port" in error.message), error

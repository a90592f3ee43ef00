"""The PJLink client over real TCP: readings, switching, and only its typed errors whatever a projector sends.

No real projector can run here: PjlinkEmulator (daemon/testing/pjlink_emulator.py, written from the JBMIA
specification) stands in for one, and a scripted socket server stands in for a broken or hostile one.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from daemon.equipment.pjlink import (
    PARTS,
    PASSWORD_FIX,
    PjlinkClient,
    PjlinkTarget,
    PowerState,
    ProjectorAuthFailed,
    ProjectorBusy,
    ProjectorError,
    ProjectorFault,
    ProjectorReading,
    ProjectorUnreachable,
)
from daemon.testing.pjlink_emulator import PjlinkEmulator


class Emulators:
    """Started emulators on free ports of 127.0.0.1, all stopped (and checked for handler bugs) at the end."""

    def __init__(self) -> None:
        self.started: list[PjlinkEmulator] = []

    def __call__(self, **options) -> PjlinkEmulator:
        self.started.append(PjlinkEmulator(**{"port": 0, **options}))
        self.started[-1].start()
        return self.started[-1]

    def stop_all(self) -> None:
        for emulator in self.started:
            emulator.stop()
            assert emulator.handler_errors() == []


@pytest.fixture
def projector() -> Iterator[Emulators]:
    """projector(**options) → a started emulator; stopped after the test."""
    emulators = Emulators()
    yield emulators
    emulators.stop_all()


def target_of(
    emulator: PjlinkEmulator, name: str = "projector 1 (monitor 1)", password: str | None = None
) -> PjlinkTarget:
    host, port = emulator.address
    return PjlinkTarget(name, host, port, password)


def closed_port() -> int:
    """A port nothing listens on (bound a moment ago, then let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def until(condition: Callable[[], object], seconds: float = 5.0) -> float:
    """Wait for condition() to hold; returns the seconds it took."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, "not within the time allowed"
        time.sleep(0.01)
    return time.monotonic() - started


class ScriptedProjector:
    """A TCP server that answers each connection with `conversation(socket)`: a projector gone wrong."""

    def __init__(self, conversation: Callable[[socket.socket], None]) -> None:
        conversation_of = conversation

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                self.request.settimeout(3.0)
                with contextlib.suppress(OSError):  # the client gave up first, as it may with a real projector
                    conversation_of(self.request)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.target = PjlinkTarget("projector 9 (scripted)", "127.0.0.1", self.server.server_address[1], None)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def read_request(connection: socket.socket) -> bytes:
    """Up to and without the client's CR (what came, if it hung up first)."""
    pending = b""
    while b"\r" not in pending and (chunk := connection.recv(4096)):
        pending += chunk
    return pending.split(b"\r")[0]


def wait_for_hang_up(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while connection.recv(4096):
            pass


# Readings and switching against the emulator


@pytest.mark.parametrize("klass", [1, 2])
def test_a_reading_has_power_errors_lamp_input_name_and_class(projector, klass):
    inputs = ("31", "6A") if klass == 2 else ("31", "11")
    emulator = projector(klass=klass, name="Wall left", lamp_hours=1234, inputs=inputs)
    client = PjlinkClient(target_of(emulator), timeout_seconds=2.0)
    off = asyncio.run(client.read())
    assert off == ProjectorReading(PowerState.OFF, dict.fromkeys(PARTS, "ok"), 1234, None, "Wall left", klass)
    asyncio.run(client.set_power(True))
    emulator.set_error("filter", 1)
    on = asyncio.run(client.read())
    assert on.power is PowerState.ON and on.input == "31"
    assert on.errors == {**dict.fromkeys(PARTS, "ok"), "filter": "warning"}


def test_power_goes_through_warming_and_cooling_and_a_toggle_meanwhile_is_busy(projector):
    emulator = projector(warmup_seconds=0.3, cooldown_seconds=0.3)
    client = PjlinkClient(target_of(emulator), timeout_seconds=2.0)
    asyncio.run(client.set_power(True))
    assert asyncio.run(client.power()) is PowerState.WARMING
    with pytest.raises(ProjectorBusy, match="ERR3"):
        asyncio.run(client.set_power(False))
    until(lambda: asyncio.run(client.power()) is PowerState.ON)
    asyncio.run(client.set_power(False))
    assert asyncio.run(client.power()) is PowerState.COOLING
    until(lambda: asyncio.run(client.power()) is PowerState.OFF)


def test_a_projector_with_a_part_in_error_refuses_to_power_on_as_a_fault(projector):
    emulator = projector()
    emulator.set_error("lamp", 2)
    client = PjlinkClient(target_of(emulator, name="projector 2 (monitor 2)"), timeout_seconds=2.0)
    with pytest.raises(ProjectorFault, match=r"projector 2 \(monitor 2\) at 127.0.0.1:\d+: POWR 1 answered ERR4"):
        asyncio.run(client.set_power(True))
    assert asyncio.run(client.errors())["lamp"] == "error"


@pytest.mark.parametrize(
    ("sent", "cause"), [("wrong", "refused our PJLink password"), (None, "wants a PJLink password")]
)
def test_a_wrong_or_missing_password_names_the_projector_and_the_fix(projector, sent, cause):
    emulator = projector(password="right", klass=2)
    client = PjlinkClient(target_of(emulator, name="projector 3 (monitor 2)", password=sent), timeout_seconds=2.0)
    with pytest.raises(ProjectorAuthFailed) as failed:
        asyncio.run(client.read())
    message = str(failed.value)
    assert message.startswith("projector 3 (monitor 2) at 127.0.0.1:") and cause in message
    assert PASSWORD_FIX in message and "pjlink_password_file" in PASSWORD_FIX
    right = PjlinkClient(target_of(emulator, password="right"), timeout_seconds=2.0)
    assert asyncio.run(right.pjlink_class()) == 2
    assert "right" not in repr(right.target), "a password stays out of reprs (and so out of logs)"


def test_a_closed_port_is_unreachable_at_once():
    client = PjlinkClient(PjlinkTarget("projector 4", "127.0.0.1", closed_port()), timeout_seconds=2.0)
    started = time.monotonic()
    with pytest.raises(ProjectorUnreachable, match=r"projector 4 at 127\.0\.0\.1"):
        asyncio.run(client.read())
    assert time.monotonic() - started < 0.5


def test_a_hung_projector_is_unreachable_after_one_timeout_not_one_per_query(projector):
    client = PjlinkClient(target_of(projector(silent=True)), timeout_seconds=0.4)
    started = time.monotonic()
    with pytest.raises(ProjectorUnreachable, match="unreachable"):
        asyncio.run(client.read())
    assert 0.35 <= time.monotonic() - started < 0.9


def test_one_deadline_covers_connect_greeting_and_reply():
    # aiopjlink gives the greeting and the reply a timeout each; a projector slow at both (0.3 s each here)
    # passes each of those, so only the client's own deadline (0.45 s for the whole command) stops it.
    def slow(connection: socket.socket) -> None:
        time.sleep(0.3)
        connection.sendall(b"PJLINK 0\r")
        read_request(connection)
        time.sleep(0.3)
        connection.sendall(b"%1POWR=0\r")

    server = ScriptedProjector(slow)
    try:
        started = time.monotonic()
        with pytest.raises(ProjectorUnreachable):
            asyncio.run(PjlinkClient(server.target, timeout_seconds=0.45).power())
        assert time.monotonic() - started < 0.58
        assert asyncio.run(PjlinkClient(server.target, timeout_seconds=1.0).power()) is PowerState.OFF
    finally:
        server.stop()


# Whatever a projector sends: a generated test


GREETINGS = [b"PJLINK 0\r"] * 6 + [b"PJLINK 1 1a2b3c4d\r", b"PJLINK ERRA\r", b"pjlink 0\r", b"PJLINK 2 x\r"]
PARAMETERS = [
    *["0", "1", "2", "3", "9", "OK", "ERR1", "ERR2", "ERR3", "ERR4", "err3", "", " ", "1" * 200],
    *["000000", "012210", "0000000", "00000", "0000x0", "33333", "1234 1", "1234", "-5 1", "99999999 0"],
    *["12 1 34 0", "12 1 34", "1 2 3", "31", "6A", "7Z", "3", "Wall left", "é", "\x00\x01", "1 1"],
]


def garbage_projector(generator: random.Random, lock: threading.Lock) -> Callable[[socket.socket], None]:
    """A conversation that goes wrong one of many ways, drawn from `generator` per connection."""

    def converse(connection: socket.socket) -> None:
        with lock:
            # Silence costs a timeout each time, so it is drawn 1 in 40; each other shape 1 in 20 or more.
            greeting_shape, reply_shape = generator.randrange(40), generator.randrange(20)
            silent_reply = generator.randrange(40) == 0
            greeting, parameter = generator.choice(GREETINGS), generator.choice(PARAMETERS)
            noise = generator.randbytes(generator.randrange(1, 200))
            prefix, length = generator.choice([b"%1", b"%2", b"%3", b"%", b"#1", b""]), generator.randrange(10, 70000)
        if greeting_shape == 0:  # silence: accepts and never greets
            return wait_for_hang_up(connection)
        connection.sendall({1: noise, 2: greeting[:5]}.get(greeting_shape, greeting))
        if greeting_shape == 2:  # a truncated greeting, then hung up
            return
        request = read_request(connection)
        if silent_reply:
            return wait_for_hang_up(connection)
        body = request[-6:-2] if len(request) >= 8 else b"POWR"
        reply = {
            1: noise,
            2: prefix + body + b"=" + parameter.encode() + b"\r",
            3: b"%1" + body + b"=" + parameter.encode(),  # no CR, then hung up
            4: b"%1NAME=" + b"x" * length + b"\r",  # over-long (past 64 KiB for some)
            5: b"%1XXXX=" + parameter.encode() + b"\r",
            6: b"PJLINK ERRA\r",
            7: b"%1" + body + b" " + parameter.encode() + b"\r",
        }.get(reply_shape, b"%1" + body + b"=" + parameter.encode("utf-8") + b"\r")
        connection.sendall(reply)

    return converse


QUERIES: dict[str, Callable[[PjlinkClient], object]] = {
    "power": lambda client: asyncio.run(client.power()),
    "on": lambda client: asyncio.run(client.set_power(True)),
    "off": lambda client: asyncio.run(client.set_power(False)),
    "errors": lambda client: asyncio.run(client.errors()),
    "lamp_hours": lambda client: asyncio.run(client.lamp_hours()),
    "input": lambda client: asyncio.run(client.input()),
    "name": lambda client: asyncio.run(client.name()),
    "pjlink_class": lambda client: asyncio.run(client.pjlink_class()),
    "read": lambda client: asyncio.run(client.read()),
}


def well_typed(query: str, value: object) -> bool:
    """What each query may return when it returns at all."""
    if isinstance(value, ProjectorReading):
        flags = value.errors
        return (
            isinstance(value.power, PowerState)
            and set(flags) == set(PARTS)
            and set(flags.values())
            <= {
                "ok",
                "warning",
                "error",
            }
        )
    checks: dict[str, Callable[[object], bool]] = {
        "power": lambda v: isinstance(v, PowerState),
        "on": lambda v: v is None,
        "off": lambda v: v is None,
        "errors": lambda v: isinstance(v, dict) and set(v) == set(PARTS),
        "lamp_hours": lambda v: isinstance(v, int) and 0 <= v <= 99999,
        "input": lambda v: isinstance(v, str) and len(v) == 2,
        "name": lambda v: isinstance(v, str) and len(v) <= 64,
        "pjlink_class": lambda v: v in (1, 2),
    }
    return checks[query](value)


def test_garbage_from_a_projector_gives_only_typed_errors_or_parsed_values():
    generator, lock = random.Random("pjlink-client-garbage"), threading.Lock()
    server = ScriptedProjector(garbage_projector(generator, lock))
    outcomes: dict[str, int] = {}
    try:
        for case in range(300):
            query = list(QUERIES)[case % len(QUERIES)]
            client = PjlinkClient(server.target, timeout_seconds=0.1)
            try:
                value = QUERIES[query](client)
            except ProjectorError as error:  # anything else fails the test, with its traceback
                outcomes[type(error).__name__] = outcomes.get(type(error).__name__, 0) + 1
            else:
                assert well_typed(query, value), (query, value)
                outcomes["value"] = outcomes.get("value", 0) + 1
    finally:
        server.stop()
    # The generator reaches every outcome, so the test exercises each translation.
    assert set(outcomes) >= {
        "value",
        "ProjectorUnreachable",
        "ProjectorAuthFailed",
        "ProjectorBusy",
        "ProjectorFault",
        "ProjectorProtocolError",
    }, outcomes

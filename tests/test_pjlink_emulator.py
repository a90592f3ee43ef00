"""The PJLink emulator answers as the specification says, over a real socket, and survives any garbage."""

from __future__ import annotations

import hashlib
import random
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest

from daemon.testing.pjlink_emulator import PjlinkEmulator, PowerState
from tests.conftest import REPO

SECONDS = 0.3  # warm-up and cool-down: long enough to catch the projector in between, short for the suite


class RawClient:
    """A bare PJLink client: reads CR-terminated lines, sends a line and reads its reply."""

    def __init__(self, address: tuple[str, int], timeout_seconds: float = 2.0) -> None:
        self.socket = socket.create_connection(address, timeout=timeout_seconds)
        self.pending = b""

    def read_line(self) -> str:
        while b"\r" not in self.pending:
            chunk = self.socket.recv(4096)
            if not chunk:
                raise ConnectionError(f"closed by the projector with {self.pending!r} unterminated")
            self.pending += chunk
        line, self.pending = self.pending.split(b"\r", 1)
        return line.decode()

    def send(self, line: str) -> str:
        self.socket.sendall(line.encode() + b"\r")
        return self.read_line()

    def greeted(self) -> RawClient:
        assert self.read_line() == "PJLINK 0"
        return self

    def close(self) -> None:
        self.socket.close()


Projector = Callable[..., PjlinkEmulator]


@pytest.fixture
def projector() -> Iterator[Projector]:
    """projector(**options) → a started emulator on a free port; stopped after the test."""
    started: list[PjlinkEmulator] = []

    def start(**options) -> PjlinkEmulator:
        emulator = PjlinkEmulator(port=0, **options)
        emulator.start()
        started.append(emulator)
        return emulator

    yield start
    for emulator in started:
        emulator.stop()
        assert emulator.handler_errors() == []


@pytest.fixture
def client() -> Iterator[Callable[[PjlinkEmulator], RawClient]]:
    """client(emulator) → a RawClient connected to it (the greeting not read yet); closed after the test."""
    opened: list[RawClient] = []

    def connect(emulator: PjlinkEmulator) -> RawClient:
        opened.append(RawClient(emulator.address))
        return opened[-1]

    yield connect
    for each in opened:
        each.close()


def wait_for_power(client: RawClient, wanted: PowerState, within_seconds: float = 3.0) -> None:
    deadline = time.monotonic() + within_seconds
    while (answer := client.send("%1POWR ?")) != f"%1POWR={wanted}":
        assert time.monotonic() < deadline, f"still {answer}"
        time.sleep(0.02)


def digest_for(greeting: str, password: str) -> str:
    random_part = greeting.removeprefix("PJLINK 1 ")
    assert len(random_part) == 8 and int(random_part, 16) >= 0, greeting
    return hashlib.md5((random_part + password).encode()).hexdigest()


def test_with_a_password_the_first_command_carries_the_md5_of_random_and_password(projector, client):
    talk = client(projector(password="secret"))
    assert talk.send(digest_for(talk.read_line(), "secret") + "%1POWR ?") == "%1POWR=0"
    assert talk.send("%1CLSS ?") == "%1CLSS=1", "only the first command carries the digest"


def test_each_connection_gets_a_new_random(projector, client):
    emulator = projector(password="secret")
    assert client(emulator).read_line() != client(emulator).read_line()


@pytest.mark.parametrize("first", ["guessed", "none"])
def test_a_wrong_or_missing_digest_gets_erra_and_the_connection_closes(projector, client, first):
    emulator = projector(password="secret")
    talk = client(emulator)
    greeting = talk.read_line()
    digest = digest_for(greeting, "guess") if first == "guessed" else ""
    assert talk.send(digest + "%1POWR 1") == "PJLINK ERRA"
    assert talk.socket.recv(100) == b""
    assert emulator.power is PowerState.OFF
    assert emulator.received() == []


def test_without_a_password_it_greets_pjlink_0_and_answers_at_once(projector, client):
    talk = client(projector()).greeted()
    assert talk.send("%1POWR ?") == "%1POWR=0"


def test_power_on_warms_up_then_is_on_and_refuses_power_commands_meanwhile(projector, client):
    emulator = projector(warmup_seconds=SECONDS)
    talk = client(emulator).greeted()
    assert talk.send("%1POWR 1") == "%1POWR=OK"
    assert talk.send("%1POWR ?") == "%1POWR=3"
    assert talk.send("%1POWR 0") == "%1POWR=ERR3"
    assert talk.send("%1POWR 1") == "%1POWR=ERR3"
    wait_for_power(talk, PowerState.ON)
    assert talk.send("%1POWR 1") == "%1POWR=OK", "on again is no change"
    sets = [command for command in emulator.received("POWR") if command.parameter != "?"]
    assert [(command.parameter, command.answer) for command in sets] == [
        ("1", "OK"),
        ("0", "ERR3"),
        ("1", "ERR3"),
        ("1", "OK"),
    ]
    assert all(command.peer == talk.socket.getsockname() for command in sets)
    assert sets[-1].at - sets[0].at >= SECONDS


def test_power_off_cools_down_then_is_off(projector, client):
    emulator = projector(cooldown_seconds=SECONDS)
    talk = client(emulator).greeted()
    assert talk.send("%1POWR 1") == "%1POWR=OK"
    assert talk.send("%1POWR ?") == "%1POWR=1", "no warm-up configured: on at once"
    assert talk.send("%1POWR 0") == "%1POWR=OK"
    assert talk.send("%1POWR ?") == "%1POWR=2"
    assert talk.send("%1POWR 1") == "%1POWR=ERR3"
    wait_for_power(talk, PowerState.OFF)
    assert emulator.power is PowerState.OFF


def test_erst_reports_the_flags_set_at_runtime_and_an_error_refuses_power_on(projector, client):
    emulator = projector()
    talk = client(emulator).greeted()
    assert talk.send("%1ERST ?") == "%1ERST=000000"
    emulator.set_error("lamp", 2)
    emulator.set_error("filter", 1)
    assert talk.send("%1ERST ?") == "%1ERST=020010"
    assert talk.send("%1POWR 1") == "%1POWR=ERR4"
    emulator.set_error("lamp", 0)
    assert talk.send("%1POWR 1") == "%1POWR=OK", "a warning does not stop it"
    with pytest.raises(ValueError):
        emulator.set_error("lens", 1)


def test_lamp_reports_hours_and_whether_it_is_lit_and_counts_while_lit(projector, client):
    emulator = projector(lamp_hours=1234, lamp_hours_per_second=10)  # ten hours a real second
    talk = client(emulator).greeted()
    assert talk.send("%1LAMP ?") == "%1LAMP=1234 0"
    talk.send("%1POWR 1")
    time.sleep(0.2)
    hours, lit = talk.send("%1LAMP ?").removeprefix("%1LAMP=").split()
    assert lit == "1"
    assert 1234 + 1 <= int(hours) <= 1234 + 100, "about two hours in 0.2 s, more on a loaded machine"
    talk.send("%1POWR 0")
    off_hours = emulator.lamp_hours
    time.sleep(0.2)
    assert talk.send("%1LAMP ?") == f"%1LAMP={off_hours} 0", "no hours while off"


def test_input_and_mutes_need_the_power_on(projector, client):
    talk = client(projector(inputs=("11", "31", "32"))).greeted()
    assert talk.send("%1INPT ?") == "%1INPT=ERR3"
    assert talk.send("%1AVMT 31") == "%1AVMT=ERR3"
    talk.send("%1POWR 1")
    assert talk.send("%1INPT ?") == "%1INPT=11"
    assert talk.send("%1INPT 31") == "%1INPT=OK"
    assert talk.send("%1INPT ?") == "%1INPT=31"
    assert talk.send("%1INPT 51") == "%1INPT=ERR2", "no such input here"
    assert talk.send("%1INST ?") == "%1INST=11 31 32"
    assert talk.send("%1AVMT ?") == "%1AVMT=30"
    assert talk.send("%1AVMT 11") == "%1AVMT=OK"
    assert talk.send("%1AVMT ?") == "%1AVMT=11"
    assert talk.send("%1AVMT 21") == "%1AVMT=OK"
    assert talk.send("%1AVMT ?") == "%1AVMT=31"
    assert talk.send("%1AVMT 10") == "%1AVMT=OK"
    assert talk.send("%1AVMT ?") == "%1AVMT=21"


def test_class_1_has_the_information_queries_and_answers_err1_to_every_class_2_command(projector, client):
    talk = client(projector(name="Wall left", manufacturer="Acme", product="PJ-1")).greeted()
    assert talk.send("%1CLSS ?") == "%1CLSS=1"
    assert talk.send("%1NAME ?") == "%1NAME=Wall left"
    assert talk.send("%1INF1 ?") == "%1INF1=Acme"
    assert talk.send("%1INF2 ?") == "%1INF2=PJ-1"
    assert talk.send("%1INFO ?").startswith("%1INFO=")
    assert talk.send("%2SNUM ?") == "%2SNUM=ERR1"
    assert talk.send("%2POWR ?") == "%2POWR=ERR1"


def test_class_2_adds_its_commands_and_takes_class_1_commands_with_either_prefix(projector, client):
    talk = client(projector(klass=2, serial_number="SN42", software_version="2.1", lamp_model="LMP-9")).greeted()
    assert talk.send("%1CLSS ?") == "%1CLSS=2"
    assert talk.send("%2CLSS ?") == "%2CLSS=2"
    assert talk.send("%2SNUM ?") == "%2SNUM=SN42"
    assert talk.send("%2SVER ?") == "%2SVER=2.1"
    assert talk.send("%2RLMP ?") == "%2RLMP=LMP-9"
    assert talk.send("%2INNM ?31") == "%2INNM=Input 31"
    assert talk.send("%2INNM ?59") == "%2INNM=ERR2"
    assert talk.send("%2POWR 1") == "%2POWR=OK"
    assert talk.send("%1POWR ?") == "%1POWR=1"
    assert talk.send("%1SNUM ?") == "%1SNUM=ERR1", "SNUM is class 2 only"
    assert talk.send("%3POWR ?") == "%3POWR=ERR1"


@pytest.mark.parametrize(("klass", "inputs"), [(1, ()), (1, ("6A",)), (2, ("7",))])
def test_inputs_a_projector_of_that_class_cannot_have_are_refused(klass, inputs):
    with pytest.raises(ValueError):
        PjlinkEmulator(klass=klass, inputs=inputs)


@pytest.mark.parametrize("command", ["%1XXXX ?", "%1powr ?", "%1PWR1 ?", "%9CLSS ?"])
def test_an_undefined_command_gets_err1(projector, client, command):
    talk = client(projector()).greeted()
    assert talk.send(command) == command[:6] + "=ERR1"


@pytest.mark.parametrize("command", ["%1POWR 5", "%1POWR", "%1POWR?", "%1CLSS 1", "%1ERST x", "%1NAME"])
def test_an_out_of_range_or_missing_parameter_gets_err2(projector, client, command):
    talk = client(projector()).greeted()
    assert talk.send(command) == command[:6] + "=ERR2"


def test_lines_may_end_in_cr_lf_and_arrive_in_pieces_or_together(projector, client):
    talk = client(projector()).greeted()
    talk.socket.sendall(b"%1POWR ?\r\n%1CL")
    assert talk.read_line() == "%1POWR=0"
    talk.socket.sendall(b"SS ?\r%1ERST ?\r")
    assert [talk.read_line(), talk.read_line()] == ["%1CLSS=1", "%1ERST=000000"]


def test_a_silent_projector_accepts_connections_and_never_answers(projector):
    emulator = projector(silent=True)
    talk = RawClient(emulator.address, timeout_seconds=0.3)
    try:
        talk.socket.sendall(b"%1POWR ?\r")
        with pytest.raises(TimeoutError):
            talk.read_line()
    finally:
        talk.close()
    emulator.set_silent(False)
    answering = RawClient(emulator.address).greeted()
    assert answering.send("%1POWR ?") == "%1POWR=0"
    answering.close()


def test_stop_closes_open_connections(client):
    emulator = PjlinkEmulator(port=0)
    emulator.start()
    address = emulator.address
    talk = client(emulator).greeted()
    emulator.stop()
    assert talk.socket.recv(100) == b""
    with pytest.raises(ConnectionRefusedError):
        RawClient(address)


def garbage(generator: random.Random) -> bytes:
    """One of the shapes a broken client or a port scanner sends."""
    shape = generator.randrange(6)
    if shape == 0:  # random bytes, CRs and all
        return generator.randbytes(generator.randrange(1, 300))
    if shape == 1:  # a wrong prefix or class on a real command
        prefix = generator.choice(["", "%", "%%", "1", "%0", "%3", "#1", "%1 ", "PJLINK "])
        return f"{prefix}{generator.choice(['POWR', 'INPT', 'ERST'])} ?\r".encode()
    if shape == 2:  # an over-long line
        return b"%1NAME " + b"x" * generator.randrange(130, 5000) + b"\r"
    if shape == 3:  # a command without its CR
        return b"%1POWR " + generator.choice([b"1", b"0", b"?"])
    if shape == 4:  # a real header with a wild parameter
        body = generator.choice(["POWR", "INPT", "AVMT", "LAMP", "INNM", "SNUM"])
        return f"%{generator.choice('12')}{body} ".encode() + generator.randbytes(generator.randrange(60)) + b"\r"
    return bytes(generator.choice(b"%12POWR?\r\n \x00\xff") for _ in range(generator.randrange(1, 80)))


@pytest.mark.parametrize("password", [None, "secret"])
def test_garbage_never_breaks_it_and_a_fresh_connection_still_answers(projector, password):
    emulator = projector(password=password, klass=2, idle_seconds=2.0)
    generator = random.Random(f"pjlink-{password}")
    for _ in range(150):
        sent = garbage(generator)
        with socket.create_connection(emulator.address, timeout=2.0) as rude:
            try:
                rude.sendall(sent)
                rude.shutdown(socket.SHUT_WR)
                while rude.recv(4096):
                    pass
            except TimeoutError:  # neither an answer nor a hang-up: it hangs
                raise
            except OSError:  # it hung up on an over-long line (reset, broken pipe, not connected): allowed
                pass
        fresh = RawClient(emulator.address)
        greeting = fresh.read_line()
        prefix = "" if password is None else digest_for(greeting, password)
        assert fresh.send(prefix + "%1POWR ?").startswith("%1POWR="), sent
        fresh.close()
    assert emulator.handler_errors() == []


def test_a_technician_starts_it_from_the_command_line():
    command = [sys.executable, "-m", "daemon.testing.pjlink_emulator", "--port", "0", "--password", "x"]
    command += ["--class", "2", "--warmup", "20"]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert "PJLink class 2 projector emulator on 127.0.0.1:" in banner
        port = int(banner.split("127.0.0.1:")[1].split(";")[0])
        talk = RawClient(("127.0.0.1", port))
        assert talk.send(digest_for(talk.read_line(), "x") + "%2POWR 1") == "%2POWR=OK"
        assert talk.send("%2POWR ?") == "%2POWR=3"
        talk.close()
        assert "%2POWR 1 → OK" in process.stdout.readline()
    finally:
        process.terminate()
        process.wait(timeout=5)


def test_an_idle_connection_is_dropped_as_the_specification_says(projector, client):
    talk = client(projector(idle_seconds=0.2)).greeted()
    started = time.monotonic()
    assert talk.socket.recv(100) == b""
    assert time.monotonic() - started >= 0.15

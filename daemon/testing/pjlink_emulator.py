"""A PJLink projector emulator on TCP (no real projector can run here), written from the JBMIA PJLink specification."""

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import hmac
import re
import secrets
import socket
import socketserver
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from types import TracebackType

__all__ = ["ErrorLevel", "Part", "PjlinkEmulator", "PowerState", "ReceivedCommand", "main"]

DEFAULT_PORT = 4352
# A command is at most 136 bytes with its CR (class 1 §4; class 2 keeps parameters to 128 bytes), plus
# the 32-character digest on the first one when a password is set. A longer line ends the connection.
LONGEST_LINE = 32 + 136
# The specification's idle limit: a projector drops a connection that sends nothing for 30 seconds.
IDLE_SECONDS = 30.0
COMMAND = re.compile(rb"%(?P<klass>[0-9])(?P<body>[A-Za-z0-9]{4})(?P<rest>.*)", re.DOTALL)
# Input codes: a type (1 RGB, 2 video, 3 digital, 4 storage, 5 network; class 2 adds 6 internal) and a
# number (1–9; class 2 adds A–Z).
INPUT_CODES = {1: re.compile(r"[1-5][1-9]"), 2: re.compile(r"[1-6][1-9A-Z]")}


class PowerState(StrEnum):
    """POWR's answer to a query."""

    OFF = "0"
    ON = "1"
    COOLING = "2"
    WARMING = "3"


class Part(StrEnum):
    """The parts ERST reports on, in the order of its six characters."""

    FAN = "fan"
    LAMP = "lamp"
    TEMPERATURE = "temperature"
    COVER = "cover"
    FILTER = "filter"
    OTHER = "other"


class ErrorLevel(IntEnum):
    """One ERST character."""

    OK = 0
    WARNING = 1
    ERROR = 2


class Failure(StrEnum):
    """The error answers a projector gives in place of a value."""

    UNDEFINED_COMMAND = "ERR1"
    OUT_OF_PARAMETER = "ERR2"
    UNAVAILABLE_TIME = "ERR3"
    PROJECTOR_FAILURE = "ERR4"


@dataclass(frozen=True)
class ReceivedCommand:
    """One well-formed command as the emulator received it, and what it answered.

    `at` is time.monotonic() on arrival; `peer` the client's (host, port).
    """

    at: float
    peer: tuple[str, int]
    klass: int
    body: str
    parameter: str
    answer: str


# Each command and the first class that defines it: a `%N` command is known when its class is at most N
# and N is at most the projector's class (a class 1 projector answers ERR1 to every `%2` command).
FIRST_CLASS = {
    "POWR": 1,
    "INPT": 1,
    "AVMT": 1,
    "ERST": 1,
    "LAMP": 1,
    "INST": 1,
    "NAME": 1,
    "INF1": 1,
    "INF2": 1,
    "INFO": 1,
    "CLSS": 1,
    "SNUM": 2,
    "SVER": 2,
    "INNM": 2,
    "RLMP": 2,
}
# AVMT's parameters: (video muted, audio muted) changed by each; None leaves that one as it is.
MUTES: dict[str, tuple[bool | None, bool | None]] = {
    "10": (False, None),
    "11": (True, None),
    "20": (None, False),
    "21": (None, True),
    "30": (False, False),
    "31": (True, True),
}


class PjlinkEmulator:
    """A PJLink class 1 or class 2 projector on a TCP port, with power, inputs, mutes, errors and a lamp.

    On connect it greets `PJLINK 0` (no password) or `PJLINK 1 <random>` (password: the first command
    is prefixed by md5(random + password) in lowercase hex; a wrong one gets `PJLINK ERRA` and the
    connection closes). Power on goes through WARMING for `warmup_seconds`, power off through COOLING
    for `cooldown_seconds`; a power command meanwhile gets ERR3. With any part at ErrorLevel.ERROR,
    power on gets ERR4. Input and mute commands get ERR3 unless the power is on. The lamp's hours
    grow while it is lit (warming or on) by `lamp_hours_per_second`.

    `silent=True` accepts connections and reads what is sent but never answers (a hung projector).
    Every well-formed command is logged (`received()`); exceptions in a connection handler, which
    would be bugs of the emulator, are kept in `handler_errors()`.

    start() binds (port 0: any free port) and returns (host, port), also kept as `address`; stop()
    closes every connection. Usable as a context manager. All state is behind one lock: tests set
    errors while clients talk.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        *,
        password: str | None = None,
        klass: int = 1,
        warmup_seconds: float = 0.0,
        cooldown_seconds: float = 0.0,
        lamp_hours: int = 0,
        lamp_hours_per_second: float = 1 / 3600,
        inputs: Sequence[str] = ("11", "31", "32"),
        name: str = "Twos and Sevens",
        manufacturer: str = "Emulated",
        product: str = "PJLink emulator",
        other_information: str = "daemon.testing.pjlink_emulator",
        serial_number: str = "EMU0001",
        software_version: str = "1.0",
        lamp_model: str = "LMP-EMU",
        silent: bool = False,
        idle_seconds: float = IDLE_SECONDS,
        on_command: Callable[[ReceivedCommand], None] | None = None,
    ) -> None:
        if klass not in (1, 2):
            raise ValueError(f"PJLink class is 1 or 2, not {klass}")
        if not inputs or any(not INPUT_CODES[klass].fullmatch(code) for code in inputs):
            raise ValueError(f"no inputs, or one a class {klass} projector cannot have: {list(inputs)}")
        self.host, self.port = host, port
        self.password = password
        self.klass = klass
        self.warmup_seconds, self.cooldown_seconds = warmup_seconds, cooldown_seconds
        self.lamp_hours_per_second = lamp_hours_per_second
        self.inputs = tuple(inputs)
        self.name, self.manufacturer, self.product = name, manufacturer, product
        self.other_information, self.serial_number = other_information, serial_number
        self.software_version, self.lamp_model = software_version, lamp_model
        self.idle_seconds = idle_seconds
        self.on_command = on_command
        self._lock = threading.Lock()
        self._silent = silent
        self._power = PowerState.OFF
        self._transition_ends = 0.0
        self._lamp_hours = float(lamp_hours)
        self._lamp_counted_until = time.monotonic()
        self._input = self.inputs[0]
        self._video_muted = self._audio_muted = False
        self._errors = dict.fromkeys(Part, ErrorLevel.OK)
        self._received: list[ReceivedCommand] = []
        self._handler_errors: list[str] = []
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._serving: threading.Thread | None = None

    # Life

    def start(self) -> tuple[str, int]:
        """Bind and serve in a background thread; returns the bound (host, port)."""
        if self._server is not None:
            raise RuntimeError("the emulator is already started")
        self._server = _Server((self.host, self.port), self)
        # Polled every 50 ms for stop() (the default half second would be most of a short test).
        serve = functools.partial(self._server.serve_forever, poll_interval=0.05)
        self._serving = threading.Thread(target=serve, name="pjlink-emulator", daemon=True)
        self._serving.start()
        return self.address

    def stop(self) -> None:
        """Stop serving and close every open connection."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            for connection in self._connections:
                with contextlib.suppress(OSError):  # the client closed it first
                    connection.shutdown(socket.SHUT_RDWR)
        if self._serving is not None:
            self._serving.join()
        self._server = self._serving = None

    def __enter__(self) -> PjlinkEmulator:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def address(self) -> tuple[str, int]:
        """The bound (host, port), as start() returned it."""
        if self._server is None:
            raise RuntimeError("the emulator is not started")
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    # What tests read and set

    @property
    def power(self) -> PowerState:
        with self._lock:
            return self._settled_power()

    @property
    def lamp_hours(self) -> int:
        with self._lock:
            self._settled_power()
            return int(self._lamp_hours)

    def set_error(self, part: Part | str, level: ErrorLevel | int) -> None:
        """Raise or clear one ERST flag, e.g. set_error("lamp", 2)."""
        with self._lock:
            self._errors[Part(part)] = ErrorLevel(level)

    @property
    def silent(self) -> bool:
        with self._lock:
            return self._silent

    def set_silent(self, silent: bool) -> None:
        """Stop (or resume) answering, on open connections as on new ones."""
        with self._lock:
            self._silent = silent

    def received(self, body: str | None = None) -> list[ReceivedCommand]:
        """The commands received so far, or only those with this body ("POWR")."""
        with self._lock:
            return [command for command in self._received if body is None or command.body == body]

    def handler_errors(self) -> list[str]:
        """Tracebacks of exceptions raised in connection handlers (none, unless the emulator has a bug)."""
        with self._lock:
            return list(self._handler_errors)

    # Connections (called by _Handler)

    def greeting(self) -> tuple[bytes, str | None]:
        """The first line sent to a client, and the digest its first command must carry (None: no password)."""
        if self.password is None:
            return b"PJLINK 0\r", None
        random = secrets.token_hex(4)
        digest = hashlib.md5((random + self.password).encode()).hexdigest()
        return f"PJLINK 1 {random}\r".encode(), digest

    def answer(self, line: bytes, peer: tuple[str, int]) -> bytes | None:
        """The reply to one line (its CR taken off), or None for a line that is no PJLink command."""
        match = COMMAND.fullmatch(line)
        if match is None:
            return None
        klass, body = int(match["klass"]), match["body"].decode("ascii")
        rest = match["rest"].decode("utf-8", errors="replace")
        with self._lock:
            first_class = FIRST_CLASS.get(body)
            if first_class is None or not first_class <= klass <= self.klass:
                value = str(Failure.UNDEFINED_COMMAND)
            elif not rest.startswith(" "):
                value = str(Failure.OUT_OF_PARAMETER)
            else:
                value = str(self._execute(body, rest[1:]))
            command = ReceivedCommand(time.monotonic(), peer, klass, body, rest[1:], value)
            self._received.append(command)
        if self.on_command is not None:
            self.on_command(command)
        return f"%{klass}{body}={value}\r".encode()

    # Commands (with the lock held)

    def _execute(self, body: str, parameter: str) -> str:
        power = self._settled_power()
        if body == "POWR":
            return self._powr(parameter, power)
        if body in ("INPT", "AVMT") and power is not PowerState.ON:
            return Failure.UNAVAILABLE_TIME
        if body == "INPT":
            return self._inpt(parameter)
        if body == "AVMT":
            return self._avmt(parameter)
        if body == "INNM":
            code = parameter.removeprefix("?")
            return f"Input {code}" if parameter.startswith("?") and code in self.inputs else Failure.OUT_OF_PARAMETER
        if parameter != "?":
            return Failure.OUT_OF_PARAMETER
        return self._query(body, power)

    def _query(self, body: str, power: PowerState) -> str:
        lit = power in (PowerState.WARMING, PowerState.ON)
        answers = {
            "ERST": "".join(str(int(self._errors[part])) for part in Part),
            "LAMP": f"{int(self._lamp_hours)} {int(lit)}",
            "INST": " ".join(self.inputs),
            "NAME": self.name,
            "INF1": self.manufacturer,
            "INF2": self.product,
            "INFO": self.other_information,
            "CLSS": str(self.klass),
            "SNUM": self.serial_number,
            "SVER": self.software_version,
            "RLMP": self.lamp_model,
        }
        return answers[body]

    def _powr(self, parameter: str, power: PowerState) -> str:
        if parameter == "?":
            return power
        if parameter not in ("0", "1"):
            return Failure.OUT_OF_PARAMETER
        if power in (PowerState.WARMING, PowerState.COOLING):
            return Failure.UNAVAILABLE_TIME
        if parameter == "1" and power is PowerState.OFF:
            if ErrorLevel.ERROR in self._errors.values():
                return Failure.PROJECTOR_FAILURE
            self._power, self._transition_ends = PowerState.WARMING, time.monotonic() + self.warmup_seconds
        elif parameter == "0" and power is PowerState.ON:
            self._power, self._transition_ends = PowerState.COOLING, time.monotonic() + self.cooldown_seconds
        self._settled_power()
        return "OK"

    def _inpt(self, parameter: str) -> str:
        if parameter == "?":
            return self._input
        if parameter not in self.inputs:
            return Failure.OUT_OF_PARAMETER
        self._input = parameter
        return "OK"

    def _avmt(self, parameter: str) -> str:
        if parameter == "?":
            if self._video_muted and self._audio_muted:
                return "31"
            return "11" if self._video_muted else "21" if self._audio_muted else "30"
        if parameter not in MUTES:
            return Failure.OUT_OF_PARAMETER
        video, audio = MUTES[parameter]
        self._video_muted = self._video_muted if video is None else video
        self._audio_muted = self._audio_muted if audio is None else audio
        return "OK"

    def _settled_power(self) -> PowerState:
        """The power state now (a warm-up or cool-down past its end has finished), the lamp's hours counted."""
        now = time.monotonic()
        if self._power in (PowerState.WARMING, PowerState.COOLING) and now >= self._transition_ends:
            self._count_lamp(self._transition_ends)
            self._power = PowerState.ON if self._power is PowerState.WARMING else PowerState.OFF
        self._count_lamp(now)
        return self._power

    def _count_lamp(self, until: float) -> None:
        if self._power in (PowerState.WARMING, PowerState.ON):
            self._lamp_hours += (until - self._lamp_counted_until) * self.lamp_hours_per_second
        self._lamp_counted_until = until

    # Bookkeeping for _Handler and _Server

    def _opened(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.add(connection)

    def _closed(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)

    def _handler_failed(self) -> None:
        with self._lock:
            self._handler_errors.append(traceback.format_exc())


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, address: tuple[str, int], emulator: PjlinkEmulator) -> None:
        self.emulator = emulator
        super().__init__(address, _Handler)

    def handle_error(self, request: object, client_address: object) -> None:
        self.emulator._handler_failed()


class _Handler(socketserver.BaseRequestHandler):
    """One client: the greeting, the digest on its first command, then a reply per CR-terminated line."""

    server: _Server
    request: socket.socket

    def handle(self) -> None:
        emulator = self.server.emulator
        emulator._opened(self.request)
        try:
            self.request.settimeout(emulator.idle_seconds)
            self._converse(emulator)
        except OSError:  # the client went away, or was idle too long: its business, not a fault of ours
            pass
        finally:
            emulator._closed(self.request)

    def _converse(self, emulator: PjlinkEmulator) -> None:
        greeting, digest = emulator.greeting()
        if not emulator.silent:
            self.request.sendall(greeting)
        peer = (str(self.client_address[0]), int(self.client_address[1]))
        pending = b""
        while chunk := self.request.recv(4096):
            pending += chunk
            *lines, pending = pending.split(b"\r")
            if len(pending) > LONGEST_LINE or any(len(line) > LONGEST_LINE for line in lines):
                return
            for line in lines:
                command = line.strip(b"\n")  # a client ending lines in CR LF
                if emulator.silent:
                    continue
                if digest is not None:
                    if not hmac.compare_digest(command[:32], digest.encode()):
                        self.request.sendall(b"PJLINK ERRA\r")
                        return
                    command, digest = command[32:], None
                reply = emulator.answer(command, peer)
                if reply is not None:
                    self.request.sendall(reply)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m daemon.testing.pjlink_emulator`: a projector for a technician to point a client at."""
    parser = argparse.ArgumentParser(prog="python -m daemon.testing.pjlink_emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--password", help="PJLink password (none: no authentication)")
    parser.add_argument("--class", dest="klass", type=int, choices=(1, 2), default=1)
    parser.add_argument("--warmup", type=float, default=0.0, help="seconds warming (POWR 3) before on")
    parser.add_argument("--cooldown", type=float, default=0.0, help="seconds cooling (POWR 2) before off")
    parser.add_argument("--lamp-hours", type=int, default=0)
    parser.add_argument("--silent", action="store_true", help="accept connections, never answer")
    arguments = parser.parse_args(argv)
    emulator = PjlinkEmulator(
        arguments.host,
        arguments.port,
        password=arguments.password,
        klass=arguments.klass,
        warmup_seconds=arguments.warmup,
        cooldown_seconds=arguments.cooldown,
        lamp_hours=arguments.lamp_hours,
        silent=arguments.silent,
        on_command=lambda command: print(
            f"{command.peer[0]}:{command.peer[1]} %{command.klass}{command.body} {command.parameter} "
            f"→ {command.answer}",
            flush=True,
        ),
    )
    host, port = emulator.start()
    print(f"PJLink class {arguments.klass} projector emulator on {host}:{port}; Ctrl-C stops it", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

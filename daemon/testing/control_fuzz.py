"""Generated control requests, wrong in every way a client can be wrong, and a client that sends them."""

from __future__ import annotations

import json
import random
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from daemon.messages import COMMANDS
from daemon.supervision.control import read_reply

__all__ = ["FuzzRequest", "fuzz_requests", "send_request"]

# The commands a fuzzer may send valid: what a technician does by hand. restart-child and reload are
# left out as valid commands only (they interrupt a child on purpose); they are sent malformed.
INTERRUPTING = ("reload", "restart-child")
GENTLE = tuple(command for command in COMMANDS if command not in INTERRUPTING)
EVERY = COMMANDS
WITH_A_PRESET = ("override",)
FIELDS = ("command", "preset", "minutes", "role", "db", "speaker", "power")


@dataclass(frozen=True)
class FuzzRequest:
    """Bytes to send, and how: `pause_seconds` between bytes for a slow client, `close_early` to hang up."""

    payload: bytes
    kind: str
    pause_seconds: float = 0.0
    close_early: bool = False


def _any_json(draw: random.Random, depth: int = 0) -> object:
    """A JSON value of any type: null, bools, numbers of every size, strings, lists, objects."""
    kinds = ["null", "bool", "int", "float", "string", "list", "object"] if depth < 3 else ["int", "string"]
    kind = draw.choice(kinds)
    if kind == "null":
        return None
    if kind == "bool":
        return draw.random() < 0.5
    if kind == "int":
        return draw.choice([0, -1, 1, 2**31, -(2**63), 10**30, draw.randrange(-5000, 5000)])
    if kind == "float":
        return draw.choice([0.0, -0.5, 1e-300, 1e300, 1440.0, 1440.0001, draw.uniform(-1e6, 1e6)])
    if kind == "string":
        return draw.choice(
            [
                "",
                "healthy",
                "random",
                "sound",
                "trainer",
                "x" * draw.randrange(1, 300),
                "\u0000\u202e\ud7ff",
                "status",
                "override",
                "on",
                "off",
                "../../etc/passwd",
                "🙂" * 5,
            ]
        )
    if kind == "list":
        return [_any_json(draw, depth + 1) for _ in range(draw.randrange(0, 4))]
    return {draw.choice([*FIELDS, "x", ""]): _any_json(draw, depth + 1) for _ in range(draw.randrange(0, 4))}


def _request_object(draw: random.Random) -> dict:
    """A request that is valid, or wrong in one or more fields (types, values, unknown fields)."""
    body: dict = {"command": draw.choice(GENTLE if draw.random() < 0.5 else EVERY)}
    if body["command"] in WITH_A_PRESET or draw.random() < 0.3:
        body.update(preset=draw.choice(["healthy", "random", "helthy"]), minutes=draw.choice([0.2, 1, 5.0]))
    for field in FIELDS:
        if draw.random() < 0.25:
            body[field] = _any_json(draw)
    if draw.random() < 0.1:
        body[draw.choice(["extra", "Command", "preset "])] = _any_json(draw)
    if body["command"] in INTERRUPTING and not any(k not in FIELDS for k in body):
        body["unexpected"] = True  # sent malformed only: a valid one would interrupt a child on purpose
    return body


def fuzz_requests(seed: int, count: int) -> Iterator[FuzzRequest]:
    """`count` requests: mostly JSON objects right or wrong, and truncated, oversized, binary, slow or abandoned."""
    draw = random.Random(seed)
    for _ in range(count):
        roll = draw.random()
        line = json.dumps(_request_object(draw)).encode() + b"\n"
        if roll < 0.6:
            yield FuzzRequest(line, "object")
        elif roll < 0.7:
            yield FuzzRequest(json.dumps(_any_json(draw)).encode() + b"\n", "any json")
        elif roll < 0.78:
            yield FuzzRequest(line[: draw.randrange(1, max(2, len(line) - 1))], "truncated", close_early=True)
        elif roll < 0.86:
            yield FuzzRequest(
                b'{"command": "status", "pad": "' + b"x" * draw.randrange(4_000, 200_000) + b'"}\n', "oversized"
            )
        elif roll < 0.95:
            yield FuzzRequest(bytes(draw.randrange(256) for _ in range(draw.randrange(1, 600))) + b"\n", "binary")
        elif roll < 0.99:
            yield FuzzRequest(line, "slow", pause_seconds=0.01)
        else:
            yield FuzzRequest(line[:5], "stalled", pause_seconds=0.0)  # then silence: the daemon times it out


def send_request(path: Path, request: FuzzRequest, timeout_seconds: float = 30.0) -> bytes:
    """Send it as described; the reply line (b"" when the daemon closed without one, or we hung up first)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout_seconds)
        sock.connect(str(path))
        try:
            if request.pause_seconds:
                for index in range(len(request.payload)):
                    sock.sendall(request.payload[index : index + 1])
                    time.sleep(request.pause_seconds)
            else:
                sock.sendall(request.payload)
            if request.close_early:
                sock.shutdown(socket.SHUT_WR)  # a client that stops halfway and says so
        except OSError:
            pass  # the daemon refused to read more (oversized): its reply still waits to be read
        return read_reply(sock)

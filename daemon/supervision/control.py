"""The control socket: `override`, `skip`, `pause`, `resume`, `status` from the CLI to the running daemon.

A Unix stream socket (mode 0600, or 0660 with [control] group): one JSON request per connection,
one JSON reply. Requests are read in a thread and answered by the supervisor's loop; anything
malformed, oversized or unknown gets an error reply, never an exception in the daemon.
"""

from __future__ import annotations

import contextlib
import grp
import json
import os
import pwd
import queue
import socket
import struct
import threading
from collections.abc import Callable
from pathlib import Path

from daemon.logs import get_logger
from daemon.messages import ControlReply, ControlRequest, parse_request

__all__ = ["MAX_REQUEST_BYTES", "ControlServer", "DaemonNotFound", "ask", "ask_daemon", "read_reply"]

MAX_REQUEST_BYTES = 4096
ANSWER_TIMEOUT_SECONDS = 5.0
DRAIN_PAUSE_SECONDS = 0.2  # a refused client that sends nothing for this long is done sending
DRAIN_MAX_BYTES = 16 * 1024 * 1024


class ControlServer:
    """Accepts requests; `requests` holds (who, typed request, reply callback) for the supervisor's loop."""

    def __init__(self, path: Path, group: str):
        self.path = path
        self.log = get_logger("control")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)  # a socket left by a killed daemon
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        if group:
            os.chown(path, -1, grp.getgrnam(group).gr_gid)
        os.chmod(path, 0o660 if group else 0o600)
        self.sock.listen(8)
        self.requests: queue.Queue[tuple[str, ControlRequest, Callable[[ControlReply], None]]] = queue.Queue()
        self.thread = threading.Thread(target=self._serve, name="control", daemon=True)
        self.thread.start()
        self.log.info("control_listening", path=str(path), group=group or None)

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        with connection:
            connection.settimeout(ANSWER_TIMEOUT_SECONDS)
            who = _peer_name(connection)
            try:
                request = parse_request(_read_request(connection))
            except (ValueError, OSError) as exc:  # RequestInvalid, too long, a client too slow
                self.log.warning("control_refused", by=who, error=str(exc)[:300])
                _drain(connection)
                return _reply(connection, ControlReply(False, error=str(exc)))
            answered = threading.Event()
            answer = [ControlReply(False, error="the daemon did not answer in time (busy or stopping)")]

            def reply(body: ControlReply) -> None:
                answer[0] = body
                answered.set()

            self.requests.put((who, request, reply))
            answered.wait(ANSWER_TIMEOUT_SECONDS)
            _reply(connection, answer[0])

    def close(self) -> None:
        self.sock.close()
        self.path.unlink(missing_ok=True)


def _read_request(connection: socket.socket) -> bytes:
    """One line of at most MAX_REQUEST_BYTES (ValueError beyond), or whatever came before the client stopped."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = connection.recv(MAX_REQUEST_BYTES + 1 - len(data))
        if not chunk:
            break
        data += chunk
        if len(data) > MAX_REQUEST_BYTES:
            raise ValueError(f"request longer than {MAX_REQUEST_BYTES} bytes")
    return data


def _drain(connection: socket.socket) -> None:
    """Read and drop what a refused client is still sending (bounded), so it gets its reply, not a reset."""
    connection.settimeout(DRAIN_PAUSE_SECONDS)
    with contextlib.suppress(OSError):
        for _ in range(DRAIN_MAX_BYTES // 65536):
            if not connection.recv(65536):
                return


def _reply(connection: socket.socket, reply: ControlReply) -> None:
    with contextlib.suppress(OSError):  # the client went away
        connection.sendall(reply.to_json())


def _peer_name(connection: socket.socket) -> str:
    """The connecting user, from the kernel (SO_PEERCRED), not from anything the client says."""
    try:
        _, uid, _ = struct.unpack("3i", connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
        return pwd.getpwuid(uid).pw_name
    except (OSError, KeyError):
        return "unknown"


def ask(path: Path, request: dict, timeout: float = 10.0) -> dict:
    """The client side (the CLI): one request, one reply. Raises OSError when no daemon listens."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(path))
        sock.sendall(json.dumps(request).encode() + b"\n")
        data = read_reply(sock)
    return json.loads(data or b'{"ok": false, "error": "no reply"}')


class DaemonNotFound(OSError):
    """No daemon answered at any of the places looked at; the message names each and why."""


def ask_daemon(candidates: list[Path], request: dict) -> tuple[Path, dict]:
    """The first socket of `candidates` where a daemon answers, and its reply (DaemonNotFound otherwise)."""
    tried = []
    for path in candidates:
        try:
            return path, ask(path, request)
        except OSError as exc:  # absent, left by a dead daemon (refused), or not ours to open (permission)
            tried.append(f"{path}: {exc.strerror or exc}")
    raise DaemonNotFound("; ".join(tried))


def read_reply(sock: socket.socket) -> bytes:
    """The daemon's one reply line, or what came before it closed (b"" for nothing)."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data

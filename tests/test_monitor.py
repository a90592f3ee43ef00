"""The HTTP endpoint under rude clients: slow ones are dropped, vanishing ones leave a log line, never a traceback."""

from __future__ import annotations

import socket
import time

from structlog.testing import capture_logs

from daemon.config.schema import Http
from daemon.supervision.monitor import Monitor

STATUS = {
    "healthy": True,
    "problems": [],
    "children": {},
    "frames": 0,
    "uptime_seconds": 1.0,
    "streams": {},
    "padding": "x" * 200_000,
}  # a reply larger than the socket buffers: a vanished client breaks the pipe


def test_slow_clients_are_dropped_and_vanishing_ones_are_logged(capfd):
    monitor = Monitor(Http(port=0), lambda: STATUS, read_timeout_seconds=1.0)
    try:
        slow = []
        for _ in range(50):  # slowloris: a request line and half a header, then nothing
            client = socket.create_connection(("127.0.0.1", monitor.port), timeout=10)
            client.sendall(b"GET /status HTTP/1.1\r\nHost: x")
            slow.append(client)
        time.sleep(1.5)
        for client in slow:
            assert client.recv(100) == b""  # the server hung up on each
            client.close()
        with capture_logs() as logs:
            for _ in range(20):  # ask for the large status and go away without reading it
                client = socket.create_connection(("127.0.0.1", monitor.port), timeout=10)
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                client.sendall(b"GET /status HTTP/1.1\r\nHost: x\r\n\r\n")
                client.close()  # SO_LINGER 0: a reset, as a client that crashed
            time.sleep(1.0)
        assert any(log["event"] == "http_request_failed" for log in logs), logs
        with socket.create_connection(("127.0.0.1", monitor.port), timeout=10) as client:  # and it still answers
            client.sendall(b"GET /health HTTP/1.0\r\n\r\n")
            assert client.recv(100).startswith(b"HTTP/1.0 200")
    finally:
        monitor.close()
    assert "Traceback" not in capfd.readouterr().err

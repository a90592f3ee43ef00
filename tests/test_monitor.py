"""The HTTP endpoint under rude clients: slow ones are dropped, vanishing ones leave a log line, never a traceback."""

from __future__ import annotations

import shutil
import socket
import time
import urllib.request

from structlog.testing import capture_logs

from daemon.config.schema import Http
from daemon.supervision.monitor import Monitor

STATUS = {
    "healthy": True,
    "problems": [],
    "children": {},
    "frames": 0,
    "uptime_seconds": 1.0,
    "paused": False,
    "run": {},
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


def _scrape(monitor: Monitor) -> dict[tuple[str, tuple], float]:
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"http://127.0.0.1:{monitor.port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_say_which_child_gave_up_xruns_frames_presented_the_programme_and_the_disk(tmp_path):
    status = {
        **STATUS,
        "healthy": False,
        "paused": False,
        "schedule": {"open": True, "playing": "healthy"},
        "run": {"run_id": "20261202-101500-healthy", "preset": "healthy", "step": 12},
        "children": {
            "trainer": {"state": "playing", "restarts": 0, "heartbeat": {}},
            "sound": {"state": "failed", "restarts": 6, "heartbeat": {"underflows": 17}},
            "image": {"state": "playing", "restarts": 1, "heartbeat": {"projectors": {0: 450, 1: 449}}},
        },
    }
    monitor = Monitor(Http(port=0), lambda: status, recordings_path=tmp_path / "not" / "made" / "yet")
    try:
        metrics = _scrape(monitor)
    finally:
        monitor.close()
    assert metrics[("twos_and_sevens_child_state", (("role", "sound"), ("state", "failed")))] == 1
    assert metrics[("twos_and_sevens_child_state", (("role", "sound"), ("state", "playing")))] == 0
    assert metrics[("twos_and_sevens_child_state", (("role", "trainer"), ("state", "playing")))] == 1
    assert sum(v for (name, labels), v in metrics.items() if name == "twos_and_sevens_child_state") == 3
    assert metrics[("twos_and_sevens_child_restarts_total", (("role", "sound"),))] == 6
    assert metrics[("twos_and_sevens_xruns_total", ())] == 17
    assert metrics[("twos_and_sevens_projector_frames_presented_total", (("projector", "1"),))] == 449
    assert metrics[("twos_and_sevens_open", ())] == 1 and metrics[("twos_and_sevens_paused", ())] == 0
    assert metrics[("twos_and_sevens_healthy", ())] == 0
    run = (("preset", "healthy"), ("run_id", "20261202-101500-healthy"))
    assert metrics[("twos_and_sevens_run_info", run)] == 1
    free, size = (metrics[(f"twos_and_sevens_recordings_disk_{k}_bytes", ())] for k in ("free", "size"))
    usage = shutil.disk_usage(tmp_path)  # the nearest folder that exists
    assert 0 < free <= size == usage.total and abs(free - usage.free) < 1e9


def test_metrics_leave_out_what_the_status_does_not_carry():
    status = {
        **STATUS,
        "paused": True,
        "run": {},
        "children": {"trainer": {"state": "starting", "restarts": 0, "heartbeat": {}}},
    }
    monitor = Monitor(Http(port=0), lambda: status)
    try:
        names = {name for name, _ in _scrape(monitor)}
    finally:
        monitor.close()
    assert "twos_and_sevens_paused" in names and "twos_and_sevens_child_state" in names
    for absent in (
        "twos_and_sevens_open",
        "twos_and_sevens_xruns_total",
        "twos_and_sevens_run_info",
        "twos_and_sevens_recordings_disk_free_bytes",
        "twos_and_sevens_projector_frames_presented_total",
    ):
        assert absent not in names

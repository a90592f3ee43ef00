"""The read-only HTTP endpoint: /health, /status (JSON) and /metrics (Prometheus), served from a thread."""

from __future__ import annotations

import hmac
import json
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from daemon.config.schema import Http
from daemon.logs import get_logger
from daemon.supervision.children import ChildState

__all__ = ["Monitor"]


READ_TIMEOUT_SECONDS = 10.0  # the request line and headers must arrive within this (slowloris)


class _StatusCollector:
    """Prometheus metrics read from the supervisor's status at scrape time."""

    def __init__(self, status: Callable[[], dict]):
        self.status = status

    def collect(self):
        status = self.status()
        up = GaugeMetricFamily("twos_and_sevens_child_up", "1 when the child process plays", labels=["role"])
        restarts = CounterMetricFamily("twos_and_sevens_child_restarts", "Restarts of the child", labels=["role"])
        for role, child in status["children"].items():
            up.add_metric([role], 1.0 if child["state"] == ChildState.PLAYING else 0.0)
            restarts.add_metric([role], child["restarts"])
        yield up
        yield restarts
        delay = GaugeMetricFamily(
            "twos_and_sevens_frame_delay_seconds",
            "Worst delay from a training step's end to its frame reaching the child, last second",
            labels=["role"],
        )
        for role, child in status["children"].items():
            if "frame_delay_ms" in child["heartbeat"]:
                delay.add_metric([role], child["heartbeat"]["frame_delay_ms"]["max"] / 1000)
        yield delay
        yield CounterMetricFamily("twos_and_sevens_frames", "Frames carried from the trainer", value=status["frames"])
        yield GaugeMetricFamily(
            "twos_and_sevens_uptime_seconds", "Seconds since the supervisor started", value=status["uptime_seconds"]
        )
        streams = GaugeMetricFamily("twos_and_sevens_stream", "The latest value of each data stream", labels=["stream"])
        for name, value in status["streams"].items():
            if value == value:  # NaN: not measured yet
                streams.add_metric([name], value)
        yield streams


class _Server(ThreadingHTTPServer):
    """One thread per request; a request that fails (a client gone mid-reply) is a log line, never a traceback."""

    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        get_logger("supervisor").warning(
            "http_request_failed", client=str(client_address[0]), error=repr(sys.exc_info()[1])
        )


class Monitor:
    """Serves `status()` (a JSON-ready dict with `healthy` and `problems`) until `close()`."""

    def __init__(self, settings: Http, status: Callable[[], dict], read_timeout_seconds: float = READ_TIMEOUT_SECONDS):
        self.settings, self.status = settings, status
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_StatusCollector(status))
        monitor = self

        class Handler(BaseHTTPRequestHandler):
            timeout = read_timeout_seconds  # a client that sends its request slower than this is dropped

            def do_GET(self) -> None:
                monitor._answer(self, registry)

            def log_message(self, *args) -> None:  # requests are not worth a log line each
                pass

        self.server = _Server((settings.address, settings.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, name="http", daemon=True)
        self.thread.start()
        get_logger("supervisor").info(
            "http_listening",
            address=settings.address,
            port=self.server.server_port,
            token_required=bool(settings.token),
        )

    @property
    def port(self) -> int:
        return self.server.server_port

    def _answer(self, request: BaseHTTPRequestHandler, registry: CollectorRegistry) -> None:
        if self.settings.token:
            given = request.headers.get("Authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {self.settings.token}".encode()):
                return self._send(request, 401, "application/json", {"error": "a bearer token is required"})
        path = request.path.split("?", 1)[0]
        if path == "/health":
            status = self.status()
            body = {"healthy": status["healthy"], "problems": status["problems"]}
            return self._send(request, 200 if status["healthy"] else 503, "application/json", body)
        if path == "/status":
            return self._send(request, 200, "application/json", self.status())
        if path == "/metrics":
            request.send_response(200)
            request.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            payload = generate_latest(registry)
            request.send_header("Content-Length", str(len(payload)))
            request.end_headers()
            request.wfile.write(payload)
            return None
        return self._send(request, 404, "application/json", {"error": "try /health, /status or /metrics"})

    @staticmethod
    def _send(request: BaseHTTPRequestHandler, code: int, kind: str, body: dict) -> None:
        payload = json.dumps(body, default=str).encode()
        request.send_response(code)
        request.send_header("Content-Type", kind)
        request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        request.wfile.write(payload)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

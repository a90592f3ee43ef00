"""The read-only HTTP endpoint: /health, /status (JSON) and /metrics (Prometheus), served from a thread."""

from __future__ import annotations

import hmac
import json
import math
import shutil
import sys
import threading
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from daemon.config.schema import Http
from daemon.logs import get_logger
from daemon.supervision.children import ChildState
from daemon.supervision.page import latest_grid, page_file

__all__ = ["Monitor"]


TOKEN_COOKIE = "twos_and_sevens_token"
READ_TIMEOUT_SECONDS = 10.0  # the request line and headers must arrive within this (slowloris)


class _StatusCollector:
    """Prometheus metrics read from the supervisor's status at scrape time (monitoring/ alerts on them)."""

    def __init__(self, status: Callable[[], dict], recordings_path: Path | None = None):
        self.status, self.recordings_path = status, recordings_path

    def collect(self):
        status = self.status()
        yield from _children(status["children"])
        yield from _senses(status["children"])
        yield from _watched(status)
        yield CounterMetricFamily("twos_and_sevens_frames", "Frames carried from the trainer", value=status["frames"])
        yield GaugeMetricFamily(
            "twos_and_sevens_uptime_seconds", "Seconds since the supervisor started", value=status["uptime_seconds"]
        )
        yield GaugeMetricFamily(
            "twos_and_sevens_healthy", "1 when /health answers 200", value=1.0 if status["healthy"] else 0.0
        )
        yield from _programme(status)
        yield from _projector_power(status.get("projectors") or {})
        streams = GaugeMetricFamily("twos_and_sevens_stream", "The latest value of each data stream", labels=["stream"])
        for name, value in status["streams"].items():
            if value == value:  # NaN: not measured yet
                streams.add_metric([name], value)
        yield streams
        if self.recordings_path is not None:
            yield from _recordings_disk(self.recordings_path)


def _children(children: dict) -> list:
    up = GaugeMetricFamily("twos_and_sevens_child_up", "1 when the child process plays", labels=["role"])
    # One series per state, 1 for the current one: `state="failed"` is a child given up after a crash loop.
    state = GaugeMetricFamily(
        "twos_and_sevens_child_state", "1 for the state the child is in, 0 for the others", labels=["role", "state"]
    )
    restarts = CounterMetricFamily(
        "twos_and_sevens_child_restarts", "Restarts after a fault: death, hang, dead output", labels=["role"]
    )
    reloads = CounterMetricFamily(
        "twos_and_sevens_child_reloads", "Deliberate restarts of the child (reload, restart-child)", labels=["role"]
    )
    delay = GaugeMetricFamily(
        "twos_and_sevens_frame_delay_seconds",
        "Worst delay from a training step's end to its frame reaching the child, last second",
        labels=["role"],
    )
    for role, child in children.items():
        up.add_metric([role], 1.0 if child["state"] == ChildState.PLAYING else 0.0)
        for each in ChildState:
            state.add_metric([role, each.value], 1.0 if child["state"] == each else 0.0)
        restarts.add_metric([role], child["restarts"])
        reloads.add_metric([role], child.get("reloads", 0))
        if "frame_delay_ms" in child["heartbeat"]:
            delay.add_metric([role], child["heartbeat"]["frame_delay_ms"]["max"] / 1000)
    return [up, state, restarts, reloads, delay]


def _watched(status: dict) -> list:
    """What the senses really output: each speaker's level, each projector's fps, and what the watch found."""
    sound = status["children"].get("sound", {}).get("heartbeat", {})
    level = GaugeMetricFamily(
        "twos_and_sevens_output_level_dbfs", "RMS level sent to each speaker, last second", labels=["channel"]
    )
    peak = GaugeMetricFamily(
        "twos_and_sevens_output_peak_dbfs", "Peak sent to each speaker, last second", labels=["channel"]
    )
    for k, (rms, top) in enumerate(zip(sound.get("levels_dbfs", []), sound.get("peaks_dbfs", []), strict=False)):
        level.add_metric([str(k + 1)], rms)
        peak.add_metric([str(k + 1)], top)
    pictures = status["children"].get("image", {}).get("heartbeat", {}).get("pictures", {})
    fps = GaugeMetricFamily(
        "twos_and_sevens_projector_fps", "Frames the projector presented per second", labels=["projector"]
    )
    frozen = GaugeMetricFamily(
        "twos_and_sevens_projector_frozen", "1 while the projector's picture is found frozen", labels=["projector"]
    )
    watch = status.get("watch", {})
    for index, picture in pictures.items():
        fps.add_metric([str(index)], picture.get("fps", 0.0))
        frozen.add_metric([str(index)], 1.0 if str(index) in watch.get("frozen_projectors", []) else 0.0)
    silent = GaugeMetricFamily(
        "twos_and_sevens_output_silent", "1 while the speaker is found silent", labels=["channel"]
    )
    for k in range(len(sound.get("levels_dbfs", []))):
        silent.add_metric([str(k + 1)], 1.0 if str(k + 1) in watch.get("silent_speakers", []) else 0.0)
    return [level, peak, silent, fps, frozen]


def _senses(children: dict) -> list:
    """What the sound and image children last said in their heartbeats: xruns, frames presented."""
    found = []
    sound = children.get("sound", {}).get("heartbeat", {})
    if "underflows" in sound:  # both routes count them: PortAudio's underflows, JACK's xruns
        found.append(
            CounterMetricFamily(
                "twos_and_sevens_xruns",
                "Audio device xruns (underflows) since the sound child started",
                value=sound["underflows"],
            )
        )
    projectors = children.get("image", {}).get("heartbeat", {}).get("projectors")
    if projectors:
        frames = CounterMetricFamily(
            "twos_and_sevens_projector_frames_presented",
            "Frames the projector's window presented since the image child started",
            labels=["projector"],
        )
        for index, presented in projectors.items():
            frames.add_metric([str(index)], presented)
        found.append(frames)
    return found


def _programme(status: dict) -> list:
    found = [
        GaugeMetricFamily(
            "twos_and_sevens_paused", "1 while paused from the control socket", value=1.0 if status["paused"] else 0.0
        )
    ]
    is_open = status.get("schedule", {}).get("open")  # the plan's word: open now ([hours], closed dates)
    if isinstance(is_open, bool):
        found.append(
            GaugeMetricFamily(
                "twos_and_sevens_open", "1 while the schedule says the gallery is open", value=float(is_open)
            )
        )
    volume = status.get("volume") or {}
    trim = GaugeMetricFamily(
        "twos_and_sevens_volume_trim_db",
        "The technician's volume trim in dB (speaker all: the whole output)",
        labels=["speaker"],
    )
    trim.add_metric(["all"], float(volume.get("whole_db", 0.0)))
    for speaker, db in volume.get("speakers_db", {}).items():
        trim.add_metric([speaker], float(db))
    found.append(trim)
    run = GaugeMetricFamily("twos_and_sevens_run_info", "1 for the run that plays now", labels=["run_id", "preset"])
    if status["run"].get("run_id"):
        run.add_metric([status["run"]["run_id"], status["run"].get("preset", "")], 1.0)
    found.append(run)
    return found


ERROR_LEVELS = {"ok": 0.0, "warning": 1.0, "error": 2.0}


def _projector_power(projectors: dict) -> list:
    """What each projector with a PJLink address reports: power, reachable, lamp hours, error flags."""
    on = GaugeMetricFamily(
        "twos_and_sevens_projector_power_on", "1 while a projector is on or warming (PJLink)", labels=["projector"]
    )
    wanted = GaugeMetricFamily(
        "twos_and_sevens_projector_power_wanted", "1 while the hours (or a technician) want it on", labels=["projector"]
    )
    reachable = GaugeMetricFamily(
        "twos_and_sevens_projector_reachable", "1 when the projector answered PJLink", labels=["projector"]
    )
    lamp = GaugeMetricFamily("twos_and_sevens_projector_lamp_hours", "Lamp hours as reported", labels=["projector"])
    faults = GaugeMetricFamily(
        "twos_and_sevens_projector_fault", "Error flag: 0 ok, 1 warning, 2 error", labels=["projector", "part"]
    )
    for name, seen in projectors.items():
        reachable.add_metric([name], 1.0 if seen.get("reachable") else 0.0)
        if seen.get("power") is not None:
            on.add_metric([name], 1.0 if seen["power"] in ("on", "warming") else 0.0)
        if seen.get("wanted") is not None:
            wanted.add_metric([name], 1.0 if seen["wanted"] == "on" else 0.0)
        if isinstance(seen.get("lamp_hours"), int):
            lamp.add_metric([name], float(seen["lamp_hours"]))
        for part, level in (seen.get("errors") or {}).items():
            faults.add_metric([name, part], ERROR_LEVELS.get(level, 2.0))
    return [on, wanted, reachable, lamp, faults]


def _recordings_disk(path: Path) -> list:
    """Free and total bytes of the filesystem the recordings go to (its nearest existing folder)."""
    folder = next((p for p in (path, *path.parents) if p.is_dir()), None)
    if folder is None:
        return []
    try:
        usage = shutil.disk_usage(folder)
    except OSError:  # a disk gone under us: the metric is absent, which the dashboard shows
        return []
    return [
        GaugeMetricFamily(
            "twos_and_sevens_recordings_disk_free_bytes",
            "Bytes free for recordings on their filesystem",
            value=usage.free,
        ),
        GaugeMetricFamily(
            "twos_and_sevens_recordings_disk_size_bytes", "Size of the recordings' filesystem", value=usage.total
        ),
    ]


class _Server(ThreadingHTTPServer):
    """One thread per request; a request that fails (a client gone mid-reply) is a log line, never a traceback."""

    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        get_logger("supervisor").warning(
            "http_request_failed", client=str(client_address[0]), error=repr(sys.exc_info()[1])
        )


def _finite(value: object) -> object:
    """NaN and infinities as null: JSON has no such numbers, and a browser's JSON.parse refuses them."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


class Monitor:
    """Serves `status()` (a JSON-ready dict with `healthy` and `problems`) until `close()`.

    With `recordings_path`, /metrics also says how full the recordings' disk is.
    """

    def __init__(
        self,
        settings: Http,
        status: Callable[[], dict],
        read_timeout_seconds: float = READ_TIMEOUT_SECONDS,
        recordings_path: Path | None = None,
    ):
        self.settings, self.status, self.recordings_path = settings, status, recordings_path
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_StatusCollector(status, recordings_path))
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
        path, _, query = request.path.partition("?")
        if self.settings.token and not self._token_given(request, query):
            return self._send(request, 401, "application/json", {"error": "a bearer token is required"})
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
        if path == "/grid.png":
            grid = latest_grid(self.recordings_path, str(self.status()["run"].get("run_id", "")))
            if grid is None:
                return self._send(request, 404, "application/json", {"error": "no sample grid yet"})
            return self._send_bytes(request, grid, "image/png")
        found = page_file(path)
        if found is not None:
            content, kind = found
            cookie = self._token_cookie(query)
            return self._send_bytes(request, content, kind, {"Set-Cookie": cookie} if cookie else {})
        return self._send(request, 404, "application/json", {"error": "try /, /health, /status or /metrics"})

    def _token_given(self, request: BaseHTTPRequestHandler, query: str) -> bool:
        """The token as a bearer header, a `token=` query parameter (a browser's first visit) or the page's cookie."""
        expected = self.settings.token.encode()
        header = request.headers.get("Authorization", "")
        candidates = [header.removeprefix("Bearer ")] if header.startswith("Bearer ") else []
        candidates += urllib.parse.parse_qs(query).get("token", [])
        for part in request.headers.get("Cookie", "").split(";"):  # by hand: one odd cookie must not hide ours
            name, _, value = part.strip().partition("=")
            if name == TOKEN_COOKIE:
                candidates.append(urllib.parse.unquote(value))
        return any(hmac.compare_digest(given.encode(), expected) for given in candidates)

    def _token_cookie(self, query: str) -> str:
        """Opened with ?token=…: keep it in a cookie, so the page's own requests carry it."""
        given = urllib.parse.parse_qs(query).get("token", [])
        if not self.settings.token or not given:
            return ""
        return f"{TOKEN_COOKIE}={urllib.parse.quote(given[0])}; Path=/; HttpOnly; SameSite=Strict"

    @staticmethod
    def _send_bytes(request: BaseHTTPRequestHandler, body: bytes, kind: str, headers: dict | None = None) -> None:
        request.send_response(200)
        request.send_header("Content-Type", kind)
        request.send_header("Content-Length", str(len(body)))
        request.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(body)

    @staticmethod
    def _send(request: BaseHTTPRequestHandler, code: int, kind: str, body: dict) -> None:
        payload = json.dumps(_finite(body), default=str, allow_nan=False).encode()
        request.send_response(code)
        request.send_header("Content-Type", kind)
        request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        request.wfile.write(payload)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

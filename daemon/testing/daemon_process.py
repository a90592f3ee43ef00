"""The daemon for tests: `twos-and-sevens run` in a child process, its JSON log events collected as they come."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

from daemon.processes import stop_process

__all__ = ["RunningDaemon"]

REPO = Path(__file__).resolve().parents[2]
STOP_GRACE_SECONDS = 60


class RunningDaemon:
    """`twos-and-sevens run [ARGS]` in a child process, its JSON log events collected as they come."""

    def __init__(self, config: str, env: dict, args: tuple[str, ...] = ()):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "daemon", "run", "--config", config, *args],
            cwd=REPO,
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.events: list[dict] = []
        self.exit_code: int | None = None  # once stopped
        self.stderr: list[str] = []
        stdout, stderr = self.process.stdout, self.process.stderr
        assert stdout is not None and stderr is not None  # both PIPE
        threading.Thread(target=self._read_events, args=(stdout,), daemon=True).start()
        threading.Thread(target=self.stderr.extend, args=(stderr,), daemon=True).start()

    def _read_events(self, stdout: IO[str]) -> None:
        for line in stdout:
            if line.startswith("{"):
                self.events.append(json.loads(line))

    def wait_for(self, predicate, timeout: float, what: str) -> dict:
        """The first event that satisfies `predicate`; AssertionError (naming the recent events) after `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = next((e for e in list(self.events) if predicate(e)), None)
            if found is not None:
                return found
            assert self.process.poll() is None, f"the daemon exited while waiting for {what}: {self.stderr[-20:]}"
            time.sleep(0.1)
        raise AssertionError(f"no {what} within {timeout} s; events: {[e['event'] for e in self.events][-30:]}")

    def pid(self, role: str) -> int:
        return [e for e in self.events if e["event"] == "child_started" and e["role"] == role][-1]["pid"]

    def http_get(self, path: str, token: str = "") -> tuple[int, str]:
        """(status, body) of a GET on the daemon's HTTP endpoint (its port as the latest http_listening logged it)."""
        self.wait_for(lambda e: e["event"] == "http_listening", 60, "http_listening")
        port = [e for e in list(self.events) if e["event"] == "http_listening"][-1]["port"]
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {token}"} if token else {}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def stop(self) -> int:
        """SIGTERM, then its exit code (killed after 60 s: -9). $TWOS_AND_SEVENS_TEST_EVENTS gets the events."""
        Path(os.environ.get("TWOS_AND_SEVENS_TEST_EVENTS", "/dev/null")).write_text(json.dumps(self.events))
        self.exit_code = stop_process(self.process, STOP_GRACE_SECONDS)
        return self.exit_code

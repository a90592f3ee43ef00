"""A real browser in a test: headless Chromium loads a page, runs its scripts, and gives back the DOM or a PNG;
or holds one page open in real time, looked at over the DevTools protocol while its scripts run on."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import websocket

__all__ = ["NoBrowser", "OpenPage", "chromium", "page_dom", "page_screenshot"]


class NoBrowser(RuntimeError):
    """No Chromium on this machine (Debian: apt-get install chromium)."""


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise NoBrowser("no Chromium here: apt-get install chromium (./scripts/setup.sh does)")


def _headless(profile: str, *arguments: str) -> list[str]:
    """The command line of a headless Chromium with its own profile folder."""
    return [
        chromium(),
        "--headless",
        "--no-sandbox",  # tests run as root in a container
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        f"--user-data-dir={profile}",
        *arguments,
    ]


def _run(url: str, arguments: list[str], script_seconds: float, timeout: float) -> str:
    """Chromium headless on `url`, its scripts given `script_seconds` of (virtual) time; its stdout."""
    with tempfile.TemporaryDirectory(prefix="tas-browser-") as profile:
        command = _headless(profile, f"--virtual-time-budget={int(script_seconds * 1000)}", *arguments, url)
        # Its own process group: Chromium's zygote, renderer and GPU processes go with it, whatever happens.
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True
        )
        try:
            out, _ = process.communicate(timeout=timeout)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return out


def page_dom(url: str, script_seconds: float = 5.0, timeout: float = 60.0) -> str:
    """The page's DOM after its scripts ran for `script_seconds` (fetches and timers included)."""
    return _run(url, ["--dump-dom"], script_seconds, timeout)


def page_screenshot(
    url: str, path: Path, size: tuple[int, int] = (1280, 1400), script_seconds: float = 5.0, timeout: float = 60.0
) -> Path:
    _run(url, [f"--screenshot={path}", f"--window-size={size[0]},{size[1]}"], script_seconds, timeout)
    return path


class OpenPage:
    """One page held open in headless Chromium, in real time, as on the technician's phone: its scripts
    keep polling between looks, so what it shows after a reload or a restart is what that one page made
    of it. Driven over the DevTools protocol (`--remote-debugging-port`); `close()` kills the browser's
    whole process group."""

    def __init__(self, url: str, timeout: float = 30.0):
        self._profile = tempfile.TemporaryDirectory(prefix="tas-browser-")
        self._log = Path(self._profile.name) / "stderr.log"
        # Port 0: it chooses one and says which in its stderr.
        command = _headless(f"{self._profile.name}/profile", "--remote-debugging-port=0", "about:blank")
        with self._log.open("w") as log:  # a file, not a pipe: a browser that logs never blocks on it
            self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
        self._ids = itertools.count(1)
        try:
            port = self._devtools_port(timeout)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=timeout) as answer:
                target = next(t for t in json.load(answer) if t["type"] == "page")
            self._socket = websocket.create_connection(
                target["webSocketDebuggerUrl"], timeout=timeout, suppress_origin=True
            )
            self._call("Page.navigate", url=url)
        except BaseException:
            self.close()
            raise

    def _devtools_port(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", self._log.read_text(errors="replace"))
            if found:
                return int(found.group(1))
            if self.process.poll() is not None:
                raise NoBrowser(f"Chromium exited ({self.process.returncode}): {self._log.read_text()[-500:]}")
            time.sleep(0.05)
        raise NoBrowser(f"Chromium did not open its DevTools port within {timeout} s")

    def _call(self, method: str, **params) -> dict:
        call = next(self._ids)
        self._socket.send(json.dumps({"id": call, "method": method, "params": params}))
        while True:  # events the page sends meanwhile are skipped
            answer = json.loads(self._socket.recv())
            if answer.get("id") == call:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer["result"]

    def evaluate(self, expression: str) -> object:
        """The value of a JavaScript expression in the page, now."""
        return self._call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def dom(self) -> str:
        """The page's DOM as it is now."""
        html = self.evaluate("document.documentElement.outerHTML")
        return html if isinstance(html, str) else ""

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._socket.close()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self._profile.cleanup()

    def __enter__(self) -> OpenPage:
        return self

    def __exit__(self, *_) -> None:
        self.close()

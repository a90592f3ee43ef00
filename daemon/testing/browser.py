"""A real browser in a test: headless Chromium loads a page, runs its scripts, and gives back the DOM or a PNG."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

__all__ = ["NoBrowser", "chromium", "page_dom", "page_screenshot"]


class NoBrowser(RuntimeError):
    """No Chromium on this machine (Debian: apt-get install chromium)."""


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise NoBrowser("no Chromium here: apt-get install chromium (./scripts/setup.sh does)")


def _run(url: str, arguments: list[str], script_seconds: float, timeout: float) -> str:
    """Chromium headless on `url`, its scripts given `script_seconds` of (virtual) time; its stdout."""
    with tempfile.TemporaryDirectory(prefix="tas-browser-") as profile:
        command = [
            chromium(),
            "--headless",
            "--no-sandbox",  # tests run as root in a container
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            f"--user-data-dir={profile}",
            f"--virtual-time-budget={int(script_seconds * 1000)}",
            *arguments,
            url,
        ]
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

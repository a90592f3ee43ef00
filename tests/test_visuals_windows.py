"""Projector windows through real X servers: Xvfb (one screen) and Xorg's dummy driver (three monitors).

GL in windows (GLX) runs in child processes only: this process keeps to EGL (NOTES: the two
must not share a thread), and an X server dying under a window ends only that child.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import ImageGrab

from daemon.testing import set_monitor, xorg_dummy_server, xvfb_server
from tests.conftest import REPO


def start(args: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "daemon", *args],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(child: subprocess.Popen) -> tuple[list[dict], str, str]:
    """SIGTERM, then the child's JSON log events, its stdout and its stderr."""
    if child.poll() is None:
        child.send_signal(signal.SIGTERM)
    try:
        out, err = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return events, out, err


def wait_for(child: subprocess.Popen, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert child.poll() is None, child.communicate()
        time.sleep(0.2)


def thirds(env: dict) -> list[np.ndarray]:
    shot = np.asarray(ImageGrab.grab(xdisplay=env["DISPLAY"]).convert("RGB")).astype(float)
    width = shot.shape[1] // 3
    return [shot[:, k * width : (k + 1) * width] for k in range(3)]


@pytest.fixture
def three_monitors(tmp_path):
    with xorg_dummy_server(3, folder=tmp_path) as env:
        yield env


def test_under_xvfb_a_window_opens_and_presents_while_missing_monitors_are_logged(short_runs):
    run = short_runs["healthy"]
    with xvfb_server(640, 360) as env:
        # At the recorded pace it lasts ~30 s: longer than the test, which stops it.
        child = start(["show", str(run.folder), "--config", run.loaded.source, "--speed", "1"], env)
        try:
            wait_for(child, 12)
            shot = np.asarray(ImageGrab.grab(xdisplay=env["DISPLAY"]).convert("L"))
        finally:
            events, out, err = stop(child)
    assert child.returncode == 0, err
    opened = [e for e in events if e["event"] == "projector_opened"]
    assert [(e["projector"], e["width"], e["height"]) for e in opened] == [(0, 640, 360)], out
    missing = {e["projector"] for e in events if e["event"] == "monitor_missing"}
    assert missing == {1, 2}  # Xvfb has one monitor: the other two wait, projector 0 plays
    presented = [e for e in events if e["event"] == "frames_presented"]
    assert presented and presented[-1]["frames"] > 20, presented
    assert shot.std() > 10 and shot.max() > 100  # the grid is on the screen, not a black window


def test_three_projectors_fill_three_monitors_and_one_can_come_back(three_monitors, short_runs):
    env = three_monitors
    run = short_runs["collapsed"]
    before = thirds(env)
    # Re-timed to 40 s: how long the flat-out recording took depends on how fast this machine trained.
    child = start(["show", str(run.folder), "--config", run.loaded.source, "--run-seconds", "40"], env)
    try:
        wait_for(child, 12)
        shown = thirds(env)
        set_monitor(env, 2, False)
        wait_for(child, 3)
        set_monitor(env, 2, True)
        wait_for(child, 5)
        again = thirds(env)
    finally:
        events, _, err = stop(child)
    assert child.returncode == 0, err
    for index, (empty, drawn) in enumerate(zip(before, shown, strict=True)):
        assert np.abs(drawn - empty).mean() > 5 and drawn.std() > 10, f"monitor {index} shows nothing"
    opened = [(e["projector"], e["monitor"]) for e in events if e["event"] == "projector_opened"]
    assert opened == [(0, "DUMMY0"), (1, "DUMMY1"), (2, "DUMMY2"), (2, "DUMMY2")], opened
    assert [e["projector"] for e in events if e["event"] == "monitor_lost"] == [2]
    assert np.abs(again[2] - before[2]).mean() > 5  # the window reopened on the monitor that came back
    # The other two kept presenting while monitor 2 was away.
    presented = {e["projector"]: e["frames"] for e in events if e["event"] == "frames_presented"}
    assert presented[0] > 10 and presented[1] > 10, presented


def test_projector_test_names_each_projector_and_shows_colour_bars(three_monitors):
    env = three_monitors
    child = start(["projector-test", "--seconds", "60"], env)
    try:
        wait_for(child, 10)
        shown = thirds(env)
    finally:
        _, out, err = stop(child)
    assert child.returncode == 0, err
    for index in range(3):
        assert f"projector {index}: monitor DUMMY{index}, 1920×1080: test pattern" in out
        bars = shown[index][int(1080 * 0.6) : int(1080 * 0.65)]  # the colour-bar band
        colours = {tuple(pixel) for pixel in bars[::20, 60::240].reshape(-1, 3).astype(int)}
        assert {(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)} <= colours, colours
    assert "[2] DUMMY2  1920×1080 at (3840, 0)" in out


def test_without_a_display_the_image_says_so():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    result = subprocess.run(
        [sys.executable, "-m", "daemon", "projector-test", "--seconds", "1"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 3 and "cannot open the X display (none: DISPLAY is not set)" in result.stderr
    assert "Traceback" not in result.stderr

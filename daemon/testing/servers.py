"""Real servers for tests: JACK with the dummy backend, Xvfb, Xorg with dummy monitors; they die with the test."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from daemon.processes import end_with_parent, stop_process

__all__ = ["jack_dummy_server", "set_monitor", "xorg_dummy_config", "xorg_dummy_server", "xvfb_server"]

DUMMY_MODE = '"1920x1080" 148.50 1920 2008 2052 2200 1080 1084 1089 1125 +hsync +vsync'


@contextmanager
def jack_dummy_server(
    channels: int = 8, sample_rate_hz: int = 48_000, period_frames: int = 1024, name: str | None = None
) -> Iterator[dict[str, str]]:
    """A real JACK server with the dummy backend (no sound card), under a unique name (or `name`:
    to bring a killed server back as the same one).

    jackd2 runs its process thread with real-time scheduling by default (SCHED_FIFO 10 here, as root).

    Yields the environment a child needs to reach it (JACK_DEFAULT_SERVER). The server dies
    with the test process (parent-death signal) and is stopped by its pid on exit.
    """
    if shutil.which("jackd") is None:
        raise RuntimeError("jackd is not installed: run scripts/setup.sh (it installs jackd2)")
    # Imported here: the module loads libjack, which the X servers below must not need.
    import jack

    name = name or f"tas-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "JACK_NO_AUDIO_RESERVATION": "1", "JACK_DEFAULT_SERVER": name}
    command = ["jackd", "-n", name, "-d", "dummy", "-r", str(sample_rate_hz), "-p", str(period_frames)]
    command += ["-C", "0", "-P", str(channels)]  # no capture ports, `channels` playback ports
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=end_with_parent(signal.SIGKILL)
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                jack.Client("probe", servername=name, no_start_server=True).close()
                break
            except jack.JackOpenError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise _not_started(server, "jackd") from None
                time.sleep(0.1)
        yield {"JACK_DEFAULT_SERVER": name, "JACK_NO_AUDIO_RESERVATION": "1"}
    finally:
        stop_process(server, grace_seconds=5)


@contextmanager
def xvfb_server(width: int = 1280, height: int = 720, display: str | None = None) -> Iterator[dict[str, str]]:
    """A virtual X server (Xvfb, one screen, GLX through Mesa) on a free display (or `display`, ":N").

    Yields the environment a child needs ({"DISPLAY": ":N"}); stopped by its pid on exit.
    """
    screen = ["-screen", "0", f"{width}x{height}x24"]
    command = ["Xvfb", *([display] if display else []), *screen, "-nolisten", "tcp", "+extension", "GLX"]
    with _x_server(command, "Xvfb is not installed: run scripts/setup.sh (it installs xvfb)", display) as env:
        yield env


def xorg_dummy_config(heads: int) -> str:
    """An xorg.conf for the dummy video driver with room for `heads` 1920×1080 monitors side by side."""
    return f"""Section "ServerFlags"
    Option "AutoAddDevices" "false"
    Option "AutoEnableDevices" "false"
    Option "DontVTSwitch" "true"
    Option "AllowMouseOpenFail" "true"
    Option "AIGLX" "false"
EndSection
Section "Device"
    Identifier "dummy"
    Driver "dummy"
    VideoRam {max(256_000, heads * 1920 * 1080 * 4 // 1024 * 2)}
EndSection
Section "Monitor"
    Identifier "mon"
    HorizSync 5.0-1000.0
    VertRefresh 5.0-200.0
    Modeline {DUMMY_MODE}
EndSection
Section "Screen"
    Identifier "screen"
    Device "dummy"
    Monitor "mon"
    DefaultDepth 24
    SubSection "Display"
        Depth 24
        Virtual {1920 * heads} 1080
        Modes "1920x1080"
    EndSubSection
EndSection
"""


@contextmanager
def xorg_dummy_server(heads: int = 3, folder: Path | None = None) -> Iterator[dict[str, str]]:
    """Xorg with the dummy driver and `heads` 1920×1080 monitors (DUMMY0…) side by side, as a gallery PC.

    Yields {"DISPLAY": ":N"}; `set_monitor(env, k, on)` turns monitor k off and on again.
    """
    missing = "Xorg is not installed: run scripts/setup.sh (xserver-xorg-core, xserver-xorg-video-dummy)"
    if shutil.which("Xorg") is None:
        raise RuntimeError(missing)
    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        config = Path(scratch) / "xorg.conf"
        config.write_text(xorg_dummy_config(heads))
        log = Path(scratch) / "xorg.log"
        command = ["Xorg", "-config", str(config), "-logfile", str(log), "-noreset", "-nolisten", "tcp"]
        with _x_server(command, missing) as env:
            for head in range(heads):
                set_monitor(env, head, True)
            yield env


def set_monitor(env: dict, head: int, on: bool) -> None:
    """Connect (give a mode and a place) or disconnect dummy monitor `head` with xrandr."""
    output = f"DUMMY{head}"
    full_env = {**os.environ, **env}
    if on:
        subprocess.run(
            ["xrandr", "--newmode", *DUMMY_MODE.replace('"', "").split()], env=full_env, capture_output=True
        )  # fails harmlessly when the mode exists already
        subprocess.run(["xrandr", "--addmode", output, "1920x1080"], env=full_env, capture_output=True)
        command = ["xrandr", "--output", output, "--mode", "1920x1080", "--pos", f"{1920 * head}x0"]
    else:
        command = ["xrandr", "--output", output, "--off"]
    result = subprocess.run(command, env=full_env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {result.stderr.strip()}")
    # A full query makes the server re-probe its outputs; GLFW reads the cached ("current") list,
    # which otherwise keeps showing the monitors as they were.
    subprocess.run(["xrandr", "--query"], env=full_env, capture_output=True)


@contextmanager
def _x_server(command: list[str], missing: str, display: str | None = None) -> Iterator[dict[str, str]]:
    """Start an X server with -displayfd (it picks a free display), die with the parent, stop by pid.

    With `display` given, the server is asked for that one; -displayfd still says when it is up.
    """
    if shutil.which(command[0]) is None:
        raise RuntimeError(missing)
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        [*command, "-displayfd", str(write_end)],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=end_with_parent(signal.SIGKILL),
    )
    os.close(write_end)
    try:
        number = b""
        with os.fdopen(read_end, "rb") as pipe:
            while not number.endswith(b"\n"):
                chunk = pipe.read(1)
                if not chunk:
                    raise _not_started(server, command[0])
                number += chunk
        yield {"DISPLAY": display or f":{int(number)}"}
    finally:
        stop_process(server, grace_seconds=10)


def _not_started(server: subprocess.Popen[bytes], what: str) -> RuntimeError:
    """The error for a server that did not come up, with what it said on stderr.

    Stopped first: reading a live server's stderr to the end would wait for as long as it runs.
    """
    stop_process(server, grace_seconds=5)
    said = server.stderr.read().decode(errors="replace") if server.stderr else ""
    return RuntimeError(f"{what} did not start: {said}")

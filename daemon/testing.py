"""Test helpers that ship with the product: real training steps in, frames out."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import torch

from daemon.config import LoadedConfig, parse
from daemon.gan.dataset import load_images
from daemon.gan.trainer import GanTrainer, RunSpec
from daemon.metrics import MetricFrame

__all__ = [
    "JackRecorder", "RunningDaemon", "close_window", "config_for", "jack_dummy_server", "render_audio", "set_monitor",
    "train_frames",
    "xorg_dummy_server", "xvfb_server",
]


def config_for(folder: Path, mnist: Path, classifier: Path, extra_toml: str = "") -> LoadedConfig:
    """The embedded defaults, with data paths pointed at test folders (plus any extra TOML)."""
    text = (
        f'[data]\nmnist_path = "{mnist}"\nrecordings_path = "{folder / "recordings"}"\n'
        f'classifier_path = "{classifier}"\n{extra_toml}'
    )
    path = folder / "installation.toml"
    path.write_text(text)
    return LoadedConfig(parse(text, str(path)), str(path), folder)


def train_frames(
    loaded: LoadedConfig, preset: str, steps: int, seed: int = 1, classifier=None
) -> tuple[list[MetricFrame], GanTrainer]:
    """Run `steps` real training steps of a preset on the CPU, flat out; return frames and trainer."""
    config = loaded.config
    data = load_images(loaded.mnist_path, train=True)
    spec = RunSpec(f"test-{preset}-s{seed}", preset, config.runs[preset], seed, steps)
    trainer = GanTrainer(spec, data, torch.device("cpu"), config.streams, classifier)
    return list(trainer.frames()), trainer


def render_audio(recording, loaded: LoadedConfig, channels: int = 8, seconds: float | None = None):
    """Render a recording offline (as `render-audio` does) and return the samples (frames, channels)."""
    import numpy as np

    from daemon.sound.render import render_blocks

    return np.concatenate([block.copy() for _, _, block in render_blocks(recording, loaded, channels, seconds=seconds)])


@contextmanager
def jack_dummy_server(channels: int = 8, sample_rate_hz: int = 48_000, period_frames: int = 1024,
                      name: str | None = None):
    """A real JACK server with the dummy backend (no sound card), under a unique name (or `name`:
    to bring a killed server back as the same one).

    jackd2 runs its process thread with real-time scheduling by default (SCHED_FIFO 10 here, as root).

    Yields the environment a child needs to reach it (JACK_DEFAULT_SERVER). The server dies
    with the test process (parent-death signal) and is stopped by its pid on exit.
    """
    import os
    import shutil
    import subprocess
    import time
    import uuid

    if shutil.which("jackd") is None:
        raise RuntimeError("jackd is not installed: run scripts/setup.sh (it installs jackd2)")
    name = name or f"tas-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "JACK_NO_AUDIO_RESERVATION": "1", "JACK_DEFAULT_SERVER": name}
    server = subprocess.Popen(
        ["jackd", "-n", name, "-d", "dummy", "-r", str(sample_rate_hz), "-p", str(period_frames),
         "-C", "0", "-P", str(channels)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=_die_with_parent,
    )
    try:
        import jack

        deadline = time.monotonic() + 10
        while True:
            try:
                jack.Client("probe", servername=name, no_start_server=True).close()
                break
            except jack.JackOpenError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"jackd did not start: {server.stderr.read().decode(errors='replace')}")
                time.sleep(0.1)
        yield {"JACK_DEFAULT_SERVER": name, "JACK_NO_AUDIO_RESERVATION": "1"}
    finally:
        _stop_server(server, grace_seconds=5)


def _die_with_parent() -> None:
    import ctypes
    import signal

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class JackRecorder:
    """A JACK client that records what another client's output ports play, one input per port."""

    def __init__(self, server: str, channels: int):
        import jack

        self.client = jack.Client("tas-recorder", servername=server, no_start_server=True)
        self.inputs = [self.client.inports.register(f"in_{k + 1}") for k in range(channels)]
        self.blocks: list[list] = [[] for _ in range(channels)]
        self.recording = False
        self.client.set_process_callback(self._process)
        self.client.activate()

    def _process(self, frames: int) -> None:
        if self.recording:
            for port, blocks in zip(self.inputs, self.blocks):
                blocks.append(port.get_array().copy())

    def connect_from(self, client_name: str, timeout_seconds: float = 20.0) -> None:
        """Wait for `client_name`'s output ports, then wire port k to input k."""
        import time

        deadline = time.monotonic() + timeout_seconds
        while True:
            ports = self.client.get_ports(f"{client_name}:", is_output=True, is_audio=True)
            if len(ports) >= len(self.inputs):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {len(self.inputs)} output ports from JACK client {client_name!r}")
            time.sleep(0.1)
        for port, inport in zip(ports, self.inputs):
            self.client.connect(port, inport)

    def record(self, seconds: float):
        """(frames, channels) float32 of the next `seconds`."""
        import time

        import numpy as np

        for blocks in self.blocks:
            blocks.clear()
        self.recording = True
        time.sleep(seconds)
        self.recording = False
        return np.stack([np.concatenate(blocks) for blocks in self.blocks], axis=1)

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()


@contextmanager
def xvfb_server(width: int = 1280, height: int = 720, display: str | None = None):
    """A virtual X server (Xvfb, one screen, GLX through Mesa) on a free display (or `display`, ":N").

    Yields the environment a child needs ({"DISPLAY": ":N"}); stopped by its pid on exit.
    """
    with _x_server(["Xvfb", *([display] if display else []), "-screen", "0", f"{width}x{height}x24", "-nolisten",
                    "tcp", "+extension", "GLX"], "Xvfb is not installed: run scripts/setup.sh (it installs xvfb)",
                   display) as env:
        yield env


DUMMY_MODE = '"1920x1080" 148.50 1920 2008 2052 2200 1080 1084 1089 1125 +hsync +vsync'


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
def xorg_dummy_server(heads: int = 3, folder: Path | None = None):
    """Xorg with the dummy driver and `heads` 1920×1080 monitors (DUMMY0…) side by side, as a gallery PC.

    Yields {"DISPLAY": ":N"}; `set_monitor(env, k, on)` turns monitor k off and on again.
    """
    import shutil
    import tempfile

    if shutil.which("Xorg") is None:
        raise RuntimeError("Xorg is not installed: run scripts/setup.sh (xserver-xorg-core, xserver-xorg-video-dummy)")
    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        config = Path(scratch) / "xorg.conf"
        config.write_text(xorg_dummy_config(heads))
        command = ["Xorg", "-config", str(config), "-logfile", str(Path(scratch) / "xorg.log"), "-noreset",
                   "-nolisten", "tcp"]
        with _x_server(command, "Xorg is not installed: run scripts/setup.sh") as env:
            for head in range(heads):
                set_monitor(env, head, True)
            yield env


def set_monitor(env: dict, head: int, on: bool) -> None:
    """Connect (give a mode and a place) or disconnect dummy monitor `head` with xrandr."""
    import os
    import subprocess

    output = f"DUMMY{head}"
    full_env = {**os.environ, **env}
    if on:
        subprocess.run(["xrandr", "--newmode", *DUMMY_MODE.replace('"', "").split()], env=full_env,
                       capture_output=True)  # fails harmlessly when the mode exists already
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
def _x_server(command: list[str], missing: str, display: str | None = None):
    """Start an X server with -displayfd (it picks a free display), die with the parent, stop by pid.

    With `display` given, the server is asked for that one; -displayfd still says when it is up.
    """
    import os
    import shutil
    import subprocess

    if shutil.which(command[0]) is None:
        raise RuntimeError(missing)
    read_end, write_end = os.pipe()
    server = subprocess.Popen([*command, "-displayfd", str(write_end)], pass_fds=(write_end,),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=_die_with_parent)
    os.close(write_end)
    try:
        number = b""
        with os.fdopen(read_end, "rb") as pipe:
            while not number.endswith(b"\n"):
                chunk = pipe.read(1)
                if not chunk:
                    raise RuntimeError(f"{command[0]} did not start: {server.stderr.read().decode(errors='replace')}")
                number += chunk
        yield {"DISPLAY": display or f":{int(number)}"}
    finally:
        _stop_server(server, grace_seconds=10)


def _stop_server(server, grace_seconds: float) -> None:
    """SIGTERM by pid, then SIGKILL if it has not gone within `grace_seconds`."""
    import signal
    import subprocess

    server.send_signal(signal.SIGTERM)
    try:
        server.wait(grace_seconds)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def close_window(env: dict, title_part: str) -> bool:
    """Ask the X window whose title holds `title_part` to close, as a window manager's close button does
    (a WM_DELETE_WINDOW client message); True when one was found. Plain Xlib through ctypes."""
    import ctypes
    import ctypes.util

    xlib = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    xlib.XDefaultRootWindow.restype = ctypes.c_ulong
    xlib.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    xlib.XInternAtom.restype = ctypes.c_ulong
    xlib.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    xlib.XQueryTree.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(ctypes.c_ulong),
                                ctypes.POINTER(ctypes.c_ulong), ctypes.POINTER(ctypes.POINTER(ctypes.c_ulong)),
                                ctypes.POINTER(ctypes.c_uint)]
    xlib.XGetWindowProperty.argtypes = [
        ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_long, ctypes.c_long, ctypes.c_int, ctypes.c_ulong,
        ctypes.POINTER(ctypes.c_ulong), ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_ulong),
        ctypes.POINTER(ctypes.c_ulong), ctypes.POINTER(ctypes.c_char_p)]
    xlib.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long, ctypes.c_void_p]
    xlib.XFlush.argtypes = xlib.XCloseDisplay.argtypes = xlib.XFree.argtypes = [ctypes.c_void_p]

    class ClientMessage(ctypes.Structure):
        _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong), ("send_event", ctypes.c_int),
                    ("display", ctypes.c_void_p), ("window", ctypes.c_ulong), ("message_type", ctypes.c_ulong),
                    ("format", ctypes.c_int), ("data", ctypes.c_long * 5), ("pad", ctypes.c_long * 12)]

    display = xlib.XOpenDisplay(env["DISPLAY"].encode())
    if not display:
        raise RuntimeError(f"cannot open X display {env['DISPLAY']}")
    try:
        def windows(parent: int):
            root, up, children, count = ctypes.c_ulong(), ctypes.c_ulong(), ctypes.POINTER(ctypes.c_ulong)(), \
                ctypes.c_uint()
            xlib.XQueryTree(display, parent, ctypes.byref(root), ctypes.byref(up), ctypes.byref(children),
                            ctypes.byref(count))
            found = [children[k] for k in range(count.value)]
            if children:
                xlib.XFree(children)
            for window in found:
                yield window
                yield from windows(window)

        def title(window: int) -> str:  # _NET_WM_NAME (UTF-8, as GLFW sets it)
            kind, size, count, left, data = ctypes.c_ulong(), ctypes.c_int(), ctypes.c_ulong(), ctypes.c_ulong(), \
                ctypes.c_char_p()
            xlib.XGetWindowProperty(display, window, xlib.XInternAtom(display, b"_NET_WM_NAME", 0), 0, 1024, 0, 0,
                                    ctypes.byref(kind), ctypes.byref(size), ctypes.byref(count), ctypes.byref(left),
                                    ctypes.byref(data))
            text = (data.value or b"").decode(errors="replace")
            if data:
                xlib.XFree(data)
            return text

        for window in windows(xlib.XDefaultRootWindow(display)):
            if title_part in title(window):
                event = ClientMessage(type=33, window=window, format=32,  # 33: ClientMessage
                                      message_type=xlib.XInternAtom(display, b"WM_PROTOCOLS", 0))
                event.data[0] = xlib.XInternAtom(display, b"WM_DELETE_WINDOW", 0)
                xlib.XSendEvent(display, window, 0, 0, ctypes.byref(event))
                xlib.XFlush(display)
                return True
        return False
    finally:
        xlib.XCloseDisplay(display)


class RunningDaemon:
    """`twos-and-sevens run [ARGS]` in a child process, its JSON log events collected as they come."""

    def __init__(self, config: str, env: dict, args: tuple[str, ...] = ()):
        import json
        import os
        import subprocess
        import sys
        import threading

        self.process = subprocess.Popen([sys.executable, "-m", "daemon", "run", "--config", config, *args],
                                        cwd=Path(__file__).resolve().parents[1], env={**os.environ, **env},
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.events: list[dict] = []
        self.stderr: list[str] = []

        def read() -> None:
            for line in self.process.stdout:
                if line.startswith("{"):
                    self.events.append(json.loads(line))

        threading.Thread(target=read, daemon=True).start()
        threading.Thread(target=lambda: self.stderr.extend(self.process.stderr), daemon=True).start()

    def wait_for(self, predicate, timeout: float, what: str) -> dict:
        """The first event that satisfies `predicate`; AssertionError (naming the recent events) after `timeout`."""
        import time

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
        """(status, body) of a GET on the daemon's HTTP endpoint (its port as logged by http_listening)."""
        import urllib.error
        import urllib.request

        port = self.wait_for(lambda e: e["event"] == "http_listening", 60, "http_listening")["port"]
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                         headers={"Authorization": f"Bearer {token}"} if token else {})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def stop(self) -> int:
        """SIGTERM, then its exit code (killed after 60 s). $TWOS_AND_SEVENS_TEST_EVENTS gets the events."""
        import json
        import os
        import signal

        Path(os.environ.get("TWOS_AND_SEVENS_TEST_EVENTS", "/dev/null")).write_text(json.dumps(self.events))
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(60)
        finally:
            if self.process.poll() is None:
                self.process.kill()

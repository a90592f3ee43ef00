"""What each child process does: train (and send frames), sound, or image; each sends heartbeats.

A child runs as `twos-and-sevens child ROLE --fd N`: N is its end of the link to the supervisor.
A child that cannot play because its device is missing (no audio device, no display) says so
and exits with EXIT_UNAVAILABLE; the supervisor tries again later without counting it a crash.
"""

from __future__ import annotations

import itertools
import queue
import signal
import threading
import time
from collections.abc import Callable

from daemon.config import LoadedConfig
from daemon.logs import get_logger
from daemon.supervision.link import Link

__all__ = ["EXIT_UNAVAILABLE", "HEARTBEAT_SECONDS", "ROLES", "child_main"]

EXIT_UNAVAILABLE = 75  # EX_TEMPFAIL: the device is missing, try again later
HEARTBEAT_SECONDS = 1.0


class Heartbeat(threading.Thread):
    """Sends ("heartbeat", status) every second while `progress()` keeps changing (its work is alive)."""

    def __init__(self, link: Link, progress: Callable[[], object], status: Callable[[], dict]):
        super().__init__(name="heartbeat", daemon=True)
        self.link, self.progress, self.status = link, progress, status
        self.stopped = threading.Event()

    def run(self) -> None:
        last = object()
        while not self.stopped.wait(HEARTBEAT_SECONDS):
            mark = self.progress()
            if mark != last:
                self.link.send("heartbeat", self.status())
            last = mark


class FrameDelay:
    """How late frames reach this child: wall clock on arrival minus the step's end (same machine, same clock).

    `report()` gives the mean and worst delay in milliseconds since the last report (each heartbeat).
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.total = self.worst = 0.0
        self.count = 0

    def arrived(self, frame) -> None:
        delay = time.time() - frame.time_unix_seconds
        with self.lock:
            self.total += delay
            self.worst = max(self.worst, delay)
            self.count += 1

    def report(self) -> dict:
        with self.lock:
            if not self.count:
                return {}
            report = {"frame_delay_ms": {"mean": round(1000 * self.total / self.count, 2),
                                         "max": round(1000 * self.worst, 2), "frames": self.count}}
            self.total = self.worst = 0.0
            self.count = 0
        return report


def _listen(link: Link, stop: threading.Event, handle: Callable[[str, tuple], None]) -> threading.Thread:
    """Read the supervisor's messages in a thread; `stop` is set when it says so or goes away."""

    def loop() -> None:
        while not stop.is_set():
            try:
                kind, *payload = link.recv()
            except (EOFError, OSError):
                stop.set()
                return
            handle(kind, tuple(payload))

    thread = threading.Thread(target=loop, name="link", daemon=True)
    thread.start()
    return thread


def _trainer(loaded: LoadedConfig, link: Link, stop: threading.Event, options: dict) -> int:
    """Plays the runs the supervisor asks for: ("play", preset, seconds), ("stop_run",), ("pause",), ("resume",)."""
    from daemon.runs import Instrument

    commands: queue.Queue = queue.Queue()
    ending = threading.Event()  # the current run is to end (stop_run, stop): a paced wait gives way

    def handle(kind: str, payload: tuple) -> None:
        if kind == "stop":
            stop.set()
        if kind in ("stop", "stop_run"):
            ending.set()
        commands.put((kind, payload))

    def wait(seconds: float) -> None:
        """A paced run's wait between steps (28 s for a day-long slot), cut short by a stop or SIGTERM."""
        deadline = time.monotonic() + seconds
        while not (stop.is_set() or ending.is_set()) and (left := deadline - time.monotonic()) > 0:
            stop.wait(min(left, 0.2))

    _listen(link, stop, handle)
    # Alive while the process runs (training may sit in one long step or the classifier's first
    # training); a stopped (SIGSTOP) or wedged process sends nothing.
    Heartbeat(link, progress=itertools.count().__next__, status=lambda: {}).start()
    link.send("ready", {})
    instrument = Instrument(loaded)
    link.send("idle")
    while not stop.is_set():
        try:
            kind, payload = commands.get(timeout=0.5)
        except queue.Empty:
            continue
        if kind == "play":
            ending.clear()
            _play_run(instrument, link, commands, stop, *payload, flat_out=options.get("flat_out", False), wait=wait)
            link.send("idle")
    return 0


def _play_run(instrument, link: Link, commands: queue.Queue, stop: threading.Event, preset: str, seconds: float,
              flat_out: bool, wait: Callable[[float], None]) -> None:
    """One run, its frames to the supervisor, until it completes or a command ends it."""
    run = instrument.start(preset, flat_out=flat_out, duration_seconds=seconds, wait=wait)
    frames = iter(run)
    link.send("run_started", {"run_id": run.spec.run_id, "preset": preset, "seconds": seconds})
    paused, status = False, "completed"
    try:
        for frame in frames:
            link.send("frame", frame)
            if stop.is_set():  # SIGTERM, or the supervisor gone
                frames.close()
                status = "stopped"
                return
            while paused or not commands.empty():
                try:
                    kind, _ = commands.get(timeout=0.5)
                except queue.Empty:
                    if stop.is_set():
                        frames.close()
                        status = "stopped"
                        return
                    continue
                if kind in ("stop_run", "stop"):
                    frames.close()  # recorded as stopped
                    status = "stopped"
                    return
                paused = kind == "pause" or (paused and kind != "resume")
    except Exception:
        status = "failed"
        get_logger("trainer").exception("run_failed", preset=preset)
    finally:
        link.send("run_ended", {"run_id": run.spec.run_id, "status": status})


def _sound(loaded: LoadedConfig, link: Link, stop: threading.Event, options: dict) -> int:
    from daemon.sound.live import LiveSound

    try:
        sound = LiveSound(loaded, preview=options.get("preview", False))
    except Exception as exc:  # DeviceMissing, PortAudioError, no JACK server: all mean "not now"
        link.send("unavailable", str(exc))
        return EXIT_UNAVAILABLE
    stopping = threading.Event()
    delay = FrameDelay()

    def handle(kind: str, payload: tuple) -> None:
        if kind == "frame":
            delay.arrived(payload[0])
            sound.on_frame(payload[0])
        elif kind in ("fade", "rejoin"):
            sound.fade_to(*payload)
        elif kind == "crossfade":
            sound.crossfade(payload[0])
        elif kind == "stop":
            sound.fade_to(0.0, payload[0])
            stopping.wait(payload[0])
            stop.set()

    beat = Heartbeat(link, progress=sound.output.progress,
                     status=lambda: {"underflows": sound.underflows, **delay.report()})
    beat.start()
    _listen(link, stop, handle)
    link.send("ready", {"route": loaded.config.audio.route, "channels": sound.channels})
    stop.wait()
    beat.stopped.set()
    sound.close()
    return 0


def _image(loaded: LoadedConfig, link: Link, stop: threading.Event, options: dict) -> int:
    from daemon.visuals.director import VisualDirector
    from daemon.visuals.errors import NoDisplay, NoGraphics
    from daemon.visuals.projectors import Crossfade, Fade, ProjectorWall

    video = loaded.config.video
    director = VisualDirector(loaded.config.mapping, video)
    try:
        wall = ProjectorWall(loaded, director, windowed=options.get("preview", False))
    except (NoDisplay, NoGraphics) as exc:
        link.send("unavailable", str(exc))
        return EXIT_UNAVAILABLE
    frames: queue.Queue = queue.Queue()
    loops = [0]
    delay = FrameDelay()  # to the image child's door; the render loop takes it up within a frame period

    def handle(kind: str, payload: tuple) -> None:
        if kind == "frame":
            delay.arrived(payload[0])
            frames.put(payload[0])
        elif kind == "fade":
            frames.put(Fade(payload[0], video.fade_seconds))
        elif kind == "rejoin":  # (re)started mid-programme: come up (or stay dark) quickly
            frames.put(Fade(*payload))
        elif kind == "crossfade":
            frames.put(Crossfade(payload[0]))
        elif kind == "stop":
            frames.put(Fade(0.0, payload[0]))
            threading.Timer(payload[0], stop.set).start()

    def presented() -> dict:
        return {"projectors": {o.index: o.presented for o in wall.outputs if o.window is not None},
                "brightness": round(director.brightness, 3), **delay.report()}

    beat = Heartbeat(link, progress=lambda: loops[0], status=presented)
    beat.start()
    _listen(link, stop, handle)
    link.send("ready", {"projectors": len(wall.outputs)})

    def on_loop() -> None:
        loops[0] += 1

    try:
        wall.run(frames, stop, on_loop=on_loop)
        if wall.closed_by_hand:
            link.send("quit", "preview window closed")
    finally:
        beat.stopped.set()
        wall.close()
    return 0


ROLES = {"trainer": _trainer, "sound": _sound, "image": _image}


def child_main(role: str, loaded: LoadedConfig, fd: int, options: dict) -> int:
    """The body of `twos-and-sevens child ROLE`: SIGTERM ends it cleanly; returns its exit code."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    link = Link(fd)
    get_logger("supervisor").debug("child_running", role=role)
    try:
        return ROLES[role](loaded, link, stop, options)
    finally:
        link.close()

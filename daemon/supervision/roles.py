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


class _LinkSink:
    """What the cycle calls its sound: frames and fades go to the supervisor instead."""

    def __init__(self, link: Link):
        self.link = link

    def on_frame(self, frame) -> None:
        self.link.send("frame", frame)

    def fade_to(self, level: float, seconds: float) -> None:
        self.link.send("fade", level, seconds)


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
    from daemon.cycle import play_cycle

    _listen(link, stop, lambda kind, payload: stop.set() if kind == "stop" else None)
    # Alive while the process runs (training may sit in one long step or the classifier's first
    # training); a stopped (SIGSTOP) or wedged process sends nothing.
    Heartbeat(link, progress=itertools.count().__next__, status=lambda: {}).start()
    link.send("ready", {})
    play_cycle(loaded, stop, runs=options.get("runs"), flat_out=options.get("flat_out", False),
               sound=_LinkSink(link))
    return 0


def _sound(loaded: LoadedConfig, link: Link, stop: threading.Event, options: dict) -> int:
    from daemon.sound.live import LiveSound

    try:
        sound = LiveSound(loaded)
    except Exception as exc:  # DeviceMissing, PortAudioError, no JACK server: all mean "not now"
        link.send("unavailable", str(exc))
        return EXIT_UNAVAILABLE
    stopping = threading.Event()

    def handle(kind: str, payload: tuple) -> None:
        if kind == "frame":
            sound.on_frame(payload[0])
        elif kind == "fade":
            sound.fade_to(*payload)
        elif kind == "stop":
            sound.fade_to(0.0, payload[0])
            stopping.wait(payload[0])
            stop.set()

    beat = Heartbeat(link, progress=sound.output.progress, status=lambda: {"underflows": sound.underflows})
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
    from daemon.visuals.projectors import Fade, ProjectorWall

    video = loaded.config.video
    director = VisualDirector(loaded.config.mapping, video)
    try:
        wall = ProjectorWall(loaded, director)
    except (NoDisplay, NoGraphics) as exc:
        link.send("unavailable", str(exc))
        return EXIT_UNAVAILABLE
    frames: queue.Queue = queue.Queue()
    loops = [0]

    def handle(kind: str, payload: tuple) -> None:
        if kind == "frame":
            frames.put(payload[0])
        elif kind == "fade":
            frames.put(Fade(payload[0], video.fade_seconds))
        elif kind == "stop":
            frames.put(Fade(0.0, payload[0]))
            threading.Timer(payload[0], stop.set).start()

    def presented() -> dict:
        return {"projectors": {o.index: o.presented for o in wall.outputs if o.window is not None}}

    beat = Heartbeat(link, progress=lambda: loops[0], status=presented)
    beat.start()
    _listen(link, stop, handle)
    link.send("ready", {"projectors": len(wall.outputs)})

    def on_loop() -> None:
        loops[0] += 1

    try:
        wall.run(frames, stop, on_loop=on_loop)
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

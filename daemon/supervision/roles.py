"""What each child process does: train (and send frames), sound, or image; each sends heartbeats.

A child runs as `twos-and-sevens child ROLE --fd N`: N is its end of the link to the supervisor;
once started it calls itself `twos-and-sevens: ROLE` (what `ps -ef` shows).
A child that cannot play because its device is missing (no audio device, no display) says so
and exits with EXIT_UNAVAILABLE; the supervisor tries again later without counting it a crash.
"""

from __future__ import annotations

import os
import queue
import signal
import threading
import time
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING

from daemon.config import LoadedConfig
from daemon.logs import RECENT_PROBLEMS, get_logger
from daemon.messages import (
    BadMessage,
    Crossfade,
    Fade,
    Heartbeat,
    Idle,
    Message,
    Pause,
    PictureFrame,
    Play,
    Quit,
    Ready,
    Rejoin,
    Resume,
    RunEnded,
    RunStarted,
    RunStatus,
    Stop,
    StopRun,
    StreamFrame,
    Trim,
    Unavailable,
    json_data,
)
from daemon.supervision.link import Link

if TYPE_CHECKING:
    from daemon.metrics import MetricFrame
    from daemon.runs import Instrument, LiveRun

__all__ = ["EXIT_UNAVAILABLE", "HEARTBEAT_SECONDS", "PROCESS_TITLE_PREFIX", "ROLES", "child_main"]

# Tests only: the trainer wedges for good after this many steps of a run (a stand-in for a deadlock).
WEDGE_ENV = "TWOS_AND_SEVENS_TEST_WEDGE_AFTER_STEPS"
LOADING_GRACE_SECONDS = 60.0
EXIT_UNAVAILABLE = 75  # EX_TEMPFAIL: the device is missing, try again later
HEARTBEAT_SECONDS = 1.0
CHILD_PROBLEMS_SENT = 5  # the newest warnings and errors a heartbeat carries (each a few hundred bytes at most)
PROCESS_TITLE_PREFIX = "twos-and-sevens: "  # then the role, as docs/technician.md's ps check greps it


class HeartbeatSender(threading.Thread):
    """Sends a Heartbeat every second while `progress()` keeps changing (its work is alive).

    Each carries, besides `status()`, the child's latest warnings and errors (`problems`), so the
    status page's log shows what the children logged too, not only the supervisor.
    """

    def __init__(self, link: Link, progress: Callable[[], object], status: Callable[[], dict]):
        super().__init__(name="heartbeat", daemon=True)
        self.link, self.progress, self.status = link, progress, status
        self.stopped = threading.Event()

    def run(self) -> None:
        last = object()
        while not self.stopped.wait(HEARTBEAT_SECONDS):
            mark = self.progress()
            if mark != last:
                recent = list(RECENT_PROBLEMS)[-CHILD_PROBLEMS_SENT:]
                self.link.send(Heartbeat(json_data({**self.status(), "problems": recent})))
            last = mark


class FrameDelay:
    """How late frames reach this child: wall clock on arrival minus the step's end (same machine, same clock).

    `report()` gives the mean and worst delay in milliseconds since the last report (each heartbeat).
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.total = self.worst = 0.0
        self.count = 0

    def arrived(self, frame: StreamFrame) -> None:
        delay = time.time() - frame.time_unix_seconds
        with self.lock:
            self.total += delay
            self.worst = max(self.worst, delay)
            self.count += 1

    def report(self) -> dict:
        with self.lock:
            if not self.count:
                return {}
            report = {
                "frame_delay_ms": {
                    "mean": round(1000 * self.total / self.count, 2),
                    "max": round(1000 * self.worst, 2),
                    "frames": self.count,
                }
            }
            self.total = self.worst = 0.0
            self.count = 0
        return report


def _listen(link: Link, stop: threading.Event, handle: Callable[[Message], None]) -> threading.Thread:
    """Read the supervisor's messages in a thread; `stop` is set when it says so or goes away."""
    log = get_logger("supervisor")

    def loop() -> None:
        while not stop.is_set():
            try:
                message = link.recv()
            except BadMessage as exc:
                log.error("message_unreadable", error=str(exc))
                continue
            except (EOFError, OSError):
                stop.set()
                return
            handle(message)

    thread = threading.Thread(target=loop, name="link", daemon=True)
    thread.start()
    return thread


def _trainer(loaded: LoadedConfig, link: Link, stop: threading.Event, options: dict) -> int:
    """Plays the runs the supervisor asks for (Play), until StopRun; Pause and Resume hold it between steps."""
    from daemon.runs import Instrument

    commands: queue.Queue[Message] = queue.Queue()
    ending = threading.Event()  # the current run is to end (StopRun, Stop): a paced wait gives way

    def handle(message: Message) -> None:
        if isinstance(message, Stop):
            stop.set()
        if isinstance(message, Stop | StopRun):
            ending.set()
        commands.put(message)

    def wait(seconds: float) -> None:
        """A paced run's wait between steps (28 s for a day-long slot), cut short by a stop or SIGTERM."""
        deadline = time.monotonic() + seconds
        while not (stop.is_set() or ending.is_set()) and (left := deadline - time.monotonic()) > 0:
            stop.wait(min(left, 0.2))
            liveness.advanced()

    def classifier_progress(done: int, total: int) -> None:
        if stop.is_set():  # SIGTERM (the supervisor gone, or stopping) while the classifier trains: go now
            raise _Stopping
        liveness.advanced()

    _listen(link, stop, handle)
    liveness = Liveness()
    playing: list[LiveRun] = []  # the run now playing, whose plan each heartbeat carries

    def pace() -> dict:
        runs = list(playing)  # one read: the run may end meanwhile
        return {"pace": runs[0].pace()} if runs else {}

    HeartbeatSender(link, progress=liveness.mark, status=pace).start()
    link.send(Ready())
    liveness.loading()  # MNIST into memory and the classifier: single calls that take seconds
    try:
        instrument = Instrument(loaded, progress=classifier_progress)
    except _Stopping:
        return 0
    liveness.loaded()
    link.send(Idle())
    while not stop.is_set():
        liveness.advanced()  # waiting for the programme is work that advances
        try:
            message = commands.get(timeout=0.5)
        except queue.Empty:
            continue
        if isinstance(message, Play):
            ending.clear()
            flat_out = options.get("flat_out", False)
            _play_run(instrument, link, commands, stop, message, flat_out, wait, liveness, playing)
            link.send(Idle())
    return 0


class _Stopping(Exception):
    """Raised inside a long piece of work (the classifier's training) to end the trainer at once."""


class Liveness:
    """What the trainer's heartbeat follows: a count that moves only when its work does.

    A step made, a tick of a paced wait, a batch of the classifier's training, a pass of the idle
    loop: each advances it. A training step wedged in torch or a deadlock leaves it still, the
    heartbeats stop, and the supervisor finds the trainer hung and replaces it.

    Work done in single long calls (MNIST into memory, a run's models and its first step with
    torch's warm-up) counts as advancing from `loading()` to `loaded()`, for at most
    LOADING_GRACE_SECONDS: long enough for a slow machine, short enough that a wedge there is
    still found.
    """

    def __init__(self) -> None:
        self.count = 0
        self.loading_until = 0.0

    def advanced(self) -> None:
        self.count += 1

    def loading(self) -> None:
        self.loading_until = time.monotonic() + LOADING_GRACE_SECONDS

    def loaded(self) -> None:
        self.loading_until = 0.0

    def mark(self) -> int:
        if time.monotonic() < self.loading_until:
            self.count += 1
        return self.count


def _play_run(
    instrument: Instrument,
    link: Link,
    commands: queue.Queue[Message],
    stop: threading.Event,
    play: Play,
    flat_out: bool,
    wait: Callable[[float], None],
    liveness: Liveness,
    playing: list[LiveRun],
) -> None:
    """One run, its frames to the supervisor (streams, and pictures when a step made them), until it ends."""
    asked_at = time.monotonic()
    liveness.loading()  # the run's models and its first step, until that step's frame
    run = instrument.start(play.preset, flat_out=flat_out, duration_seconds=play.seconds, wait=wait, asked_at=asked_at)
    playing[:] = [run]
    frames = iter(run)
    link.send(RunStarted(run.spec.run_id, play.preset, play.seconds))
    paused = False
    status: RunStatus = "completed"
    wedge_after_steps = int(os.environ.get(WEDGE_ENV) or 0)
    parent = os.getppid()
    try:
        for frame in frames:
            liveness.advanced()
            liveness.loaded()
            for part in frame.split():
                if part is not None:
                    link.send(part)
            if frame.step == wedge_after_steps:
                threading.Event().wait()  # the test hook: wedged for good, as a deadlocked step would be
            if stop.is_set():  # SIGTERM, or the supervisor gone
                _close_run(run, frames, parent)
                status = "stopped"
                return
            while paused or not commands.empty():
                liveness.advanced()  # a pause holds the training, not the process
                try:
                    message = commands.get(timeout=0.5)
                except queue.Empty:
                    if stop.is_set():
                        _close_run(run, frames, parent)
                        status = "stopped"
                        return
                    continue
                if isinstance(message, StopRun | Stop):
                    frames.close()  # recorded as stopped
                    status = "stopped"
                    return
                paused = isinstance(message, Pause) or (paused and not isinstance(message, Resume))
    except Exception:
        status = "failed"
        get_logger("trainer").exception("run_failed", preset=play.preset)
    finally:
        playing.clear()
        link.send(RunEnded(run.spec.run_id, status))


def _close_run(run: LiveRun, frames: Generator[MetricFrame, None, None], parent: int) -> None:
    """End the run early: `stopped` when asked, `interrupted` when the supervisor died (this child reparented)."""
    if os.getppid() != parent:
        run.interrupt()
    frames.close()


def _sense_messages(link: Link, stop: threading.Event, inbox: Callable[[Message], None], delay: FrameDelay) -> None:
    """A sense child's dispatcher: sense messages to `inbox`; Stop fades out, then ends the process."""
    log = get_logger("supervisor")

    def handle(message: Message) -> None:
        match message:
            case StreamFrame():
                delay.arrived(message)
                inbox(message)
            case PictureFrame() | Fade() | Rejoin() | Crossfade() | Trim():
                inbox(message)
            case Stop(fade_seconds=seconds):
                inbox(message)
                timer = threading.Timer(seconds, stop.set)
                timer.daemon = True
                timer.start()
            case _:
                log.warning("message_ignored", message=type(message).__name__, why="not a message for a sense")

    _listen(link, stop, handle)


def _sound(loaded: LoadedConfig, link: Link, stop: threading.Event, options: dict) -> int:
    from daemon.sound.live import LiveSound

    try:
        sound = LiveSound(loaded, preview=options.get("preview", False))
    except Exception as exc:  # DeviceMissing, PortAudioError, no JACK server: all mean "not now"
        link.send(Unavailable(str(exc)))
        return EXIT_UNAVAILABLE
    delay = FrameDelay()
    beat = HeartbeatSender(
        link,
        progress=sound.output.progress,
        status=lambda: {"underflows": sound.underflows, **sound.meters.report(), **delay.report()},
    )
    beat.start()
    _sense_messages(link, stop, sound.deliver, delay)
    link.send(Ready(json_data({"route": sound.route, "channels": sound.channels})))
    stop.wait()
    beat.stopped.set()
    sound.close()
    return 0


def _image(loaded: LoadedConfig, link: Link, stop: threading.Event, options: dict) -> int:
    from daemon.visuals.director import VisualDirector
    from daemon.visuals.errors import NoDisplay, NoGraphics
    from daemon.visuals.projectors import ProjectorWall

    director = VisualDirector(loaded.config.mapping, loaded.config.video)
    try:
        wall = ProjectorWall(loaded, director, windowed=options.get("preview", False))
    except (NoDisplay, NoGraphics) as exc:
        link.send(Unavailable(str(exc)))
        return EXIT_UNAVAILABLE
    inbox: queue.Queue[Message] = queue.Queue()  # the render loop takes them up within a frame period
    loops = [0]
    delay = FrameDelay()  # to the image child's door

    def presented() -> dict:
        return {
            "projectors": {o.index: o.presented for o in wall.outputs if o.window is not None},
            "pictures": {  # what each window shows, looked at every 2 s (daemon.visuals.looks)
                o.index: {
                    "fps": round(o.fps, 1),
                    "change": o.look.change,
                    "mean": o.look.mean,
                    "thumbnail_jpeg": o.look.jpeg_base64,
                }
                for o in wall.outputs
                if o.window is not None and o.look is not None
            },
            "brightness": round(director.brightness, 3),
            **delay.report(),
        }

    beat = HeartbeatSender(link, progress=lambda: loops[0], status=presented)
    beat.start()
    _sense_messages(link, stop, inbox.put, delay)
    link.send(Ready(json_data({"projectors": len(wall.outputs)})))

    def on_loop() -> None:
        loops[0] += 1

    try:
        wall.play(inbox, stop, on_loop=on_loop)
    finally:
        beat.stopped.set()
    if wall.closed_by_hand:
        link.send(Quit("preview window closed"))
    return 0


ROLES = {"trainer": _trainer, "sound": _sound, "image": _image}


def child_main(role: str, loaded: LoadedConfig, fd: int, options: dict) -> int:
    """The body of `twos-and-sevens child ROLE`: SIGTERM ends it cleanly; returns its exit code."""
    from setproctitle import setproctitle

    # `python -m daemon child trainer --fd 7 …` tells a technician little: in ps, top and pgrep it is this.
    setproctitle(f"{PROCESS_TITLE_PREFIX}{role}")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    link = Link(fd)
    get_logger("supervisor").debug("child_running", role=role)
    try:
        return ROLES[role](loaded, link, stop, options)
    finally:
        link.close()

"""The supervisor: trainer, sound and image as child processes, frames carried between them, systemd told."""

from __future__ import annotations

import collections
import contextlib
import math
import threading
import time
from datetime import UTC, datetime
from multiprocessing.connection import wait
from pathlib import Path

from daemon.config import LoadedConfig
from daemon.equipment.power import PowerKeeper
from daemon.equipment.targets import pjlink_targets
from daemon.logs import RECENT_PROBLEMS, get_logger, rotate_log_file_if_due
from daemon.messages import (
    BadMessage,
    ControlReply,
    ControlRequest,
    Crossfade,
    Fade,
    Heartbeat,
    Idle,
    Message,
    OverrideRequest,
    PauseRequest,
    PictureFrame,
    ProjectorsRequest,
    Quit,
    Ready,
    Rejoin,
    ReloadRequest,
    RestartChildRequest,
    ResumeRequest,
    RunEnded,
    RunStarted,
    SkipRequest,
    StatusRequest,
    Stop,
    StreamFrame,
    Trim,
    Unavailable,
    VolumeRequest,
    decode,
    encode,
    kind_of,
)
from daemon.schedule.programme import Programme
from daemon.supervision.children import Child, ChildState, child_command
from daemon.supervision.control import ControlServer
from daemon.supervision.history import RunHistory
from daemon.supervision.monitor import Monitor
from daemon.supervision.notify import notify, watchdog_interval_seconds
from daemon.supervision.watch import DeadOutputs

__all__ = ["Supervisor", "merged_problems"]

LOOP_SECONDS = 0.1
SENSES = ("sound", "image")
REJOIN_FADE_SECONDS = 2.0
# A (re)started sense is judged once its rejoin fade is over and two looks (2 s apart) have followed it.
JUDGED_AFTER_READY_SECONDS = REJOIN_FADE_SECONDS + 5.0
WATCH_RESTART_GRACE_SECONDS = 2.0  # a sense with a dead output is killed soon: the loop waits for it
# The streams /status keeps a few minutes of, once a second (the status page draws them as sparklines).
HISTORY_STREAMS = ("classifier_confidence", "pixel_entropy", "sharpness", "similarity", "loss_generator")
HISTORY_SECONDS = 300
# Which children read which sections: after a reload, a child restarts only when one of its own changed.
SECTIONS_OF = {
    "trainer": ("data", "compute", "streams", "logging", "runs"),
    "sound": ("audio", "space", "digits", "mapping", "logging"),
    "image": ("video", "mapping", "logging"),
}


class Supervisor:
    """Runs until `stop` is set (SIGTERM) or the trainer finishes `--runs`; returns the exit code.

    Frames from the trainer reach sound and image as soon as they arrive (one hop through this
    process, never blocking it). A child that dies is restarted with backoff, one that stops
    sending heartbeats is killed and restarted, the others untouched. systemd hears READY=1 once
    sound and image have each started or said why they cannot, WATCHDOG=1 only from this loop,
    STATUS= with the current run, STOPPING=1 on the way out.
    """

    def __init__(
        self,
        loaded: LoadedConfig,
        roles=("trainer", "sound", "image"),
        runs: int | None = None,
        flat_out: bool = False,
        preview: bool = False,
    ):
        self.loaded = loaded
        self.policy = loaded.config.supervision
        self.log = get_logger("supervisor")
        options = {
            "trainer": ["--flat-out"] if flat_out else [],
            "sound": ["--preview"] if preview else [],
            "image": ["--preview"] if preview else [],
        }
        self.children = {
            role: Child(role, child_command(role, loaded.source, options[role]), self.policy, config_text=loaded.text)
            for role in roles
        }
        self.children["trainer"].on_death = self._trainer_lost
        self.programme = Programme(
            loaded,
            self.children["trainer"].send,
            self._to_senses,
            loaded.state_path,
            runs,
            ignore_hours=preview,
        )
        self.outlook = self.programme.outlook(datetime.now(UTC))  # open or closed, what next: for /status
        watch = loaded.config.watch
        self.silence, self.frozen = DeadOutputs(watch.silence_seconds), DeadOutputs(watch.frozen_seconds)
        self.restarted_for = {"sound": False, "image": False}  # the watch's one restart per episode
        self.ready_at: dict[str, float] = {}  # when each child last said Ready
        self.programme_failed_at = -math.inf
        self.stream_history: collections.deque[dict] = collections.deque(maxlen=HISTORY_SECONDS)
        self.preview = preview
        self.osc = self._start_osc(loaded.config.osc)
        self.quit_asked = threading.Event()  # a preview window closed by hand
        self.history = RunHistory(loaded.history_path, loaded.recordings_path)
        self.current_run: dict = {}
        self.reload_asked = threading.Event()  # set by SIGHUP
        self.streams: dict[str, float] = {}
        self.frames = 0
        self.started = time.monotonic()
        self.announced_ready = self.stopping = False
        self.monitor: Monitor | None = None  # all three started by run(), restarted by a reload that changes them
        self.control: ControlServer | None = None
        self.power: PowerKeeper | None = None

    def run(self, stop: threading.Event) -> int:
        now = time.monotonic()
        self.log.info(
            "supervisor_started", children=list(self.children), config=self.loaded.source, preview=self.preview
        )
        self.monitor = self._start_monitor()
        self.control = self._start_control()
        self.power = self._start_power()
        for child in self.children.values():
            child.start(now)
        watchdog = watchdog_interval_seconds()
        last_ping = last_rotation_check = 0.0
        while not stop.is_set():
            self._receive(LOOP_SECONDS)
            now = time.monotonic()
            for child in self.children.values():
                child.check(now)
            self._announce_ready()
            if watchdog is not None and now - last_ping >= watchdog:
                notify("WATCHDOG=1")
                last_ping = now
            if now - last_rotation_check >= 1.0:
                rotate_log_file_if_due()
                self.outlook = self.programme.outlook(datetime.now(UTC))  # /status reads it from its thread
                self.stream_history.append({name: self.streams.get(name) for name in HISTORY_STREAMS})
                last_rotation_check = now
            self._serve_requests()
            if self.reload_asked.is_set():
                self.reload_asked.clear()
                with contextlib.suppress(ValueError):  # refused and logged: the running config stays
                    self.reload("SIGHUP")
            try:
                self.programme.tick(datetime.now(UTC))
            except Exception:  # one bad pass must not take the installation down: logged, tried again next pass
                self._log_programme_failure()
            if self.programme.finished or self.quit_asked.is_set():
                break
        self._shut_down()
        if self.monitor is not None:
            self.monitor.close()
        if self.control is not None:
            self.control.close()
        if self.power is not None:
            self.power.close()
        return 0

    def _log_programme_failure(self) -> None:
        now = time.monotonic()
        if now - self.programme_failed_at >= 60.0:  # at most a line a minute, not ten a second
            self.log.exception("programme_failed", fix="send the log to the developers; the daemon carries on")
            self.programme_failed_at = now

    @staticmethod
    def _start_osc(settings):
        from daemon.osc import OscOutput

        return OscOutput(settings) if settings.enabled else None

    def _start_control(self) -> ControlServer | None:
        try:
            return ControlServer(self.loaded.control_path, self.loaded.config.control.group)
        except (OSError, KeyError) as exc:  # a path too long or unwritable, an unknown group
            self.log.error(
                "control_unavailable",
                path=str(self.loaded.control_path),
                error=str(exc),
                fix="set [control] socket_path to a short writable path and group to an existing group",
            )
            return None

    def _serve_requests(self) -> None:
        while self.control is not None and not self.control.requests.empty():
            who, request, reply = self.control.requests.get_nowait()
            try:
                reply(ControlReply(True, self._command(who, request)))
            except ValueError as exc:
                reply(ControlReply(False, error=str(exc)))
            except Exception as exc:  # a request must never take the installation down with it
                self.log.exception("control_request_failed", by=who, request=repr(request))
                reply(ControlReply(False, error=f"the daemon could not do that ({type(exc).__name__}); see its log"))

    def _command(self, who: str, request: ControlRequest) -> dict:
        """Act on a validated request (daemon.messages parsed it); ValueError says why it cannot be done."""
        from daemon.config.errors import did_you_mean

        now = datetime.now(UTC)
        match request:
            case StatusRequest():
                return self.status()
            case OverrideRequest(preset=preset, minutes=minutes):
                if preset not in self.loaded.config.runs:
                    known = list(self.loaded.config.runs)
                    raise ValueError(
                        f"no preset named {preset!r}.{did_you_mean(preset, known)} Presets: {', '.join(known)}"
                    )
                return self.programme.override_with(preset, minutes, who, now)
            case SkipRequest():
                return self.programme.skip(who, now)
            case PauseRequest() | ResumeRequest():
                reply = self.programme.set_paused(isinstance(request, PauseRequest), who)
                self._tell_osc("/paused", int(reply["paused"]))
                return reply
            case ReloadRequest():
                return self.reload(who)
            case RestartChildRequest(role=role):
                return self.restart_child(role, who)
            case ProjectorsRequest(power=power):
                if self.power is None:
                    raise ValueError(
                        'no projector has a PJLink address: set pjlink = "host" in its [[video.projector]] table'
                    )
                done = self.power.command(power == "on", who) if power is not None else {}
                return {"projectors": self.power.status(), **({"asked": done} if done else {})}
            case VolumeRequest(db=db, speaker=speaker):
                if db is not None:
                    self.programme.set_trim(db, speaker, who)
                    self._send_trim()
                return {"volume": self._volume()}
        raise ValueError(f"no such request: {request!r}")

    def _start_power(self) -> PowerKeeper | None:
        """The projectors' power keeper, when any projector has a PJLink address; it runs on its own thread."""
        targets = pjlink_targets(self.loaded)
        if not targets:
            return None
        power = self.loaded.config.power
        keeper = PowerKeeper(
            targets,
            self._projectors_wanted_on,
            interval_seconds=power.check_seconds,
            timeout_seconds=power.timeout_seconds,
        )
        keeper.start()
        self.log.info("projector_power_kept", projectors=[t.name for t in targets], lead_seconds=power.lead_seconds)
        return keeper

    def _projectors_wanted_on(self, now: datetime) -> bool:
        """On within the hours and lead_seconds before an opening (always, when the hours are ignored)."""
        programme = self.programme
        return not programme.follows_hours or programme.plan.powered(now, self.loaded.config.power.lead_seconds)

    def _send_trim(self) -> None:
        sound = self.children.get("sound")
        if sound is not None and sound.state == ChildState.PLAYING:
            sound.send(Trim(self.programme.trims.gains(self.loaded.config.audio.channels)))

    def _volume(self) -> dict:
        """The technician's trims and the range they may take, for `volume --show`, /status and /metrics."""
        audio = self.loaded.config.audio
        return self.programme.trims.to_json() | {"range_db": [audio.trim_min_db, audio.trim_max_db]}

    def _start_monitor(self) -> Monitor | None:
        settings = self.loaded.config.http
        if not settings.enabled:
            return None
        try:
            return Monitor(settings, self.status, recordings_path=self.loaded.recordings_path)
        except OSError as exc:  # the port is taken: the installation plays on without its endpoint
            self.log.error(
                "http_unavailable",
                address=settings.address,
                port=settings.port,
                error=str(exc),
                fix="choose a free [http] port, or stop whatever holds it",
            )
            return None

    def _watch_output(self, child: Child, status: dict) -> None:
        """Silent speakers and frozen projectors while a run plays: logged, on /health, the sense restarted once.

        A sense that has just (re)started is rising from its rejoin fade: its output is not judged yet.
        """
        watch, role, watcher = self.loaded.config.watch, child.role, self.silence_or_frozen(child.role)
        now = time.monotonic()
        expected = self.programme.expecting_output(datetime.now(UTC))
        seen: list[str] = []
        dead: list[str] = []
        if child.state != ChildState.PLAYING or now - self.ready_at.get(role, now) < JUDGED_AFTER_READY_SECONDS:
            pass  # nothing judged: what was found stays found
        elif role == "sound":
            levels = status.get("levels_dbfs")
            levels = levels if isinstance(levels, list) else []
            speakers = {str(k + 1): level for k, level in enumerate(levels) if _number(level)}
            seen = list(speakers)
            dead = [name for name, level in speakers.items() if level < watch.silence_floor_dbfs]
        else:
            pictures = status.get("pictures")
            pictures = pictures if isinstance(pictures, dict) else {}
            judged = {  # a first look after a start has no change to tell yet
                name: picture
                for name, picture in pictures.items()
                if isinstance(picture, dict) and _number(picture.get("change")) and _number(picture.get("mean"))
            }
            seen = list(judged)
            dead = [
                name
                for name, picture in judged.items()
                if picture["change"] < watch.frozen_change or picture["mean"] < watch.black_level
            ]
        event, revived_event, what = (
            ("output_silent", "output_sounding", "speakers")
            if role == "sound"
            else ("image_frozen", "image_moving", "projectors")
        )
        verdict = watcher.look(dead, seen, expected, now)
        if verdict.dead:
            restart = watch.action == "restart" and not self.restarted_for[role]
            self.log.error(
                event,
                **{what: sorted(watcher.reported)},
                seconds=round(max(watcher.how_long(name, now) for name in verdict.dead), 1),
                action=f"restarting the {role} child" if restart else "reported (/health 503)",
                fix="check the cables, the amplifier or projector, and the mapping"
                if role == "sound"
                else "check the projector and its cable; a scene that draws a constant picture freezes",
            )
            if restart:
                self.restarted_for[role] = True
                self.children[role].restart_now(deliberate=False, grace_seconds=WATCH_RESTART_GRACE_SECONDS)
        if verdict.revived:
            self.log.info(revived_event, **{what: verdict.revived})
        if expected and seen and not dead:  # every output seen alive while it should play: the episode is over
            self.restarted_for[role] = False

    def silence_or_frozen(self, role: str) -> DeadOutputs:
        return self.silence if role == "sound" else self.frozen

    def status(self) -> dict:
        """What /status shows (and /health, /metrics read): called from the HTTP thread."""
        children = {
            role: {
                "state": c.state,
                "pid": c.pid,
                "restarts": c.restarts,
                "reloads": c.reloads,
                "reason": c.reason,
                "heartbeat": c.status,
            }
            for role, c in self.children.items()
        }
        problems = [
            f"{role}: {c['state']}" + (f" ({c['reason']})" if c["reason"] else "")
            for role, c in children.items()
            if c["state"] != ChildState.PLAYING
        ]
        if self.silence.reported:
            problems.append(f"sound: silent on speakers {', '.join(sorted(self.silence.reported, key=int))}")
        if self.frozen.reported:
            problems.append(f"image: frozen on projectors {', '.join(sorted(self.frozen.reported))}")
        return {
            "installation": self.loaded.config.installation.name,
            "open": self.outlook["open"],
            "schedule": self.outlook,
            "watch": {  # what the watch found: names of silent speakers (1-based) and frozen projectors
                "silence_floor_dbfs": self.loaded.config.watch.silence_floor_dbfs,
                "silent_speakers": sorted(self.silence.reported, key=int),
                "frozen_projectors": sorted(self.frozen.reported),
            },
            "paused": self.programme.paused,
            "override": self.programme.override,
            "volume": self._volume(),
            "projectors": self.power.status() if self.power is not None else {},
            "healthy": not problems and not self.stopping,
            "problems": problems + (["stopping"] if self.stopping else []),
            "uptime_seconds": round(time.monotonic() - self.started, 1),
            "run": self._run_status(),
            "streams": self.streams,
            "frames": self.frames,
            "children": children,
            "cycle": list(self.loaded.config.cycle.presets),
            "recent_runs": self.history.runs(10),
            "history": {
                "seconds_apart": 1.0,
                "streams": {
                    name: [_shown(moment.get(name)) for moment in list(self.stream_history)] for name in HISTORY_STREAMS
                },
            },
            "log": merged_problems(list(RECENT_PROBLEMS), {role: c.status for role, c in self.children.items()}),
        }

    def _run_status(self) -> dict:
        """The run now playing and, from the trainer's heartbeat, its plan against what the machine measures."""
        run = dict(self.current_run)
        trainer = self.children.get("trainer")
        pace = trainer.status.get("pace") if trainer is not None and isinstance(trainer.status, dict) else None
        if run and isinstance(pace, dict) and pace.get("run_id") == run.get("run_id"):
            run["pace"] = {key: value for key, value in pace.items() if key != "run_id"}
        return run

    def _receive(self, timeout: float) -> None:
        links = {child.link.connection: (child, child.link) for child in self.children.values() if child.link}
        ready = set(wait(list(links), timeout))
        for connection, (child, link) in links.items():
            if connection not in ready:
                continue
            try:
                raw = link.recv_bytes()
            except (EOFError, OSError):
                continue  # it died: check() sees the exit and restarts it
            try:
                self._route(child, raw)
            except BadMessage as exc:
                self.log.error("message_unreadable", role=child.role, error=str(exc))

    def _route(self, child: Child, raw: bytes) -> None:
        """A trainer's frame goes on as the bytes it came in (pictures unread, to the image alone); the rest is read."""
        kind = kind_of(raw)
        if kind is not Heartbeat or child.state == ChildState.PLAYING:  # while starting, only Ready ends the grace
            child.last_heartbeat = time.monotonic()
        if child.role == "trainer" and kind is PictureFrame:
            if "image" in self.children:
                self.children["image"].forward(raw)
            return
        message = decode(raw)
        if child.role == "trainer" and isinstance(message, StreamFrame):
            self._on_frame(message, raw)
        else:
            self._handle(child, message)

    def _on_frame(self, frame: StreamFrame, raw: bytes) -> None:
        for role in SENSES:
            if role in self.children:
                self.children[role].forward(raw)
        if self.osc is not None:
            self.osc.frame(frame)
        self.current_run["step"] = frame.step
        self.current_run["steps_total"] = frame.steps_total
        self.streams = {name: round(value, 6) for name, value in frame.streams.items()}
        self.frames += 1

    def _handle(self, child: Child, message: Message) -> None:
        """The one dispatcher of what children say."""
        match message:
            case Heartbeat(status=status):
                child.status = status
                if child.role in SENSES:
                    self._watch_output(child, status)
            case Ready(details=details):
                child.state = ChildState.PLAYING
                self.ready_at[child.role] = time.monotonic()
                self.log.info(f"{child.role}_ready", pid=child.pid, **details)
                if child.role in SENSES:  # a (re)started sense joins at the programme's level: lit, or dark
                    child.send(Rejoin(1.0 if self.programme.lit else 0.0, REJOIN_FADE_SECONDS))
                if child.role == "sound":
                    self._send_trim()
            case Quit(reason=reason):
                self.log.info("quit_asked", by=child.role, why=reason)
                self.quit_asked.set()
            case Unavailable(reason=reason):
                child.reason = reason  # its exit code (EXIT_UNAVAILABLE) follows: check() schedules a retry
                self.log.error(
                    f"{child.role}_unavailable",
                    error=reason,
                    retry_in_seconds=self.policy.unavailable_retry_seconds,
                    fix="check the device (`twos-and-sevens devices`, `projector-test`); the rest plays on",
                )
            case Idle() if child.role == "trainer":
                self.programme.on_idle()
            case RunStarted(run_id=run_id, preset=preset, seconds=seconds) if child.role == "trainer":
                self.history.started(run_id, preset)
                self.current_run = {"run_id": run_id, "preset": preset, "step": 0}
                self._tell_osc("/run/started", preset, run_id, float(seconds))
                if not self.stopping:
                    notify(f"STATUS=playing {preset} ({run_id})")
            case RunEnded(run_id=run_id, status=status) if child.role == "trainer":
                self.history.ended(run_id)
                self._tell_osc("/run/ended", run_id, status)
                self.current_run = {}
                self.programme.on_run_ended(status, datetime.now(UTC))
            case _:
                self.log.warning(
                    "message_ignored",
                    role=child.role,
                    message=type(message).__name__,
                    why="not a message this child sends",
                )

    def reload(self, who: str) -> dict:
        """Re-read the config file: apply a valid one (restarting only the children whose sections changed),
        keep the old one and say why when the new one is invalid (ValueError carries every error)."""
        from daemon.config import ConfigInvalid, load

        try:
            fresh = load(Path(self.loaded.source))
        except ConfigInvalid as exc:
            errors = [str(error) for error in exc.errors]
            self.log.error("config_reload_rejected", by=who, errors=errors, keeping="the running config")
            raise ValueError("the file has errors; the running config stays: " + "; ".join(errors)) from None
        old, new = self.loaded.config, fresh.config
        changed = [name for name in type(new).model_fields if getattr(old, name) != getattr(new, name)]
        restarted = [
            role for role, child in self.children.items() if child.alive and set(SECTIONS_OF[role]) & set(changed)
        ]
        self.loaded, self.policy = fresh, new.supervision
        if "http" in changed:  # a new port, address or token takes effect now
            if self.monitor is not None:
                self.monitor.close()
            self.monitor = self._start_monitor()
        if "control" in changed:  # a new socket path or group, listened on now (this reply still reaches its client)
            if self.control is not None:
                self.control.close()
            self.control = self._start_control()
        if {"power", "video"} & set(changed):  # new addresses, passwords or timing: a keeper on the new ones
            if self.power is not None:
                self.power.close()
            self.power = self._start_power()
        if "osc" in changed:
            if self.osc is not None:
                self.osc.close()
            self.osc = self._start_osc(new.osc)
        for child in self.children.values():
            child.policy, child.config_text = new.supervision, fresh.text
        self.programme.reconfigure(fresh)
        self.silence.seconds, self.frozen.seconds = (
            fresh.config.watch.silence_seconds,
            fresh.config.watch.frozen_seconds,
        )
        for role in restarted:
            self.children[role].restart_now()
        revived = [role for role, child in self.children.items() if child.revive(f"reload by {who}")]
        self.log.info("config_reloaded", by=who, changed=changed, restarted=restarted, revived=revived)
        return {"changed": changed, "restarted": restarted, "revived": revived}

    def restart_child(self, role: str, who: str) -> dict:
        """`restart-child ROLE`: a given-up (or waiting) child now; a running one stopped and started."""
        child = self.children.get(role)
        if child is None:
            raise ValueError(f"no {role} child in this installation (started with --no-{role}?)")
        if not child.revive(f"restart-child by {who}"):
            child.restart_now()
        return {"restarted": role}

    def _trainer_lost(self) -> None:
        if self.current_run:
            self.history.ended(self.current_run["run_id"])  # interrupted: its recording says how far it got
            self.current_run = {}
        self.programme.on_trainer_lost()

    def _tell_osc(self, address: str, *arguments) -> None:
        if self.osc is not None:
            self.osc.event(address, *arguments)

    def _to_senses(self, message: Fade | Crossfade) -> None:
        match message:
            case Fade(level=level, seconds=seconds):
                self._tell_osc("/fade", level, seconds)
            case Crossfade(seconds=seconds):
                self._tell_osc("/crossfade", seconds)
        raw = encode(message)
        for role in SENSES:
            if role in self.children:
                self.children[role].forward(raw)

    def _announce_ready(self) -> None:
        if self.announced_ready:
            return
        senses = [self.children[role] for role in SENSES if role in self.children]
        if all(c.state in (ChildState.PLAYING, ChildState.UNAVAILABLE, ChildState.FAILED) for c in senses):
            notify(
                "READY=1",
                "STATUS=" + ", ".join(f"{c.role} {'up' if c.state == 'playing' else 'missing'}" for c in senses),
            )
            self.announced_ready = True
            self.log.info(
                "installation_ready", **{c.role: c.state if c.state == ChildState.PLAYING else c.reason for c in senses}
            )

    def _shut_down(self) -> None:
        self.stopping = True
        notify("STOPPING=1")
        self._tell_osc("/stopping", float(self.policy.stop_fade_seconds))
        fade = self.policy.stop_fade_seconds
        self.log.info("supervisor_stopping", fade_seconds=fade)
        for child in self.children.values():
            if child.alive:
                child.send(Stop(fade))
        deadline = time.monotonic() + fade + 5.0
        while time.monotonic() < deadline and any(c.alive for c in self.children.values()):
            self._receive(LOOP_SECONDS)
        for child in self.children.values():
            child.stop(grace_seconds=5.0)
        if self.current_run:
            self.history.ended(self.current_run["run_id"])  # the trainer has closed its recording by now
        self.history.close()
        if self.osc is not None:
            self.osc.close()
        self.log.info("supervisor_stopped", restarts={role: c.restarts for role, c in self.children.items()})


def _number(value: object) -> bool:
    return type(value) in (int, float) and value == value  # a heartbeat's number, not NaN


def _shown(value: object) -> float | None:
    """A stream's value as JSON can carry it: None when not measured (NaN) or absent."""
    return float(value) if isinstance(value, int | float) and value == value else None


def merged_problems(own: list[dict], heartbeats: dict[str, object], most: int = 20) -> list[dict]:
    """The newest `most` warnings and errors of the supervisor (`own`) and of each child (the `problems`
    its heartbeat carries, whatever a child sent: only dicts of strings count), each once, by time."""
    seen = list(own)
    for role, status in heartbeats.items():
        problems = status.get("problems") if isinstance(status, dict) else None
        for problem in problems if isinstance(problems, list) else []:
            if isinstance(problem, dict) and all(isinstance(v, str) for v in problem.values()):
                seen.append({**problem, "role": role})  # the role is the supervisor's to say, not the child's
    unique = {tuple(sorted(p.items())): p for p in seen}.values()  # a child resends its latest each second
    return sorted(unique, key=lambda p: str(p.get("time", "")))[-most:]

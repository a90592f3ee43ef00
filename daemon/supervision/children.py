"""One supervised child process: started, watched (exit and heartbeats), restarted with backoff or given up."""

from __future__ import annotations

import collections
import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from daemon.config.loader import RUNNING_CONFIG_ENV
from daemon.config.schema import Supervision
from daemon.logs import get_logger
from daemon.messages import Message, encode
from daemon.processes import end_with_parent, stop_process
from daemon.supervision.link import Link, link_pair
from daemon.supervision.roles import EXIT_UNAVAILABLE

__all__ = ["Child", "ChildState", "child_command"]

OUTBOX_FRAMES = 256
FIRST_BACKOFF_SECONDS = 0.5
SYSTEMD_VARIABLES = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")


class ChildState(StrEnum):
    """Where a child is: starting → playing; after a death backoff, unavailable, failed or finished; stopped."""

    STOPPED = "stopped"
    STARTING = "starting"
    PLAYING = "playing"
    BACKOFF = "backoff"
    UNAVAILABLE = "unavailable"  # its device is missing: retried every unavailable_retry_seconds
    FAILED = "failed"  # a crash loop: tried again every given_up_retry_seconds
    FINISHED = "finished"  # exited 0 on its own, e.g. the trainer after --runs


RESTARTABLE = (ChildState.BACKOFF, ChildState.UNAVAILABLE, ChildState.FAILED)  # not running, started again later


@dataclass
class Child:
    """A role's process and the state the supervisor keeps about it (ChildState)."""

    role: str
    command: list[str]
    policy: Supervision
    state: ChildState = ChildState.STOPPED
    process: subprocess.Popen | None = None
    link: Link | None = None
    reason: str = ""
    restarts: int = 0  # after a death, a hang, or a dead output: what alerts count
    reloads: int = 0  # deliberate: a reloaded config or restart-child
    started_at: float = 0.0
    last_heartbeat: float = 0.0
    next_start: float = 0.0
    status: dict = field(default_factory=dict)
    deaths: collections.deque = field(default_factory=collections.deque)
    dropped: int = 0
    config_text: str = ""  # the supervisor's running config, handed to the process it starts

    def __post_init__(self) -> None:
        self.log = get_logger("supervisor")
        self.outbox: queue.Queue[bytes | None] | None = None
        self.on_death: Callable[[], None] | None = None  # called when the process is found dead or hung

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int | None:
        """The running process's id; None when there is none."""
        return self.process.pid if self.process is not None and self.alive else None

    def start(self, now: float) -> None:
        link, child_fd = link_pair()
        # Only the supervisor talks to systemd.
        env = {k: v for k, v in os.environ.items() if k not in SYSTEMD_VARIABLES}
        if self.config_text:
            env[RUNNING_CONFIG_ENV] = self.config_text
        self.process = subprocess.Popen(
            [*self.command, "--fd", str(child_fd)],
            pass_fds=(child_fd,),
            env=env,
            preexec_fn=end_with_parent(signal.SIGTERM),
        )
        os.close(child_fd)
        self.link, self.state, self.started_at, self.last_heartbeat = link, ChildState.STARTING, now, now
        self.outbox = queue.Queue(OUTBOX_FRAMES)
        threading.Thread(target=self._send_loop, args=(link, self.outbox), name=f"to-{self.role}", daemon=True).start()
        self.log.info("child_started", role=self.role, pid=self.process.pid, restarts=self.restarts)

    def send(self, message: Message) -> None:
        """Queue a message; never blocks the supervisor (a stopped child cannot stall the others)."""
        self.forward(encode(message))

    def forward(self, raw: bytes) -> None:
        """Queue an encoded message as it came (a frame from the trainer, encoded once for every sense)."""
        if self.outbox is None or self.state not in (ChildState.STARTING, ChildState.PLAYING):
            return
        try:
            self.outbox.put_nowait(raw)
        except queue.Full:
            self.dropped += 1
            if self.dropped in (1, 10, 100) or self.dropped % 1000 == 0:
                self.log.warning(
                    "frames_dropped",
                    role=self.role,
                    dropped=self.dropped,
                    why="the child is not reading (busy or hung)",
                )

    @staticmethod
    def _send_loop(link: Link, outbox: queue.Queue[bytes | None]) -> None:
        while True:
            raw = outbox.get()
            if raw is None or not link.send_bytes(raw):
                return

    def check(self, now: float) -> None:
        """Notice a death or a missed heartbeat; restart when the backoff is over."""
        process = self.process
        if process is not None and self.state in (ChildState.STARTING, ChildState.PLAYING):
            code = process.poll()
            timeout = (
                self.policy.startup_timeout_seconds
                if self.state == ChildState.STARTING
                else self.policy.heartbeat_timeout_seconds
            )
            if code is not None:
                self._died(now, process.pid, code)
            elif now - self.last_heartbeat > timeout:
                self.log.error(
                    "child_hung",
                    role=self.role,
                    pid=process.pid,
                    silent_seconds=round(now - self.last_heartbeat, 1),
                    action="killing it",
                )
                process.kill()
                self._died(now, process.pid, process.wait(), hung=True)
        if self.state in RESTARTABLE and now >= self.next_start:
            if self.state == ChildState.FAILED:
                self.log.warning(
                    "child_retrying",
                    role=self.role,
                    after=self.reason,
                    next_retry_in_seconds=self.policy.given_up_retry_seconds,
                )
            self.restarts += 1
            self.start(now)

    def revive(self, why: str) -> bool:
        """Start now a child that is not running (given up, waiting for its device, backing off); False if it runs."""
        if self.state not in RESTARTABLE:
            return False
        self.log.info("child_revived", role=self.role, was=str(self.state), by=why)
        self.deaths.clear()  # a fresh start: the crash-loop guard counts again from here
        self.reloads += 1  # asked for (reload, restart-child): not a fault
        self.start(time.monotonic())
        return True

    def _died(self, now: float, pid: int, code: int, hung: bool = False) -> None:
        self._drop_link()
        if self.on_death is not None:
            self.on_death()
        if code == 0 and not hung:
            self.state = ChildState.FINISHED
            self.log.info("child_finished", role=self.role, pid=pid)
            return
        if code == EXIT_UNAVAILABLE:
            self.state, self.next_start = ChildState.UNAVAILABLE, now + self.policy.unavailable_retry_seconds
            self.log.info(
                "child_waiting_for_device", role=self.role, retry_in_seconds=self.policy.unavailable_retry_seconds
            )
            return
        cause = "hung" if hung else (f"signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}")
        self.deaths.append(now)
        while self.deaths and self.deaths[0] < now - self.policy.crash_loop_window_seconds:
            self.deaths.popleft()
        if len(self.deaths) >= self.policy.crash_loop_deaths:
            window = self.policy.crash_loop_window_seconds
            retry = self.policy.given_up_retry_seconds
            self.state, self.reason = ChildState.FAILED, f"died {len(self.deaths)} times in {window:g} s"
            self.next_start = now + retry
            self.log.error(
                "child_given_up",
                role=self.role,
                pid=pid,
                cause=cause,
                reason=self.reason,
                retry_in_seconds=retry,
                fix=f"see the errors above; `restart-child {self.role}` or `reload` tries again at once",
            )
            return
        wait = min(self.policy.restart_backoff_max_seconds, FIRST_BACKOFF_SECONDS * 2 ** (len(self.deaths) - 1))
        self.state, self.next_start, self.reason = ChildState.BACKOFF, now + wait, cause
        self.log.error("child_died", role=self.role, pid=pid, cause=cause, restart_in_seconds=wait)

    def _drop_link(self) -> None:
        if self.outbox is not None:
            with contextlib.suppress(queue.Full):
                self.outbox.put_nowait(None)
        if self.link is not None:
            self.link.close()
        self.link = self.outbox = None

    def restart_now(self, deliberate: bool = True, grace_seconds: float = 10.0) -> None:
        """SIGTERM, wait, start again. Deliberate (a reload, `restart-child`) counts in `reloads`, not in
        `restarts`, which monitoring reads as faults; the watch's restart of a dead output is a fault."""
        self.stop(grace_seconds=grace_seconds)
        if self.on_death is not None:
            self.on_death()
        if deliberate:
            self.reloads += 1
        else:
            self.restarts += 1
        self.start(time.monotonic())

    def stop(self, grace_seconds: float) -> None:
        """SIGTERM, then SIGKILL after `grace_seconds`."""
        if self.process is not None:
            stop_process(self.process, grace_seconds)
        self._drop_link()
        self.state = ChildState.STOPPED


def child_command(role: str, config_source: str, extra: list[str]) -> list[str]:
    config = [] if config_source.startswith("(") else ["--config", config_source]
    return [sys.executable, "-m", "daemon", "child", role, *config, *extra]

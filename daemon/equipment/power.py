"""Projectors on before opening and off after closing: a thread that re-asserts the plan over PJLink."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import structlog

from daemon.equipment.pjlink import (
    PARTS,
    PASSWORD_FIX,
    PjlinkClient,
    PjlinkTarget,
    PowerState,
    ProjectorAuthFailed,
    ProjectorBusy,
    ProjectorError,
    ProjectorFault,
    ProjectorReading,
    ProjectorUnreachable,
)
from daemon.logs import get_logger

__all__ = ["ManualCommand", "PjlinkTarget", "PowerKeeper"]

# Each kind of trouble is logged once when it starts and once when it ends, not on every pass.
_STARTED = {
    "unreachable": ("warning", "projector_unreachable"),
    "auth": ("error", "projector_auth_failed"),
    "fault": ("error", "projector_fault"),
    "protocol": ("warning", "projector_protocol_error"),
}
_ENDED = {
    "unreachable": "projector_reachable",
    "auth": "projector_auth_accepted",
    "fault": "projector_fault_cleared",
    "protocol": "projector_protocol_ok",
}
_SETTLING = (PowerState.WARMING, PowerState.COOLING)


@dataclass(frozen=True)
class ManualCommand:
    """A technician's on or off, held until the plan next changes (`plan`: what it said when this came)."""

    on: bool
    by: str
    at: datetime
    plan: bool | None  # None: the plan could not be read then; the keeper's next pass fills it in

    def as_dict(self) -> dict[str, Any]:
        return {"to": _word(self.on), "by": self.by, "at": self.at.isoformat(), "holds_until": "the plan's next change"}


@dataclass
class _Seen:
    """What the keeper last knew of one projector (guarded by the keeper's lock)."""

    reachable: bool | None = None
    reading: ProjectorReading | None = None
    wanted: bool | None = None
    checked_at: datetime | None = None
    problem: str | None = None
    trouble: str | None = None  # the kind of problem last logged (a key of _STARTED, or "busy")
    errors: dict[str, str] = field(default_factory=lambda: dict.fromkeys(PARTS, "ok"))


class PowerKeeper:
    """Every `interval_seconds` (and at start, and on check_now) it reads each projector and switches it
    to what `wanted_on(clock())` says, or what a technician's command() said until the plan next changes.

    Re-assertion, not fire-once: a power cut, a replugged projector or a restart at 03:00 ends in the
    right state at the next pass. It never toggles a projector that is warming or cooling. All network
    work runs on its own thread, every projector at once, each command bounded by `timeout_seconds`, so
    a hung projector delays neither the caller nor the other projectors.
    """

    def __init__(
        self,
        targets: list[PjlinkTarget],
        wanted_on: Callable[[datetime], bool],
        *,
        interval_seconds: float = 60.0,
        timeout_seconds: float = 5.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        log: structlog.stdlib.BoundLogger | None = None,
    ) -> None:
        names = [target.name for target in targets]
        if len(set(names)) != len(names):
            raise ValueError(f"two projectors share a name (logs and /status could not tell them apart): {names}")
        self._targets = list(targets)
        self._wanted_on, self._clock = wanted_on, clock
        self._interval, self._timeout = interval_seconds, timeout_seconds
        self._log = log if log is not None else get_logger("projectors")
        self._lock = threading.Lock()
        self._seen = {target.name: _Seen() for target in targets}
        self._manual: ManualCommand | None = None
        self._wake, self._stopping = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._passes = 0
        self._last_pass_seconds: float | None = None

    # The caller's side: none of these waits on the network.

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the power keeper is already started")
        self._thread = threading.Thread(target=self._run, name="projector-power", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the thread, cutting short a pass in progress."""
        self._stopping.set()
        self._wake.set()
        with self._lock:
            loop, task = self._loop, self._task
        if loop is not None and task is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed in between: nothing left to cancel
                loop.call_soon_threadsafe(task.cancel)
        if self._thread is not None:
            self._thread.join(timeout=1.0 + self._timeout)

    def check_now(self) -> None:
        """An immediate pass (another one right after, if a pass is under way)."""
        self._wake.set()

    def command(self, on: bool, who: str) -> dict[str, Any]:
        """A technician's on or off for every projector, held until the plan next changes."""
        manual = ManualCommand(on, who, self._now(), self._plan())
        with self._lock:
            self._manual = manual
        self._log.info("projector_manual", to=_word(on), by=who, projectors=[target.name for target in self._targets])
        self.check_now()
        return {**manual.as_dict(), "projectors": [target.name for target in self._targets]}

    def status(self) -> dict[str, dict[str, Any]]:
        """Per projector: reachable, power, wanted, input, lamp_hours, errors (last known), checked_at, problem,
        manual: a snapshot, safe from any thread."""
        with self._lock:
            manual = None if self._manual is None else self._manual.as_dict()
            return {name: _status_of(seen, manual) for name, seen in self._seen.items()}

    @property
    def running(self) -> bool:
        """Whether the thread is alive (started and not closed)."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def passes(self) -> int:
        """Passes completed since start."""
        with self._lock:
            return self._passes

    @property
    def last_pass_seconds(self) -> float | None:
        """How long the latest completed pass took (the slowest projector's reading and switching)."""
        with self._lock:
            return self._last_pass_seconds

    # The thread

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        with self._lock:
            self._loop = loop
        try:
            while not self._stopping.is_set():
                self._wake.clear()
                self._one_pass(loop)
                self._wake.wait(self._interval)
        finally:
            with self._lock:
                self._loop = None
            loop.close()

    def _one_pass(self, loop: asyncio.AbstractEventLoop) -> None:
        started = time.monotonic()
        with self._lock:  # close() sets _stopping before it takes the lock: it sees this task, or none starts
            if self._stopping.is_set():
                return
            task = self._task = loop.create_task(self._pass())
        try:
            loop.run_until_complete(task)
        except asyncio.CancelledError:  # close() cut it short
            return
        except Exception:  # a bug of ours: logged, and the next pass comes as usual
            self._log.exception("projector_pass_failed")
        finally:
            with self._lock:
                self._task = None
        with self._lock:
            self._passes += 1
            self._last_pass_seconds = time.monotonic() - started

    async def _pass(self) -> None:
        now, plan = self._now(), self._plan()
        wanted, manual = self._wanted(plan)
        await asyncio.gather(*(self._check(target, wanted, manual, now) for target in self._targets))

    def _now(self) -> datetime:
        try:
            return self._clock()
        except Exception:
            self._log.exception("projector_clock_failed")
            return datetime.now(UTC)

    def _plan(self) -> bool | None:
        """What wanted_on says now; None (no switching this pass) when it raises."""
        try:
            return bool(self._wanted_on(self._now()))
        except Exception:
            self._log.exception("projector_plan_failed")
            return None

    def _wanted(self, plan: bool | None) -> tuple[bool | None, ManualCommand | None]:
        """What the projectors should be, and the manual command that decides it (None: the plan decides)."""
        with self._lock:
            manual = self._manual
            if manual is None or plan is None:
                return (plan if manual is None else manual.on), manual
            if manual.plan is None:
                manual = self._manual = replace(manual, plan=plan)
            elif manual.plan != plan:
                self._manual = None
                self._log.info("projector_manual_ended", by=manual.by, to=_word(manual.on), plan=_word(plan))
                return plan, None
            return manual.on, manual

    async def _check(
        self, target: PjlinkTarget, wanted: bool | None, manual: ManualCommand | None, now: datetime
    ) -> None:
        client = PjlinkClient(target, self._timeout)
        reading: ProjectorReading | None = None
        problem: ProjectorError | None = None
        try:
            reading = await client.read()
            if wanted is not None:
                reading = await self._correct(client, reading, wanted, manual)
        except ProjectorError as error:
            problem = error
        except Exception:  # a bug of ours or of the library: logged; the other projectors go on
            self._log.exception("projector_check_failed", name=target.name)
            return
        self._record(target, reading, problem, wanted, now)

    async def _correct(
        self, client: PjlinkClient, reading: ProjectorReading, wanted: bool, manual: ManualCommand | None
    ) -> ProjectorReading:
        """Switch the projector if it is the wrong way; never while it warms or cools (the next pass looks again)."""
        if reading.power in _SETTLING or (reading.power is PowerState.ON) == wanted:
            return reading
        try:
            await client.set_power(wanted)
        except ProjectorBusy:  # some projectors refuse for a while after a cool-down ends
            self._log.debug("projector_busy", name=client.target.name, to=_word(wanted))
            return reading
        why, by = ("manual", manual.by) if manual is not None else ("plan", None)
        self._log.info("projector_power", name=client.target.name, to=_word(wanted), why=why, by=by)
        return replace(reading, power=await client.power())

    def _record(
        self,
        target: PjlinkTarget,
        reading: ProjectorReading | None,
        problem: ProjectorError | None,
        wanted: bool | None,
        now: datetime,
    ) -> None:
        with self._lock:
            seen = self._seen[target.name]
            self._log_trouble(target, seen.trouble, problem)
            seen.trouble = _trouble(problem)
            seen.reachable = not isinstance(problem, ProjectorUnreachable)
            seen.reading, seen.wanted, seen.checked_at = reading, wanted, now
            seen.problem = None if problem is None else str(problem)
            if reading is not None:
                self._log_flags(target, seen.errors, reading.errors)
                seen.errors = dict(reading.errors)

    def _log_trouble(self, target: PjlinkTarget, before: str | None, problem: ProjectorError | None) -> None:
        now = _trouble(problem)
        if now == before:
            return
        if before in _ENDED:
            self._log.info(_ENDED[before], name=target.name)
        if now in _STARTED:
            level, event = _STARTED[now]
            fix = {"fix": PASSWORD_FIX} if now == "auth" else {}
            getattr(self._log, level)(event, name=target.name, error=str(problem), **fix)

    def _log_flags(self, target: PjlinkTarget, before: dict[str, str], after: dict[str, str]) -> None:
        for part, level in after.items():
            was = before.get(part, "ok")
            if level == was:
                continue
            if level == "ok":
                self._log.info("projector_error_cleared", name=target.name, part=part, was=was)
            else:
                getattr(self._log, level)("projector_error", name=target.name, part=part, level=level)


def _trouble(problem: ProjectorError | None) -> str | None:
    kinds: list[tuple[type[ProjectorError], str]] = [
        (ProjectorUnreachable, "unreachable"),
        (ProjectorAuthFailed, "auth"),
        (ProjectorFault, "fault"),
        (ProjectorBusy, "busy"),
    ]
    if problem is None:
        return None
    return next((kind for cls, kind in kinds if isinstance(problem, cls)), "protocol")


def _status_of(seen: _Seen, manual: dict[str, Any] | None) -> dict[str, Any]:
    reading = seen.reading
    return {
        "reachable": seen.reachable,
        "power": None if reading is None else reading.power.value,
        "wanted": None if seen.wanted is None else _word(seen.wanted),
        "input": None if reading is None else reading.input,
        "lamp_hours": None if reading is None else reading.lamp_hours,
        "errors": dict(seen.errors),
        "checked_at": None if seen.checked_at is None else seen.checked_at.isoformat(),
        "problem": seen.problem,
        "manual": None if manual is None else dict(manual),
    }


def _word(on: bool) -> str:
    return "on" if on else "off"

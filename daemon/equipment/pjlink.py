"""A projector over PJLink: power, input, lamp, error flags, name, class; typed errors a technician can act on."""

# Why aiopjlink2 and not pypjlink2. pypjlink2 (1.2.2, last released 2020) speaks class 1 only: its reply
# parser asserts the class digit is "1", and it checks every reply with `assert`, so an odd answer raises
# AssertionError (and nothing at all under `python -O`); a missing password is a RuntimeError, an unknown
# power state a KeyError; it reads a reply one character at a time with only the socket's per-read
# timeout, so a projector that trickles bytes without a CR holds the caller for ever. aiopjlink2 (1.2.0,
# released 2026, typed with py.typed, CI on 3.11–3.13) speaks class 1 and 2, opens one short connection
# per command (projectors that take a single client at a time are not held), times out the connect, the
# greeting and the reply separately, and raises everything as one PJLinkException tree (ERR1–ERR4, a
# wrong or missing password, no connection, a closed one, an unparsable reply). Its asyncio API suits
# the power keeper: one thread queries every projector at once, so a hung one costs the others nothing.
# What it lacks is made good here: one deadline for a whole command (its three separate timeouts could
# add up to three), a hung projector's greeting timeout (which it files as a protocol error) reported as
# unreachable, and length checks on what the daemon shows. (Its wheel declares pyserial-asyncio-fast as a
# dependency that its code never imports; harmless, two small pure-Python wheels.)

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

import aiopjlink

__all__ = [
    "DEFAULT_PORT",
    "PARTS",
    "PASSWORD_FIX",
    "PjlinkClient",
    "PjlinkTarget",
    "PowerState",
    "ProjectorAuthFailed",
    "ProjectorBusy",
    "ProjectorError",
    "ProjectorFault",
    "ProjectorProtocolError",
    "ProjectorReading",
    "ProjectorUnreachable",
]

DEFAULT_PORT = 4352
PARTS = ("fan", "lamp", "temperature", "cover", "filter", "other")
PASSWORD_FIX = (
    "set the password in [[video.projector]] pjlink_password / pjlink_password_file "
    "to the one in the projector's network menu"
)
# The specification's longest NAME; a longer answer is cut rather than carried into logs and /status.
LONGEST_NAME = 64
# LAMP's hours are 0–99999 in the specification.
MOST_LAMP_HOURS = 99999

T = TypeVar("T")


class PowerState(StrEnum):
    """What POWR ? answers, in words."""

    OFF = "off"
    ON = "on"
    COOLING = "cooling"
    WARMING = "warming"


_POWER_STATES = {
    aiopjlink.Power.State.OFF: PowerState.OFF,
    aiopjlink.Power.State.ON: PowerState.ON,
    aiopjlink.Power.State.COOLING: PowerState.COOLING,
    aiopjlink.Power.State.WARMING: PowerState.WARMING,
}
_LEVELS = {
    aiopjlink.Errors.Level.OK: "ok",
    aiopjlink.Errors.Level.WARN: "warning",
    aiopjlink.Errors.Level.ERROR: "error",
}


@dataclass(frozen=True)
class PjlinkTarget:
    """One projector on the network: how logs and /status name it, where it listens, its PJLink password."""

    name: str
    host: str
    port: int = DEFAULT_PORT
    password: str | None = field(default=None, repr=False)  # kept out of reprs, so out of logs and tracebacks


@dataclass(frozen=True)
class ProjectorReading:
    """One look at a projector. None: the projector could not say (no lamp, input while off, no answer)."""

    power: PowerState
    errors: dict[str, str]  # part (PARTS) → "ok" | "warning" | "error"
    lamp_hours: int | None
    input: str | None  # PJLink's two characters: type (1 RGB … 6 internal) and number, e.g. "31"
    name: str | None
    pjlink_class: int | None


class ProjectorError(Exception):
    """Something went wrong talking to a projector; the message names it and says what to do."""

    def __init__(self, target: PjlinkTarget, message: str) -> None:
        super().__init__(f"{target.name} at {target.host}:{target.port}: {message}")
        self.target = target


class ProjectorUnreachable(ProjectorError):
    """Connection refused, no answer in time (a hung projector), or hung up mid-command."""


class ProjectorAuthFailed(ProjectorError):
    """The projector wants a password we do not have, or refused ours."""

    fix = PASSWORD_FIX


class ProjectorBusy(ProjectorError):
    """ERR3: not now (warming up or cooling down); ask again later."""


class ProjectorFault(ProjectorError):
    """ERR4: the projector reports a failure of its own (see its error flags)."""


class ProjectorProtocolError(ProjectorError):
    """Answers that are not PJLink as the specification says (ERR1, ERR2, garbage): another device on the port?"""


class PjlinkClient:
    """PJLink commands to one projector, each bounded by `timeout_seconds` from connect to reply.

    Every method raises a ProjectorError subclass and nothing else for whatever the projector does.
    Commands go as class 1 (`%1`) even to a class 2 projector: it answers them, and power, input,
    lamp and error flags need nothing class 2 adds.
    """

    def __init__(self, target: PjlinkTarget, timeout_seconds: float = 5.0) -> None:
        self.target = target
        self.timeout_seconds = timeout_seconds
        self._link = aiopjlink.PJLink(target.host, target.port, target.password, timeout=timeout_seconds)

    async def power(self) -> PowerState:
        return _POWER_STATES[await self._ask("POWR ?", lambda link: link.power.get())]

    async def set_power(self, on: bool) -> None:
        state = aiopjlink.Power.State.ON if on else aiopjlink.Power.State.OFF
        await self._ask(f"POWR {state.value}", lambda link: link.power.set(state))

    async def errors(self) -> dict[str, str]:
        """Each part's flag (ERST): "ok", "warning" or "error"."""
        flags = await self._ask("ERST ?", lambda link: link.errors.query())
        return {category.value: _LEVELS[level] for category, level in flags.items()}

    async def lamp_hours(self) -> int:
        """The first lamp's hours (a laser projector may answer ERR1: no lamp)."""
        hours = await self._ask("LAMP ?", lambda link: link.lamps.hours())
        if not 0 <= hours <= MOST_LAMP_HOURS:
            raise ProjectorProtocolError(self.target, f"LAMP ? answered {hours} hours, outside 0–{MOST_LAMP_HOURS}")
        return hours

    async def input(self) -> str:
        """The selected input as PJLink's two characters (ERR3 while the power is not on)."""
        mode, number = await self._ask("INPT ?", lambda link: link.sources.get())
        return f"{mode.value}{number}"

    async def name(self) -> str:
        return (await self._ask("NAME ?", lambda link: link.info.projector_name()))[:LONGEST_NAME]

    async def pjlink_class(self) -> int:
        return int((await self._ask("CLSS ?", lambda link: link.info.pjlink_class())).value)

    async def read(self) -> ProjectorReading:
        """Power and error flags (these must answer), then lamp, input, name and class where it can say.

        Power goes first, so an unreachable or hung projector costs one timeout, not one per query.
        """
        power = await self.power()
        errors = await self.errors()
        lamp_hours = await self._optional(self.lamp_hours())
        # INPT answers ERR3 unless the power is on: not worth a connection otherwise.
        selected = await self._optional(self.input()) if power is PowerState.ON else None
        return ProjectorReading(
            power,
            errors,
            lamp_hours,
            selected,
            await self._optional(self.name()),
            await self._optional(self.pjlink_class()),
        )

    async def _optional(self, query: Awaitable[T]) -> T | None:
        """The answer, or None where the projector cannot say; unreachable and password failures still raise."""
        try:
            return await query
        except (ProjectorBusy, ProjectorFault, ProjectorProtocolError):
            return None

    async def _ask(self, command: str, request: Callable[[aiopjlink.PJLink], Awaitable[T]]) -> T:
        # aiopjlink times out connect, greeting and reply one by one; this deadline covers all three.
        try:
            async with asyncio.timeout(self.timeout_seconds):
                return await request(self._link)
        except (aiopjlink.PJLinkException, TimeoutError, OSError, UnicodeError, ValueError) as error:
            raise self._translated(command, error) from error

    def _translated(self, command: str, error: Exception) -> ProjectorError:
        if isinstance(error, aiopjlink.PJLinkPassword):
            refused = "refused our PJLink password" if self.target.password else "wants a PJLink password"
            return ProjectorAuthFailed(self.target, f"{refused}: {PASSWORD_FIX}")
        if isinstance(error, aiopjlink.PJLinkERR3):
            return ProjectorBusy(self.target, f"{command} answered ERR3 (busy: warming up or cooling down)")
        if isinstance(error, aiopjlink.PJLinkERR4):
            return ProjectorFault(self.target, f"{command} answered ERR4 (projector failure: see its error flags)")
        if _is_unreachable(error):
            return ProjectorUnreachable(self.target, f"{command}: unreachable ({self._why_unreachable(error)})")
        return ProjectorProtocolError(self.target, f"{command}: an answer that is not PJLink ({error})")

    def _why_unreachable(self, error: Exception) -> str:
        # aiopjlink words a refused connection "os timeout - …": the errno says what really happened.
        cause = error.__cause__ if isinstance(error, aiopjlink.PJLinkException) and error.__cause__ else error
        if isinstance(cause, TimeoutError):
            return f"no answer within {self.timeout_seconds:g} s"
        if isinstance(cause, OSError) and cause.errno:
            return os.strerror(cause.errno).lower()
        return str(error) or type(error).__name__


def _is_unreachable(error: Exception) -> bool:
    # A projector that accepts the connection and never greets is hung; aiopjlink files it as a protocol
    # error caused by a timeout.
    if isinstance(error, TimeoutError | OSError | aiopjlink.PJLinkNoConnection | aiopjlink.PJLinkConnectionClosed):
        return True
    return isinstance(error, aiopjlink.PJLinkProtocolError) and isinstance(error.__cause__, TimeoutError)

"""The daemon's log read back (`twos-and-sevens logs`): the unit's journal or `[logging] file`, filtered, readable."""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import subprocess
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from daemon.config import LoadedConfig

__all__ = [
    "LEVELS",
    "UNIT",
    "Entry",
    "Journal",
    "JournalFailed",
    "LogFile",
    "LogMissing",
    "Selection",
    "as_json",
    "open_log",
    "parse_line",
    "parse_since",
    "render",
]

# The log's own event names (text in the journal, not messages between processes) that bound a run.
RUN_STARTED_EVENT, RUN_ENDED_EVENT = "run_started", "run_ended"

LEVELS = ("debug", "info", "warning", "error", "critical")
_LEVEL_NAMES = {**{name: name for name in LEVELS}, "warn": "warning", "exception": "error", "fatal": "critical"}
# syslog priorities as the journal keeps them (0 emerg … 7 debug)
_PRIORITY_LEVELS = ("critical", "critical", "critical", "error", "warning", "info", "info", "debug")
MAX_LINE_BYTES = 1024 * 1024  # a longer line is cut here (and marked), never read whole into memory
POLL_SECONDS = 0.2
UNIT = "twos-and-sevens.service"  # systemd/: the system unit and the user unit have this name


@dataclass(frozen=True)
class Entry:
    """One line read back: `event` is the daemon's JSON event, or None for any other line (kept as `text`)."""

    text: str
    event: dict | None = None
    time: datetime | None = None  # aware; None when the line does not say
    level: str | None = None  # one of LEVELS; None when unknown (such lines pass every --level)


def parse_line(text: str, journal_time: datetime | None = None, priority: int | None = None) -> Entry:
    """An entry from one line of the log; the journal's own time and priority stand in where the line has none."""
    event = None
    if text.lstrip().startswith("{"):
        try:
            found = json.loads(text)
        except (ValueError, RecursionError):  # not JSON, or a line cut short; nested too deep to read
            found = None
        if isinstance(found, dict) and isinstance(found.get("event"), str):
            event = found
    fallback_level = _PRIORITY_LEVELS[priority] if priority is not None and 0 <= priority <= 7 else None
    if event is None:
        return Entry(text, None, journal_time, fallback_level)
    level = event.get("level")
    level = _LEVEL_NAMES.get(level.lower()) if isinstance(level, str) else None
    return Entry(text, event, _time_of(event.get("time")) or journal_time, level or fallback_level)


def _time_of(value: object) -> datetime | None:
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        moment = datetime.fromisoformat(value)
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # the daemon writes UTC
        moment.astimezone()  # shown in local time: a year 1 or 9999 that cannot be is no time
        return moment.astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        return None


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """`1h`, `30m`, `2d`, `90s` ago, or a time (`2026-12-02T14:00`, this machine's clock); ValueError otherwise."""
    now = now or datetime.now(UTC)
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", text)
    if match:
        unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[match[2]]
        return now - timedelta(**{unit: float(match[1])})
    moment = datetime.fromisoformat(text.strip())
    return moment if moment.tzinfo else moment.astimezone()  # a naive time is local


class Selection:
    """Which entries pass --level, --since and --run.

    A line with no time of its own (not one of the daemon's) takes the time of the line before it.
    --run keeps the lines from the run's first line to its `run_ended`, whichever process wrote
    them: a child that died mid-run is part of that run's story.
    """

    def __init__(self, level: str | None = None, since: datetime | None = None, run_id: str | None = None):
        self.minimum = LEVELS.index(level) if level else 0
        self.since, self.run_id = since, run_id
        self.last_time: datetime | None = None
        self.in_run = self.run_ended = False

    def keep(self, entry: Entry) -> bool:
        moment = entry.time or self.last_time
        self.last_time = moment
        in_run = self._in_run(entry)
        if self.since is not None and (moment is None or moment < self.since):
            return False
        return in_run and (entry.level is None or LEVELS.index(entry.level) >= self.minimum)

    def _in_run(self, entry: Entry) -> bool:
        if self.run_id is None:
            return True
        event = entry.event or {}
        named = event.get("run_id")
        if named == self.run_id:  # lines that name the run are kept, even one that comes after its end
            if event.get("event") == RUN_ENDED_EVENT:
                self.in_run, self.run_ended = False, True
            elif not self.run_ended:
                self.in_run = True
            return True
        if isinstance(named, str) and event.get("event") == RUN_STARTED_EVENT:  # the next run began
            self.in_run = False
        return self.in_run and not isinstance(named, str)


# --- making lines readable -------------------------------------------------------------------

_COLOURS = {"debug": "2", "info": "32", "warning": "33", "error": "1;31", "critical": "1;37;41", None: "35"}
_SHOWN_APART = ("time", "level", "event", "component", "exception")


def render(entry: Entry, colour: bool = False) -> str:
    """`2026-12-02 14:03:01 warning  sound      sound_unavailable reason=…` (local time); a traceback follows."""

    def paint(text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if colour else text

    when = f"{entry.time.astimezone():%Y-%m-%d %H:%M:%S}" if entry.time else " " * 19
    level = paint(f"{entry.level or '?':8}", _COLOURS.get(entry.level, "35"))
    if entry.event is None:
        return f"{when} {level} {_printable(entry.text)}"
    event = entry.event
    component = _printable(str(event.get("component", "")))[:40]
    pairs = " ".join(
        f"{paint(_printable(str(key)), '36')}={_value(value)}"
        for key, value in event.items()
        if key not in _SHOWN_APART
    )
    line = f"{when} {level} {component:10} {paint(_printable(event['event']), '1')} {pairs}".rstrip()
    exception = event.get("exception")
    if isinstance(exception, str) and exception:
        line += "".join(f"\n    {_printable(part)}" for part in exception.splitlines())
    elif exception is not None:
        line += f" exception={_value(exception)}"
    return line


def _value(value: object) -> str:
    if isinstance(value, str) and value and not any(c.isspace() or c in "\"'=" for c in value):
        return _printable(value)
    try:
        return _printable(json.dumps(value, ensure_ascii=False, default=str))
    except (RecursionError, ValueError):  # nested past what the encoder follows
        return "…(nested too deep to show)"


def _printable(text: str) -> str:
    """Control characters shown as escapes: a log line must not drive the terminal (colours, cursor, title)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c == " " else _escape(c) for c in text)


def _escape(c: str) -> str:
    if unicodedata.category(c) == "Cc":
        return repr(c)[1:-1]
    return f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}"


def as_json(entry: Entry) -> str:
    """--json: the daemon's event as it logged it; any other line (or one too deep) as {"text", "time", "level"}."""
    if entry.event is not None:
        with contextlib.suppress(RecursionError, ValueError):
            return json.dumps(entry.event, ensure_ascii=False, default=str)
    return json.dumps(
        {"text": entry.text, "time": entry.time.isoformat() if entry.time else None, "level": entry.level},
        ensure_ascii=False,
    )


# --- reading lines -------------------------------------------------------------------------------


class _Lines:
    """Bytes in, whole lines out; a line longer than MAX_LINE_BYTES is cut there and the rest skipped."""

    def __init__(self):
        self.buffer = b""
        self.skipping = False

    def feed(self, data: bytes) -> list[str]:
        self.buffer += data
        lines = []
        while True:
            end = self.buffer.find(b"\n")
            if end < 0:
                if len(self.buffer) > MAX_LINE_BYTES:
                    if not self.skipping:
                        lines.append(self._cut(self.buffer[:MAX_LINE_BYTES]))
                    self.buffer, self.skipping = b"", True
                return lines
            line, self.buffer = self.buffer[:end], self.buffer[end + 1 :]
            if self.skipping:
                self.skipping = False
            elif len(line) > MAX_LINE_BYTES:
                lines.append(self._cut(line[:MAX_LINE_BYTES]))
            else:
                lines.append(line.decode("utf-8", errors="replace").rstrip("\r"))

    def rest(self) -> list[str]:
        """The last line when it has no newline (a writer cut off mid-line)."""
        rest, self.buffer = self.buffer, b""
        return [] if self.skipping or not rest else [rest.decode("utf-8", errors="replace")]

    @staticmethod
    def _cut(line: bytes) -> str:
        return line.decode("utf-8", errors="replace") + f" … (line cut at {MAX_LINE_BYTES} bytes)"


class LogFile:
    """`[logging] file`: its rotated backups (oldest first) and then the file; `follow()` waits for more."""

    def __init__(self, path: Path, backups: int = 0):
        self.path, self.backups = path, backups
        self.handle: int | None = None  # the file as history() left it: follow() goes on from there
        self.lines = _Lines()

    def history(self, since: datetime | None = None) -> Iterator[Entry]:
        for number in range(self.backups, 0, -1):
            backup = self.path.with_name(f"{self.path.name}.{number}")
            try:
                if since is not None and datetime.fromtimestamp(backup.stat().st_mtime, UTC) < since:
                    continue  # its last line is older than --since
                with backup.open("rb") as old:
                    lines = _Lines()
                    while chunk := old.read(65536):
                        yield from map(parse_line, lines.feed(chunk))
                    yield from map(parse_line, lines.rest())
            except FileNotFoundError:
                continue
        try:
            self.handle = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return
        while chunk := os.read(self.handle, 65536):
            yield from map(parse_line, self.lines.feed(chunk))

    def last_line(self) -> Iterator[Entry]:
        """Without --follow: a last line with no newline, as it is."""
        yield from map(parse_line, self.lines.rest())

    def follow(self, stop: threading.Event) -> Iterator[Entry]:
        """Lines appended from here on, across rotations (the file renamed and a new one begun), until `stop`."""
        while not stop.is_set():
            if self.handle is None:
                try:
                    self.handle = os.open(self.path, os.O_RDONLY)
                except FileNotFoundError:
                    stop.wait(POLL_SECONDS)
                    continue
            chunk = os.read(self.handle, 65536)
            if chunk:
                yield from map(parse_line, self.lines.feed(chunk))
                continue
            if self._replaced():
                os.close(self.handle)  # its last lines are read: the new file starts from the beginning
                self.handle, self.lines = None, _Lines()
                continue
            stop.wait(POLL_SECONDS)

    def _replaced(self) -> bool:
        assert self.handle is not None
        try:
            now = self.path.stat()
        except FileNotFoundError:
            return True
        mine = os.fstat(self.handle)
        if now.st_ino != mine.st_ino or now.st_dev != mine.st_dev:
            return True
        if now.st_size < os.lseek(self.handle, 0, os.SEEK_CUR):  # truncated in place
            os.lseek(self.handle, 0, os.SEEK_SET)
        return False

    def close(self) -> None:
        if self.handle is not None:
            os.close(self.handle)
            self.handle = None


class Journal:
    """The unit's entries through `journalctl -o json`: of the running system, or of journal files (`files`)."""

    def __init__(self, unit: str, user: bool = False, files: list[Path] | None = None, journalctl: str = "journalctl"):
        self.unit, self.user, self.files, self.journalctl = unit, user, files or [], journalctl
        self.cursor: str | None = None  # the last entry history() read: follow() goes on after it
        self.started: datetime | None = None

    def _command(self, *extra: str) -> list[str]:
        where = [f"--file={path}" for path in self.files]
        unit = [f"--user-unit={self.unit}"] if self.user else [f"--unit={self.unit}"]
        # --all: fields over 4 KB come whole, not as null (a stream snapshot can be longer)
        return [self.journalctl, *where, *unit, "--output=json", "--all", "--no-pager", *extra]

    def history(self, since: datetime | None = None) -> Iterator[Entry]:
        self.started = datetime.now(UTC)
        extra = [f"--since=@{since.timestamp():.6f}"] if since else []
        yield from self._read(self._command(*extra), threading.Event())

    def last_line(self) -> Iterator[Entry]:
        return iter(())

    def follow(self, stop: threading.Event) -> Iterator[Entry]:
        if self.cursor:
            extra = [f"--after-cursor={self.cursor}"]
        else:  # nothing yet: from when history() looked on
            extra = [f"--since=@{(self.started or datetime.now(UTC)).timestamp():.6f}"]
        yield from self._read(self._command("--follow", "--lines=all", *extra), stop)

    def _read(self, command: list[str], stop: threading.Event) -> Iterator[Entry]:
        # journalctl's own complaints (no permission, no such file) go straight to our stderr.
        try:
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        except OSError as exc:
            raise JournalFailed(f"cannot run {command[0]} ({exc.strerror}): it comes with systemd") from None
        assert process.stdout is not None
        lines = _Lines()
        try:
            while not stop.is_set():
                ready, _, _ = select.select([process.stdout], [], [], POLL_SECONDS)
                if not ready:
                    continue
                chunk = os.read(process.stdout.fileno(), 65536)
                if not chunk:
                    break
                for line in lines.feed(chunk):
                    yield self._entry(line)
        finally:
            if process.poll() is None:
                process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            process.stdout.close()
        if process.returncode not in (0, -15) and not stop.is_set():
            raise JournalFailed(f"{' '.join(command[:1])} exited with {process.returncode} (its message is above)")

    def _entry(self, line: str) -> Entry:
        try:
            record = json.loads(line)
        except ValueError:
            return parse_line(line)
        if not isinstance(record, dict):
            return parse_line(line)
        if isinstance(record.get("__CURSOR"), str):
            self.cursor = record["__CURSOR"]
        message = record.get("MESSAGE")
        if isinstance(message, list):  # journalctl writes a field that is not clean text as its bytes
            message = bytes(b for b in message if isinstance(b, int) and 0 <= b < 256).decode("utf-8", "replace")
        if not isinstance(message, str):
            message = ""
        when = priority = None
        with contextlib.suppress(KeyError, TypeError, ValueError, OverflowError, OSError):
            stamped = datetime.fromtimestamp(int(record["__REALTIME_TIMESTAMP"]) / 1e6, UTC)
            stamped.astimezone()  # shown in local time
            when = stamped
        # What the process printed (stdout, stderr) has no graded priority: that of systemd's own lines does.
        if record.get("_TRANSPORT") != "stdout":
            with contextlib.suppress(KeyError, TypeError, ValueError):
                priority = int(record["PRIORITY"])
        return parse_line(message.rstrip("\n"), when, priority)


class JournalFailed(Exception):
    """journalctl could not read what was asked (its own message is on stderr)."""


class LogMissing(Exception):
    """Neither a journal nor a log file to read: the message says which was looked for and how to have one."""


def open_log(
    loaded: LoadedConfig, unit: str = UNIT, journal_files: list[Path] | None = None, file: Path | None = None
) -> tuple[Journal | LogFile, str]:
    """(where to read, a line naming it): journal files or a file if given, the unit's journal when it runs
    under systemd, else [logging] file. LogMissing says what is missing and how to enable one."""
    if journal_files:
        return Journal(unit, files=journal_files), f"journal files {', '.join(map(str, journal_files))}, unit {unit}"
    if file is not None:
        return LogFile(file), f"log file {file}"
    user = _loaded_unit(unit)
    if user is not None:
        return Journal(unit, user=user), f"the journal of {'user ' if user else ''}unit {unit}"
    settings = loaded.config.logging
    why_no_journal = (
        f"unit {unit} is not loaded (system or user: `systemctl status {unit}`)"
        if _systemd_runs()
        else f"this machine does not run systemd, so there is no journal of {unit}"
    )
    if not settings.file:
        raise LogMissing(
            f"no log to read: {why_no_journal}, and [logging] file is empty in {loaded.source}. Set "
            f'file = "var/log/installation.log" under [logging] and restart the daemon, or run it as a '
            f"systemd service (docs/technician.md, systemd)."
        )
    return LogFile(loaded.path(settings.file), settings.file_backups), f"[logging] file {loaded.path(settings.file)}"


def _systemd_runs() -> bool:
    return Path("/run/systemd/system").is_dir()  # as sd_booted(3) tells


def _loaded_unit(unit: str) -> bool | None:
    """False: a system unit of that name is loaded; True: a user unit; None: neither (or no systemd)."""
    if not _systemd_runs():
        return None
    for user in (False, True):
        try:
            shown = subprocess.run(
                ["systemctl", *(["--user"] if user else []), "show", "--property=LoadState", "--value", unit],
                capture_output=True,
                text=True,
                timeout=10,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        if shown.returncode == 0 and shown.stdout.strip() == "loaded":
            return user
    return None

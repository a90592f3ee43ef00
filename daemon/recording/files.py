"""Durable file writes: atomic replace for small files, an fsync'd append-only log for frames."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

__all__ = ["AppendLog", "write_atomic"]


def write_atomic(path: Path, data: bytes) -> None:
    """Write then rename, fsyncing file and folder: a power cut leaves the old or the new file."""
    partial = path.with_name(path.name + ".partial")
    with partial.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(path)
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class AppendLog:
    """JSON lines appended with one write() each, fsynced at most every `sync_seconds`.

    A SIGKILL loses nothing already written (the kernel has it); a power cut loses at most the
    last `sync_seconds`. A torn last line is possible only then, and readers skip it.
    """

    def __init__(self, path: Path, sync_seconds: float = 1.0):
        self.path = path
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.sync_seconds = sync_seconds
        self.last_sync = time.monotonic()
        if os.fstat(self.fd).st_size:
            self._end_torn_line()

    def _end_torn_line(self) -> None:
        # Appending after a torn line would glue a whole record to garbage: start a fresh line.
        with open(self.path, "rb") as handle:
            handle.seek(-1, os.SEEK_END)
            if handle.read(1) != b"\n":
                os.write(self.fd, b"\n")

    def append(self, record: dict) -> None:
        os.write(self.fd, (json.dumps(record, separators=(",", ":")) + "\n").encode())
        now = time.monotonic()
        if now - self.last_sync >= self.sync_seconds:
            os.fsync(self.fd)
            self.last_sync = now

    def close(self) -> None:
        if self.fd >= 0:
            os.fsync(self.fd)
            os.close(self.fd)
            self.fd = -1


def read_json_lines(path: Path) -> list[dict]:
    """Every whole record; a torn or garbled line (power cut, SIGKILL mid-write) is skipped."""
    records = []
    with path.open("rb") as handle:
        for line in handle:
            if not line.endswith(b"\n"):
                break
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                records.append(record)
    return records

"""Run history in SQLite: what ran when and how it ended, safe across power cuts (WAL, synchronous=FULL)."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

from daemon.recording.reader import Recording

__all__ = ["RunHistory"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    preset TEXT NOT NULL,
    started_unix_seconds REAL NOT NULL,
    ended_unix_seconds REAL,
    status TEXT NOT NULL,
    steps_done INTEGER NOT NULL DEFAULT 0,
    steps_total INTEGER NOT NULL DEFAULT 0,
    final_streams TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS runs_by_start ON runs (started_unix_seconds);
"""


class RunHistory:
    """One row per run, written when it starts and brought up to date from its recording when it ends.

    A run still `running` when the supervisor starts was cut off (power, kill -9): its row takes the
    status its recording shows (`interrupted`, with the steps it reached).
    """

    def __init__(self, path: Path, recordings: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.recordings = recordings
        self.lock = threading.Lock()  # the supervisor's loop writes, the HTTP thread reads
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)
        for (run_id,) in self.db.execute("SELECT run_id FROM runs WHERE status = 'running'").fetchall():
            self.ended(run_id)

    def started(self, run_id: str, preset: str) -> None:
        with self.lock:
            self.db.execute(
                "INSERT OR IGNORE INTO runs (run_id, preset, started_unix_seconds, status) VALUES (?, ?, ?, 'running')",
                (run_id, preset, time.time()),
            )

    def ended(self, run_id: str) -> None:
        """Copy the run's end from its recording's summary (completed, stopped, failed, interrupted)."""
        recording = Recording(self.recordings / run_id)
        summary = recording.summary()
        status = recording.status if summary.get("status") != "unreadable" else "interrupted"
        with self.lock:
            self.db.execute(
                "UPDATE runs SET ended_unix_seconds = ?, status = ?, steps_done = ?, steps_total = ?, "
                "final_streams = ? WHERE run_id = ?",
                (
                    summary.get("ended_unix_seconds") or time.time(),
                    status,
                    recording.steps_done,
                    summary.get("steps_total", 0),
                    json.dumps(summary.get("last_streams", {})),
                    run_id,
                ),
            )

    def runs(self, limit: int = 100) -> list[dict]:
        """The latest runs, newest first."""
        with self.lock:
            cursor = self.db.execute("SELECT * FROM runs ORDER BY started_unix_seconds DESC LIMIT ?", (limit,))
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row, strict=False)) for row in cursor.fetchall()]

    def close(self) -> None:
        self.db.close()

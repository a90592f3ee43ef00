"""Reading recordings back: listing runs, loading a run's frames and grids."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from daemon.metrics import MetricFrame
from daemon.recording.files import read_json_lines
from daemon.recording.recorder import FRAMES_FILE, PICTURE_FOLDERS, SUMMARY_FILE

__all__ = ["Recording", "list_recordings"]


@dataclass(frozen=True)
class Recording:
    """One recorded run on disk.

    With `run_seconds`, its frames are re-timed as if the run had lasted that long, steps evenly
    spread (step k of n at k/n × run_seconds): a flat-out trial played or rendered at the pace
    the gallery gives it (its preset's duration_seconds), or at any other. `at_pace()` makes one.
    """

    folder: Path
    run_seconds: float | None = None

    def at_pace(self, run_seconds: float | None) -> Recording:
        return Recording(self.folder, run_seconds)

    @property
    def run_id(self) -> str:
        return self.folder.name

    def summary(self) -> dict:
        try:
            return json.loads((self.folder / SUMMARY_FILE).read_text())
        except (OSError, ValueError):
            return {"run_id": self.run_id, "status": "unreadable"}

    @property
    def status(self) -> str:
        """completed / stopped / failed, or `interrupted` for a run whose process died mid-way."""
        status = self.summary().get("status", "unreadable")
        return "interrupted" if status == "running" else status

    @property
    def steps_done(self) -> int:
        """Steps the run reached: its summary's, or for an interrupted run the last whole frame on disk.

        A process killed mid-run leaves a summary as old as its last write; the frames file is
        appended step by step, so its last whole record is how far the run really got.
        """
        summary = self.summary()
        if self.status != "interrupted" and "steps_done" in summary:
            return int(summary["steps_done"])
        records = self.records()
        return int(records[-1].get("step", 0)) if records else 0

    def records(self) -> list[dict]:
        return read_json_lines(self.folder / FRAMES_FILE)

    def frames(self, with_grids: bool = True) -> Iterator[MetricFrame]:
        """Every whole frame, in order, each with its grid and insides mosaic when they were saved."""
        records = self.records()
        # Re-timed by the steps the run ended planning: a run fitted to a slow machine mid-way keeps its order.
        steps = records[-1].get("steps_total") if records else None
        steps = steps if type(steps) is int and steps > 0 else None
        for record in records:
            names = {picture: record.pop(f"{picture}_png", None) for picture in PICTURE_FOLDERS}
            pictures = {p: self._picture(name) for p, name in names.items() if name} if with_grids else {}
            if self.run_seconds is not None and steps:
                record["elapsed_seconds"] = record["step"] / steps * self.run_seconds
            yield MetricFrame.from_record(record, **pictures)

    def _picture(self, name: str) -> np.ndarray | None:
        try:
            with Image.open(self.folder / name) as image:
                return np.asarray(image.convert("L"))
        except OSError:
            return None  # a picture lost to a power cut is skipped; its frame still plays

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.folder.rglob("*") if p.is_file())


def list_recordings(root: Path) -> list[Recording]:
    """Every run folder under `root`, oldest first (run ids start with their UTC start time)."""
    if not root.is_dir():
        return []
    return [Recording(p) for p in sorted(root.iterdir()) if (p / FRAMES_FILE).exists()]

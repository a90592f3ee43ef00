"""Recording a run as it trains: frames.jsonl, grids/ and insides/ PNGs, summary.json, one folder per run."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from daemon.metrics import MetricFrame
from daemon.recording.files import AppendLog, write_atomic

if TYPE_CHECKING:  # the trainer imports torch; readers of recordings (supervisor, sound, image) need not
    from daemon.gan.trainer import RunSpec

__all__ = ["FRAMES_FILE", "PICTURE_FOLDERS", "SUMMARY_FILE", "Recorder"]

FRAMES_FILE = "frames.jsonl"
SUMMARY_FILE = "summary.json"
PICTURE_FOLDERS = {"grid": "grids", "insides": "insides"}  # frame field → folder of step-NNNNNNN.png
SUMMARY_EVERY_SECONDS = 10.0


def picture_file_name(picture: str, step: int) -> str:
    return f"{PICTURE_FOLDERS[picture]}/step-{step:07d}.png"


def save_png(path: Path, grid: np.ndarray) -> None:
    partial = path.with_name(path.name + ".partial.png")
    Image.fromarray(grid).save(partial, optimize=False, compress_level=1)
    partial.replace(path)


class Recorder:
    """A frame sink: appends every frame, saves every grid and insides mosaic, keeps summary.json current."""

    def __init__(self, root: Path, spec: RunSpec, device: str):
        self.folder = root / spec.run_id
        for folder in PICTURE_FOLDERS.values():
            (self.folder / folder).mkdir(parents=True, exist_ok=True)
        self.log = AppendLog(self.folder / FRAMES_FILE)
        self.summary = {
            "run_id": spec.run_id,
            "preset": spec.preset_name,
            "settings": spec.preset.model_dump(),
            "seed": spec.seed,
            "steps_total": spec.steps,
            "device": device,
            "status": "running",
            "started_unix_seconds": time.time(),
            "ended_unix_seconds": None,
            "steps_done": 0,
            "last_streams": {},
        }
        self.last_frame: MetricFrame | None = None
        self._write_summary()

    def on_frame(self, frame: MetricFrame) -> None:
        record = frame.to_record()
        for picture in PICTURE_FOLDERS:
            image = getattr(frame, picture)
            if image is not None:
                name = picture_file_name(picture, frame.step)
                save_png(self.folder / name, image)
                record[f"{picture}_png"] = name
        self.log.append(record)
        self.last_frame = frame
        if time.monotonic() - self.summary_written >= SUMMARY_EVERY_SECONDS:
            self._write_summary()

    def planned(self, steps: int) -> None:
        """The run was fitted to the machine: `steps_total` is the steps it now plans, not the preset's."""
        self.summary["steps_total"] = steps

    def close(self, status: str = "completed") -> dict:
        """Finish the run: `completed`, `stopped` (asked to) or `failed`."""
        self.log.close()
        self.summary.update(status=status, ended_unix_seconds=time.time())
        self._write_summary()
        return self.summary

    def _write_summary(self) -> None:
        # Kept current every few seconds, so an interrupted run's summary says how far it got.
        if self.last_frame is not None:
            streams = self.last_frame.streams()
            self.summary["steps_done"] = self.last_frame.step
            self.summary["last_streams"] = {k: (None if math.isnan(v) else v) for k, v in streams.items()}
        write_atomic(self.folder / SUMMARY_FILE, json.dumps(self.summary, indent=2).encode())
        self.summary_written = time.monotonic()

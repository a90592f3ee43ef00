"""Keeping recordings within the configured count and disk budget, oldest first."""

from __future__ import annotations

import shutil
from pathlib import Path

from daemon.logs import get_logger
from daemon.recording.reader import list_recordings

__all__ = ["prune"]


def prune(root: Path, keep_count: int, keep_megabytes: int, protect: str | None = None) -> list[str]:
    """Delete the oldest runs until both limits hold; never the run named `protect`. Returns deleted ids."""
    runs = list_recordings(root)
    sizes = {r.run_id: r.size_bytes() for r in runs}
    total = sum(sizes.values())
    budget = keep_megabytes * 1024 * 1024
    deleted: list[str] = []
    for run in runs:
        if len(runs) - len(deleted) <= keep_count and total <= budget:
            break
        if run.run_id == protect:
            continue
        shutil.rmtree(run.folder, ignore_errors=True)
        total -= sizes[run.run_id]
        deleted.append(run.run_id)
    if deleted:
        get_logger("recording").info("recordings_pruned", deleted=deleted, kept_bytes=total)
    return deleted

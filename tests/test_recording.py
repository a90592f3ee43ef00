"""Recordings: every frame on disk as it trains, readable after SIGKILL, replayable, pruned."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from PIL import Image

from daemon.recording.contact_sheet import contact_sheet
from daemon.recording.files import AppendLog, read_json_lines
from daemon.recording.prune import prune
from daemon.recording.reader import Recording, list_recordings
from daemon.runs import Instrument
from daemon.streams import Replay
from tests.conftest import REPO


def test_live_run_records_frames_grids_and_summary(loaded):
    run = Instrument(loaded).start("healthy", seed=3, steps=30, flat_out=True)
    live = list(run)
    recording = Recording(run.folder)
    assert recording.status == "completed"
    replayed = list(Replay(recording, speed=None))
    assert [f.step for f in replayed] == list(range(1, 31))
    for played, trained in zip(replayed, live, strict=True):
        assert played.streams() == pytest.approx(trained.streams(), nan_ok=True)
    grids = [f.step for f in replayed if f.grid is not None]
    assert grids == [1, 25, 30]
    assert (replayed[-1].grid == live[-1].grid).all()
    # At the gallery's pace: a flat-out trial re-timed to its preset's duration, steps evenly spread.
    paced = list(recording.at_pace(loaded.config.runs["healthy"].duration_seconds).frames(with_grids=False))
    assert [f.elapsed_seconds for f in paced] == pytest.approx([k / 30 * 240.0 for k in range(1, 31)])
    assert paced[-1].streams() == pytest.approx(live[-1].streams(), nan_ok=True)
    assert [f.step for f in replayed if f.insides is not None] == grids
    assert (replayed[-1].insides == live[-1].insides).all()
    summary = recording.summary()
    assert summary["steps_done"] == 30 and summary["seed"] == 3 and summary["settings"]["latent_size"] == 100
    sheet = Image.open(contact_sheet(recording, run.folder / "contact.png"))
    assert sheet.width == 3 * live[-1].grid.shape[1]


def test_stopping_a_run_midway_records_it_as_stopped(loaded):
    run = Instrument(loaded).start("random", seed=1, steps=50, flat_out=True)
    frames = iter(run)
    for _ in range(5):
        next(frames)
    frames.close()
    assert Recording(run.folder).status == "stopped"
    assert len(Recording(run.folder).records()) == 5


def test_replay_at_real_pace_follows_recorded_times(loaded):
    run = Instrument(loaded).start("random", seed=1, steps=10, flat_out=True)
    recorded = list(run)
    now = [0.0]
    replay = Replay(
        Recording(run.folder), speed=2.0, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s)
    )
    for frame in replay:
        assert now[0] == pytest.approx(frame.elapsed_seconds / 2.0)
    assert now[0] == pytest.approx(recorded[-1].elapsed_seconds / 2.0)


def test_torn_last_line_is_skipped_and_appending_starts_a_fresh_line(tmp_path):
    path = tmp_path / "frames.jsonl"
    log = AppendLog(path)
    log.append({"step": 1})
    log.close()
    with path.open("ab") as handle:
        handle.write(b'{"step": 2, "loss')  # a power cut mid-line
    assert read_json_lines(path) == [{"step": 1}]
    log = AppendLog(path)
    log.append({"step": 3})
    log.close()
    assert read_json_lines(path) == [{"step": 1}, {"step": 3}]


def test_sigkill_mid_run_leaves_every_whole_frame_readable(loaded):
    """A real child process trains and records; SIGKILL lands while it writes."""
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "daemon",
            "trial",
            "healthy",
            "--steps",
            "100000",
            "--flat-out",
            "--config",
            loaded.source,
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 180
        frames_file = None
        while time.monotonic() < deadline:
            runs = list_recordings(loaded.recordings_path)
            frames_file = runs[0].folder / "frames.jsonl" if runs else None
            if frames_file and frames_file.stat().st_size > 20_000:
                break
            assert child.poll() is None, child.stderr.read().decode()
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    recording = list_recordings(loaded.recordings_path)[0]
    records = recording.records()
    assert len(records) >= 5
    assert [r["step"] for r in records] == list(range(1, len(records) + 1))
    assert recording.status == "interrupted"
    # Everything the reader returned is a whole frame; at most one torn line follows it.
    lines = frames_file.read_bytes().split(b"\n")
    assert len(lines) - 1 in (len(records), len(records) + 1) or lines[-1] != b""
    for line in lines[:-1][: len(records)]:
        json.loads(line)


def test_prune_keeps_count_and_budget_and_spares_the_current_run(tmp_path):
    for index in range(5):
        folder = tmp_path / f"2026010{index}T000000Z-healthy-s1"
        folder.mkdir()
        (folder / "frames.jsonl").write_bytes(b"x" * 400_000)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert prune(tmp_path, keep_count=3, keep_megabytes=1000) == names[:2]
    # 3 runs × 0.4 MB > 1 MB: the oldest goes, unless it is the current run.
    assert prune(tmp_path, keep_count=10, keep_megabytes=1, protect=names[2]) == [names[3]]
    assert sorted(p.name for p in tmp_path.iterdir()) == [names[2], names[4]]

"""The technician's and artist's commands, run as real child processes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

from PIL import Image

from daemon.recording.reader import list_recordings
from tests.conftest import REPO, run_cli


def test_trial_records_a_run_and_a_contact_sheet_then_runs_lists_it(loaded):
    result = run_cli("trial", "underfit", "--steps", "30", "--seed", "4", "--flat-out", "--config", loaded.source)
    assert result.returncode == 0, result.stderr
    [recording] = list_recordings(loaded.recordings_path)
    assert recording.run_id.endswith("-underfit-s4")
    assert Image.open(recording.folder / "contact-sheet.png").height > 242
    assert len(recording.records()) == 30
    listing = run_cli("runs", "--config", loaded.source)
    assert recording.run_id in listing.stdout and "completed" in listing.stdout and "30/30" in listing.stdout


def test_trial_of_an_unknown_preset_suggests_one(loaded):
    result = run_cli("trial", "helthy", "--config", loaded.source)
    assert result.returncode == 2 and "Did you mean 'healthy'?" in result.stderr


def test_run_cycles_presets_logs_json_and_stops_cleanly_on_sigterm(loaded):
    """The installation's run command, paced as configured, stopped the way systemd stops it."""
    child = subprocess.Popen(
        [sys.executable, "-m", "daemon", "run", "--config", loaded.source],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not list_recordings(loaded.recordings_path):
            time.sleep(0.2)
        time.sleep(2.0)
        child.send_signal(signal.SIGTERM)
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, err
    events = [json.loads(line) for line in out.splitlines()]  # stdout is a pipe: JSON lines only
    names = [e["event"] for e in events if e["component"] == "trainer"]  # the trainer child's
    assert names[0] == "run_started" and names[-1] == "run_ended"
    supervisor = [e["event"] for e in events if e["component"] == "supervisor"]
    assert supervisor[0] == "supervisor_started" and supervisor[-1] == "supervisor_stopped"
    [playing] = [e for e in events if e["event"] == "programme_playing"]  # what the clock's plan says
    [run] = list_recordings(loaded.recordings_path)
    assert run.run_id.split("-")[1] == playing["preset"] and run.status == "stopped"
    assert all({"time", "level", "event", "component"} <= e.keys() for e in events)


def test_run_plays_the_cycle_in_order(tmp_path, mnist_root, classifier_file):
    config = tmp_path / "installation.toml"
    config.write_text(
        f'[data]\nmnist_path = "{mnist_root}"\nclassifier_path = "{classifier_file}"\n'
        '[cycle]\npresets = ["random", "underfit", "random"]\n'
        "[runs.random]\nsteps = 3\nlr_generator = 0.0\n[runs.underfit]\nsteps = 2\noutput_blur_sigma_pixels = 1.5\n"
    )
    result = run_cli("run", "--runs", "4", "--flat-out", "--config", str(config), env={"PYTHONUNBUFFERED": "1"})
    assert result.returncode == 0, result.stderr
    runs = list_recordings(tmp_path / "var" / "recordings")
    assert [r.run_id.split("-")[1] for r in runs] == ["random", "underfit", "random", "random"]
    assert all(r.status == "completed" for r in runs)


def test_a_folder_that_is_no_recording_is_named_once_with_what_a_recording_holds(tmp_path):
    for command in ("render-audio", "render-video", "play"):
        extra = ["--out", str(tmp_path / "out.x")] if command.startswith("render") else []
        done = run_cli(command, str(tmp_path), *extra)
        assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr
        assert f"no recording at {tmp_path} (a folder with frames.jsonl" in done.stderr, done.stderr


def test_a_recording_without_a_frame_is_said_so_not_a_traceback(tmp_path):
    run = tmp_path / "20261207T000000.000Z-healthy-s1"
    run.mkdir()
    (run / "frames.jsonl").write_text("")
    for command in ("render-audio", "render-video", "render", "play"):
        extra = ["--out", str(tmp_path / f"out-{command}.mp4")] if command.startswith("render") else []
        done = run_cli(command, str(run), *extra)
        assert done.returncode == 3 and "Traceback" not in done.stderr, (command, done.stderr)
        assert "holds no frames" in done.stderr, (command, done.stderr)

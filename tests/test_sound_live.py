"""The real-time path: a real JACK server (dummy backend, 8 channels), the engine through sounddevice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from daemon.recording.reader import list_recordings
from daemon.testing import JackRecorder, config_for, jack_dummy_server
from tests.conftest import REPO, run_cli

CHANNELS = 8


@pytest.fixture
def jack():
    with jack_dummy_server(CHANNELS) as env:
        recorder = JackRecorder(env["JACK_DEFAULT_SERVER"], CHANNELS)
        try:
            yield env, recorder
        finally:
            recorder.close()


def start(args: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "daemon", *args],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(child: subprocess.Popen) -> tuple[str, str]:
    """SIGTERM (as systemd does), then collect; the child must leave JACK before the server goes."""
    if child.poll() is None:
        child.send_signal(signal.SIGTERM)
    try:
        return child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()


def play_on_every_port(run, config: str, client: str, env: dict, recorder) -> str:
    """`play` a recorded run, capture 4 s of `client`'s ports: every port sounds, none above the ceiling."""
    child = start(["play", str(run.folder), "--config", config], env)
    try:
        recorder.connect_from(client)
        captured = recorder.record(4.0)
    finally:
        out, err = stop(child)
    assert child.returncode == 0, err
    rms = np.sqrt((captured[len(captured) // 2 :] ** 2).mean(axis=0))
    assert (rms > 1e-3).all(), rms
    assert np.abs(captured).max() <= 10 ** (run.loaded.config.audio.ceiling_dbfs / 20) + 1e-6
    return out


def test_devices_lists_jack_with_its_channels(jack):
    env, _ = jack
    result = run_cli("devices", env=env)
    assert result.returncode == 0, result.stderr
    assert "JACK" in result.stdout and f"{CHANNELS} output channels" in result.stdout


def test_a_recording_plays_on_every_jack_channel(jack, short_runs):
    env, recorder = jack
    run = short_runs["healthy"]
    out = play_on_every_port(run, run.loaded.source, "PortAudio", env, recorder)
    assert '"sound_started"' in out


def test_speaker_test_plays_channel_k_only_on_port_k(jack, loaded):
    env, recorder = jack
    child = start(["speaker-test", "--seconds-per-channel", "0.5", "--rounds", "3", "--config", loaded.source], env)
    try:
        recorder.connect_from("PortAudio")
        captured = recorder.record(5.0)  # more than one round of 8 × 0.5 s, wherever it starts
    finally:
        out, _ = stop(child)
    # Slice the capture into 50 ms windows: in each, at most one channel may be loud.
    windows = captured[: len(captured) // 2400 * 2400].reshape(-1, 2400, CHANNELS)
    energy = np.sqrt((windows**2).mean(axis=1))
    loud = energy > 0.01
    assert loud.sum(axis=1).max() <= 1, "two channels loud at once"
    assert set(np.flatnonzero(loud.any(axis=0))) == set(range(CHANNELS)), loud.any(axis=0)
    assert "channel 1 of 8 playing" in out


def test_a_missing_device_names_the_devices_there_are(jack, loaded, tmp_path):
    env, _ = jack
    config = tmp_path / "installation.toml"
    config.write_text(Path(loaded.source).read_text() + '\n[audio]\ndevice = "Focusrite"\n')
    result = run_cli("speaker-test", "--config", str(config), env=env)
    assert result.returncode == 3
    assert 'no output device matches [audio] device = "Focusrite"' in result.stderr
    assert "system (JACK Audio Connection Kit, 8 ch)" in result.stderr and "Traceback" not in result.stderr


def test_run_plays_training_into_jack_and_without_a_device_keeps_training(jack, tmp_path, mnist_root, classifier_file):
    env, recorder = jack
    loaded = config_for(
        tmp_path,
        mnist_root,
        classifier_file,
        '[cycle]\npresets = ["random"]\n[runs.random]\nsteps = 400\nlr_generator = 0.0\n'
        "duration_seconds = 60.0\n[audio]\nrun_fade_out_seconds = 0.5\n",
    )
    child = start(["run", "--config", loaded.source], env)
    try:
        recorder.connect_from("PortAudio", timeout_seconds=120)
        deadline = time.monotonic() + 120
        while not list_recordings(loaded.recordings_path) and time.monotonic() < deadline:
            time.sleep(0.2)  # the trainer child is still loading MNIST and the classifier
        captured = recorder.record(3.0)
    finally:
        out, err = stop(child)
    assert child.returncode == 0, err
    assert (np.sqrt((captured[-48_000:] ** 2).mean(axis=0)) > 1e-4).all()
    assert '"sound_started"' in out and '"run_started"' in out
    # No JACK server and no sound card: the sound is missing, the trainer still plays.
    lonely = start(
        ["run", "--runs", "1", "--flat-out", "--config", loaded.source],
        {"JACK_DEFAULT_SERVER": "nobody-here", "JACK_NO_START_SERVER": "1"},
    )
    out, err = lonely.communicate(timeout=300)
    assert lonely.returncode == 0, err
    assert '"sound_unavailable"' in out and '"run_ended"' in out


def test_the_jack_route_plays_every_channel_through_pyos_own_client(jack, short_runs, tmp_path):
    env, recorder = jack
    run = short_runs["collapsed"]
    config = tmp_path / "installation.toml"
    config.write_text(Path(run.loaded.source).read_text() + '\n[audio]\nroute = "jack"\n')
    out = play_on_every_port(run, str(config), "twos-and-sevens", env, recorder)
    assert '"route": "jack"' in out and "system:playback_8" in out  # wired to the speakers as well


def test_the_jack_route_names_the_ports_when_too_few_match(jack, short_runs, tmp_path):
    env, _ = jack
    run = short_runs["random"]
    config = tmp_path / "installation.toml"
    config.write_text(Path(run.loaded.source).read_text() + '\n[audio]\nroute = "jack"\nchannels = 12\n')
    result = run_cli("play", str(run.folder), "--config", str(config), env=env)
    assert result.returncode == 3, result.stderr
    assert "[audio] channels = 12, but only 8 JACK ports match" in result.stderr
    assert "system:playback_1" in result.stderr and "Traceback" not in result.stderr

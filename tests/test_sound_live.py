"""The real-time path: a real JACK server (dummy backend, 8 channels), the engine through sounddevice."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jack as jack_module
import numpy as np
import pytest

from daemon.recording.reader import list_recordings
from daemon.sound.devices import DeviceMissing, JackPatchbay
from daemon.testing import JackRecorder, config_for, jack_dummy_server
from tests.conftest import REPO, run_cli

CHANNELS = 8
PLAYBACK = [f"system:playback_{k + 1}" for k in range(CHANNELS)]


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


def play_on_every_port(run, config: str, env: dict, recorder) -> tuple[str, list[list[str]]]:
    """`play` a recorded run, capture 4 s of what reaches system:playback_1…8 (not what a client
    offers: issue 11): every port sounds, the channels differ, none above the ceiling.

    Returns the log and, for each playback port, the ports feeding it.
    """
    child = start(["play", str(run.folder), "--config", config], env)
    try:
        feeders = recorder.connect_to_playback(PLAYBACK)
        captured = recorder.record(4.0)
    finally:
        out, err = stop(child)
    assert child.returncode == 0, err
    tail = captured[len(captured) // 2 :]
    rms = np.sqrt((tail**2).mean(axis=0))
    assert (rms > 1e-3).all(), rms
    for i in range(CHANNELS):  # a ring of speakers, not one signal copied eight times
        for j in range(i):
            assert np.abs(tail[:, i] - tail[:, j]).max() > 1e-4, (i, j)
    assert np.abs(captured).max() <= 10 ** (run.loaded.config.audio.ceiling_dbfs / 20) + 1e-6
    return out, feeders


def test_devices_lists_jack_with_its_channels(jack):
    env, _ = jack
    result = run_cli("devices", env=env)
    assert result.returncode == 0, result.stderr
    assert "JACK" in result.stdout and f"{CHANNELS} output channels" in result.stdout


def test_a_recording_plays_on_every_jack_channel(jack, short_runs):
    env, recorder = jack
    run = short_runs["healthy"]
    out, feeders = play_on_every_port(run, run.loaded.source, env, recorder)
    assert '"sound_started"' in out
    assert all(len(fed) == 1 and fed[0].startswith("PortAudio") for fed in feeders), feeders


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


def test_speaker_test_plays_through_the_jack_route_as_the_guide_writes_it(jack, tmp_path):
    env, recorder = jack
    config = tmp_path / "installation.toml"
    config.write_text('[audio]\nroute = "jack"\ndevice = "system:playback_"\nchannels = 8\n')
    child = start(["speaker-test", "--seconds-per-channel", "0.4", "--rounds", "2", "--config", str(config)], env)
    try:
        feeders = recorder.connect_to_playback(PLAYBACK)  # what reaches the speakers, port by port
        captured = recorder.record(4.0)
    finally:
        out, err = stop(child)
    assert feeders == [[f"twos-and-sevens-speaker-test:out_{k + 1}"] for k in range(CHANNELS)]
    windows = captured[: len(captured) // 2400 * 2400].reshape(-1, 2400, CHANNELS)
    loud = np.sqrt((windows**2).mean(axis=1)) > 0.01
    assert loud.sum(axis=1).max() <= 1, "two channels loud at once"
    order = [int(np.flatnonzero(row)[0]) for row in loud if row.any()]
    firsts = [channel for k, channel in enumerate(order) if k == 0 or channel != order[k - 1]]
    assert set(firsts) == set(range(CHANNELS)), firsts
    assert all((b - a) % CHANNELS == 1 for a, b in itertools.pairwise(firsts)), firsts  # port k plays burst k, in turn
    assert 'route "jack"' in out and "channel 1 of 8 playing" in out and "no output device" not in err


def test_speaker_test_on_the_jack_route_names_the_ports_there_are(jack, tmp_path):
    env, _ = jack
    config = tmp_path / "installation.toml"
    config.write_text('[audio]\nroute = "jack"\ndevice = "system:playback_"\nchannels = 12\n')
    result = run_cli("speaker-test", "--config", str(config), env=env)
    assert result.returncode == 3 and "only 8 JACK ports match" in result.stderr, result.stderr
    assert "system:playback_8" in result.stderr and "Traceback" not in result.stderr


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
    # A short run: what is tested is that it plays to its end without sound, not how long it is.
    (tmp_path / "lonely").mkdir()
    lonely_config = config_for(
        tmp_path / "lonely",
        mnist_root,
        classifier_file,
        '[cycle]\npresets = ["random"]\n[runs.random]\nsteps = 60\nlr_generator = 0.0\nduration_seconds = 60.0\n',
    )
    lonely = start(
        ["run", "--runs", "1", "--flat-out", "--config", lonely_config.source],
        {"JACK_DEFAULT_SERVER": "nobody-here", "JACK_NO_START_SERVER": "1"},
    )
    out, err = lonely.communicate(timeout=300)
    assert lonely.returncode == 0, err
    assert '"sound_unavailable"' in out and '"run_ended"' in out


def jack_config(run, tmp_path, extra: str = "") -> str:
    config = tmp_path / "installation.toml"
    config.write_text(Path(run.loaded.source).read_text() + f'\n[audio]\nroute = "jack"\n{extra}')
    return str(config)


def sound_started(out: str) -> dict:
    return next(json.loads(line) for line in out.splitlines() if '"sound_started"' in line)


def test_the_jack_route_plays_every_channel_into_the_playback_ports(jack, short_runs, tmp_path):
    env, recorder = jack
    run = short_runs["collapsed"]
    out, feeders = play_on_every_port(run, jack_config(run, tmp_path), env, recorder)
    assert feeders == [[f"twos-and-sevens:output_{k + 1}"] for k in range(CHANNELS)]  # pyo's client, port k to k
    started = sound_started(out)
    assert started["route"] == "jack" and started["device"] == PLAYBACK  # the ports it did connect
    assert "auto-connect" not in out  # pyo's own auto-connect is off (it failed silently: issue 11)


def test_the_jack_route_on_6_channels_wires_6_of_the_8_ports(jack, short_runs, tmp_path):
    env, recorder = jack
    run = short_runs["random"]
    child = start(["play", str(run.folder), "--config", jack_config(run, tmp_path, "channels = 6\n")], env)
    try:
        feeders = recorder.connect_to_playback(PLAYBACK[:6])
        unfed = [
            [p.name for p in recorder.client.get_all_connections(recorder.client.get_port_by_name(port))]
            for port in PLAYBACK[6:]
        ]
        captured = recorder.record(2.0)
    finally:
        out, err = stop(child)
    assert child.returncode == 0, err
    assert feeders == [[f"twos-and-sevens:output_{k + 1}"] for k in range(6)] and unfed == [[], []]
    assert (np.sqrt((captured[len(captured) // 2 :, :6] ** 2).mean(axis=0)) > 1e-4).all()
    assert sound_started(out)["device"] == PLAYBACK[:6]


def test_a_jack_wiring_failure_is_a_missing_device_not_silence(jack, short_runs, tmp_path):
    env, _ = jack
    run = short_runs["random"]
    # Another client already holds the name: JACK renames pyo's, and twos-and-sevens:output_k do not exist.
    squatter = jack_module.Client("twos-and-sevens", servername=env["JACK_DEFAULT_SERVER"], no_start_server=True)
    try:
        result = run_cli("play", str(run.folder), "--config", jack_config(run, tmp_path), env=env)
    finally:
        squatter.close()
    assert result.returncode == 3, result.stderr
    assert "could not wire the JACK ports: twos-and-sevens:output_1 -> system:playback_1" in result.stderr
    assert "Fix:" in result.stderr and "Traceback" not in result.stderr
    assert '"sound_started"' not in result.stdout


def test_the_patchbay_refuses_a_port_that_is_not_there_and_counts_xruns(jack, monkeypatch):
    env, _ = jack
    monkeypatch.setenv("JACK_DEFAULT_SERVER", env["JACK_DEFAULT_SERVER"])
    patchbay = JackPatchbay()
    try:
        source = "tas-recorder:in_1"  # an input: it can feed nothing
        with pytest.raises(DeviceMissing, match="could not wire the JACK ports: tas-recorder:in_1 -> nowhere:1"):
            patchbay.wire([source], ["nowhere:1"])
        # A client that overruns its period makes the server xrun; every client hears of it.
        hog = jack_module.Client("tas-hog", servername=env["JACK_DEFAULT_SERVER"], no_start_server=True)
        hog.set_process_callback(lambda frames: time.sleep(0.05))
        hog.activate()
        deadline = time.monotonic() + 10
        while patchbay.xruns < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        hog.deactivate()
        hog.close()
        assert patchbay.xruns >= 2
    finally:
        patchbay.close()


def test_the_jack_route_names_the_ports_when_too_few_match(jack, short_runs, tmp_path):
    env, _ = jack
    run = short_runs["random"]
    config = tmp_path / "installation.toml"
    config.write_text(Path(run.loaded.source).read_text() + '\n[audio]\nroute = "jack"\nchannels = 12\n')
    result = run_cli("play", str(run.folder), "--config", str(config), env=env)
    assert result.returncode == 3, result.stderr
    assert "[audio] channels = 12, but only 8 JACK ports match" in result.stderr
    assert "system:playback_1" in result.stderr and "Traceback" not in result.stderr

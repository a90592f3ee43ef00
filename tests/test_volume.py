"""The technician's volume: a trim in dB over the whole output or one speaker, bounded, glided, kept."""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from daemon.config import LoadedConfig, parse
from daemon.schedule.programme import Programme
from daemon.sound.engine import SoundEngine
from daemon.sound.master import db_to_gain
from daemon.sound.server import ManualServer
from daemon.sound.speaker_test import Bursts
from daemon.sound.trim import Trims, check_trim
from daemon.targets import SOUND_PARAMETERS
from daemon.testing import JackRecorder, RunningDaemon, config_for, jack_dummy_server
from tests.conftest import run_cli
from tests.test_supervision import SHORT_CYCLE

SR = 48_000
LEVELS = [name for name in SOUND_PARAMETERS if name.endswith(".level")]
# Noise alone at a steady level, the master well under its cap: a trim is then all that moves the level.
STEADY = dict.fromkeys(LEVELS, 0.0) | {"sound.noise.level": 0.6, "sound.master.gain": 0.5, "sound.overdrive.drive": 0.0}


def rms_db(block: np.ndarray) -> np.ndarray:
    return 20 * np.log10(np.sqrt((block.astype(np.float64) ** 2).mean(axis=0)) + 1e-12)


class Engine:
    """The real engine on pyo's manual server, 8 speakers, faded in at once."""

    def __init__(self, values: dict[str, float], audio_toml: str = ""):
        config = parse("[audio]\nstartup_ramp_seconds = 0.0\n" + audio_toml)
        self.ceiling = db_to_gain(config.audio.ceiling_dbfs)
        self.server = ManualServer(8, SR, 1024, 1)
        self.engine = SoundEngine(config.audio, config.space, config.digits, 8, SR, Path("."))
        self.engine.set(values)
        self.engine.fade_to(1.0, 0.0)
        self.play(1.0)

    def play(self, seconds: float) -> np.ndarray:
        return np.concatenate([self.server.block().copy() for _ in range(int(seconds * SR / 1024))])

    def close(self) -> None:
        self.server.close()


@pytest.mark.parametrize(("whole", "speaker", "speaker_db"), [(-6.0, None, 0.0), (-12.0, 3, -10.0), (0.0, 8, -3.0)])
def test_a_trim_moves_each_speaker_by_its_db(whole, speaker, speaker_db):
    engine = Engine(STEADY)
    try:
        before = rms_db(engine.play(1.0))
        trims = Trims().set(whole, None)
        if speaker is not None:
            trims = trims.set(speaker_db, speaker)
        engine.engine.trim(trims.gains(8))
        engine.play(0.5)  # the glide
        after = rms_db(engine.play(1.0))
    finally:
        engine.close()
    moved = after - before
    expected = np.full(8, whole) + np.array([speaker_db if n + 1 == speaker else 0.0 for n in range(8)])
    # The noise drifts slowly by itself (a few tenths of a dB): speaker against speaker is exact.
    assert np.abs(moved - expected).max() < 0.8, moved
    assert np.abs((after - after.mean()) - (expected - expected.mean())).max() < 0.1, after


def test_the_ceiling_and_max_gain_hold_with_the_highest_trim_and_a_hot_mapping():
    full = {name: p.high for name, p in SOUND_PARAMETERS.items() if name.endswith(("level", "gain"))}
    full["sound.overdrive.drive"] = 0.99
    engine = Engine(full, "max_gain_db = 12.0\ntrim_max_db = 24.0\n")
    try:
        untrimmed = engine.play(2.0)
        engine.engine.trim(Trims(24.0).gains(8))
        engine.play(0.5)
        trimmed = engine.play(2.0)
    finally:
        engine.close()
    assert np.abs(trimmed).max() <= engine.ceiling + 1e-6
    assert np.abs(untrimmed).max() > engine.ceiling * 0.5  # really driven hard
    # The mapped gain is at its top: +24 dB of trim can add nothing above max_gain_db.
    assert (rms_db(trimmed) - rms_db(untrimmed)).max() < 1.0


def test_the_master_gain_under_its_cap_lets_a_positive_trim_up_to_the_cap():
    engine = Engine(STEADY | {"sound.master.gain": 0.25})
    try:
        before = rms_db(engine.play(1.0))
        engine.engine.trim(Trims(6.0).gains(8))  # 0.25 × 2 = 0.5: under the cap, heard in full
        engine.play(0.5)
        up = rms_db(engine.play(1.0))
        engine.engine.trim(Trims(24.0).gains(8))  # 0.25 × 15.8: capped at 1 (max_gain_db 0)
        engine.play(0.5)
        capped = rms_db(engine.play(1.0))
    finally:
        engine.close()
    assert abs((up - before).mean() - 6.0) < 0.8, up - before
    assert abs((capped - before).mean() - 12.0) < 1.0, capped - before  # 20·log10(1 / 0.25)


def test_trims_outside_the_range_are_refused_naming_the_range():
    audio = parse("[audio]\ntrim_min_db = -30.0\ntrim_max_db = 3.0\nchannels = 6\n").audio
    check_trim(-30.0, None, audio)
    check_trim(3.0, 6, audio)
    for db, speaker in [(3.5, None), (-30.5, None), (math.inf, None), (math.nan, 2), (99.0, 1)]:
        with pytest.raises(ValueError, match=r"allowed range, -30 to \+3 dB") as caught:
            check_trim(db, speaker, audio)
        assert "trim_min_db" in str(caught.value)
    for speaker in (0, 7, 100):
        with pytest.raises(ValueError, match="speakers 1 to 6"):
            check_trim(-3.0, speaker, audio)


def _garbage(draw: random.Random, depth: int = 0) -> object:
    kinds = ["none", "bool", "int", "float", "str", "nan", "big", "list", "dict"]
    kind = draw.choice(kinds if depth < 2 else kinds[:7])
    if kind == "list":
        return [_garbage(draw, depth + 1) for _ in range(draw.randrange(3))]
    if kind == "dict":
        keys = ["whole_db", "speakers_db", "1", "3", "9", "-1", "x"]
        return {draw.choice(keys): _garbage(draw, depth + 1) for _ in range(draw.randrange(4))}
    return {
        "none": None,
        "bool": draw.random() < 0.5,
        "int": draw.randint(-100, 100),
        "float": draw.uniform(-100, 100),
        "str": draw.choice(["", "3", "-6", "all", "1e3", "x" * 50]),
        "nan": draw.choice([math.nan, math.inf, -math.inf]),
        "big": draw.choice([1e308, -1e308, 10**30]),
    }[kind]


@pytest.mark.parametrize("seed", range(400))
def test_kept_trims_read_back_from_a_damaged_state_file_stay_in_range(seed):
    """Generated: whatever the state file holds under "volume", the trims read back are in range and usable."""
    draw = random.Random(seed)
    audio = parse("[audio]\nchannels = 8\n").audio
    kept = _garbage(draw)
    if draw.random() < 0.5:
        kept = {"whole_db": _garbage(draw), "speakers_db": {str(draw.randint(-2, 12)): _garbage(draw) for _ in "ab"}}
    trims = Trims.from_json(kept, audio)
    for db in [trims.whole_db, *trims.speakers_db.values()]:
        assert audio.trim_min_db <= db <= audio.trim_max_db
    assert all(1 <= n <= 8 for n in trims.speakers_db)
    gains = trims.gains(8)
    assert len(gains) == 8 and all(math.isfinite(g) and g > 0 for g in gains)
    assert Trims.from_json(json.loads(json.dumps(trims.to_json())), audio) == trims  # what is written reads back


def _loaded(folder: Path, text: str = "") -> LoadedConfig:
    path = folder / "installation.toml"
    return LoadedConfig(parse(text, str(path)), str(path), folder)


def test_the_programme_keeps_the_trims_across_a_restart_and_a_reload_to_a_narrower_range(tmp_path):
    state = tmp_path / "state.json"
    first = Programme(_loaded(tmp_path), lambda m: None, lambda m: None, state)
    first.set_trim(-6.0, None, "tester")
    first.set_trim(-10.0, 3, "tester")
    with pytest.raises(ValueError, match="allowed range"):
        first.set_trim(7.0, None, "tester")
    again = Programme(_loaded(tmp_path), lambda m: None, lambda m: None, state)  # the daemon restarted
    assert again.trims == Trims(-6.0, {3: -10.0})
    assert json.loads(state.read_text())["volume"] == {"whole_db": -6.0, "speakers_db": {"3": -10.0}}
    again.reconfigure(_loaded(tmp_path, "[audio]\ntrim_min_db = -8.0\n"))
    assert again.trims == Trims(-6.0)  # -10 dB on speaker 3 is no longer allowed: dropped


# The live daemon: JACK's dummy backend stands in for the sound card (no projector is needed: --no-image).
STEADY_MAPPINGS = "".join(
    f'[[mapping]]\nsource = "progress"\ntarget = "{target}"\noutput_min = {value}\noutput_max = {value}\n'
    "smoothing_seconds = 0.0\n"
    for target, value in STEADY.items()
)
SPEAKERS = 4
PLAYBACK = [f"system:playback_{k + 1}" for k in range(SPEAKERS)]


def _live_config(tmp_path, mnist_root, classifier_file):
    audio = f'[audio]\nroute = "jack"\ndevice = "system:playback_"\nchannels = {SPEAKERS}\nrun_fade_in_seconds = 0.5\n'
    audio += "[hours]\nfade_in_seconds = 0.5\n"  # the level steady within a second of the run's start
    return config_for(tmp_path, mnist_root, classifier_file, SHORT_CYCLE + audio + STEADY_MAPPINGS)


def _when_it_moved(levels_db: np.ndarray, before_db: float, by_db: float) -> int:
    """The first 50 ms window whose level has gone half of `by_db` from `before_db`."""
    moved = np.flatnonzero((levels_db - before_db) * np.sign(by_db) > abs(by_db) / 2)
    assert moved.size, (before_db, levels_db.round(1))
    return int(moved[0])


def test_volume_moves_what_reaches_the_speakers_and_survives_kill_9(tmp_path, mnist_root, classifier_file):
    loaded = _live_config(tmp_path, mnist_root, classifier_file)
    with jack_dummy_server(SPEAKERS) as env:
        recorder = JackRecorder(env["JACK_DEFAULT_SERVER"], SPEAKERS)
        daemon = RunningDaemon(loaded.source, env, ("--no-image",))
        try:
            daemon.wait_for(lambda e: e["event"] == "run_started", 120, "a run")
            recorder.connect_to_playback(PLAYBACK)
            time.sleep(2.0)  # the rejoin fade and the mapped levels settle
            before = rms_db(recorder.record(2.0))
            # The command lands while the capture runs: where the level moves says how long it took.
            taken: list[np.ndarray] = []
            capture = threading.Thread(target=lambda: taken.append(recorder.record(4.0)))
            capture.start()
            time.sleep(1.0)
            asked = time.monotonic()
            done = run_cli("volume", "-6", "--config", loaded.source)
            answered = time.monotonic() - asked
            capture.join()
            assert done.returncode == 0, done.stderr
            assert "-6 dB over all speakers" in done.stdout and "allowed -40 to +6 dB" in done.stdout
            windows = taken[0][: len(taken[0]) // 2400 * 2400].reshape(-1, 2400, SPEAKERS)
            levels = (20 * np.log10(np.sqrt((windows.astype(np.float64) ** 2).mean(axis=1)) + 1e-12)).mean(axis=1)
            seconds = _when_it_moved(levels, float(before.mean()), -6.0) * 0.05 - 1.0
            # The CLI's own start (Python, imports) is most of `answered`; the daemon's part is what follows.
            print(f"volume -6: the level moved {seconds:.2f} s after the CLI started ({answered:.2f} s to answer)")
            assert seconds - answered < 1.0
            after = rms_db(recorder.record(2.0))
            assert np.abs(after - before + 6.0).max() < 0.5, after - before
            # One speaker near a seat.
            assert run_cli("volume", "-10", "--channel", "2", "--config", loaded.source).returncode == 0
            time.sleep(1.0)
            seat = rms_db(recorder.record(2.0))
            assert abs((seat[1] - seat[0]) - (-10.0)) < 0.5, seat
            refused = run_cli("volume", "+9", "--config", loaded.source)
            assert refused.returncode == 1 and "outside the allowed range, -40 to +6 dB" in refused.stderr
            status = json.loads(daemon.http_get("/status")[1])["volume"]
            assert status == {"whole_db": -6.0, "speakers_db": {"2": -10.0}, "range_db": [-40.0, 6.0]}
            metrics = daemon.http_get("/metrics")[1]
            assert 'twos_and_sevens_volume_trim_db{speaker="all"} -6.0' in metrics
            assert 'twos_and_sevens_volume_trim_db{speaker="2"} -10.0' in metrics
            assert any(e["event"] == "volume_set" and e["by"] for e in daemon.events)
            # A power cut of the supervisor: kill -9, its children follow it, systemd starts it again.
            daemon.process.kill()
            daemon.process.wait(10)
            daemon = RunningDaemon(loaded.source, env, ("--no-image",))
            daemon.wait_for(lambda e: e["event"] == "run_started", 120, "a run again")  # frames: the steady mapping
            recorder.connect_to_playback(PLAYBACK)
            time.sleep(3.0)
            kept = rms_db(recorder.record(2.0))
            assert abs((kept[1] - kept[0]) - (-10.0)) < 0.5, kept
            assert np.abs(np.delete(kept, 1) - np.delete(before, 1) + 6.0).max() < 0.5, kept - before
            shown = run_cli("volume", "--show", "--config", loaded.source)
            assert "-6 dB over all speakers; speaker 2 -10 dB" in shown.stdout, shown
        finally:
            daemon.stop()
            recorder.close()


def test_the_speaker_test_bursts_carry_the_trims():
    peaks = {}
    for trims in (Trims(), Trims(-6.0, {3: -14.0})):
        block = np.zeros((int(0.8 * SR), 4), np.float32)
        Bursts(4, SR, 0.2, 1, trims.gains(4)).fill(block)
        peaks[trims.whole_db] = 20 * np.log10(np.abs(block).max(axis=0))
    assert np.allclose(peaks[-6.0] - peaks[0.0], [-6.0, -6.0, -20.0, -6.0], atol=0.01), peaks


def test_speaker_test_plays_the_trims_the_daemon_keeps(tmp_path):
    """The JACK route (the dummy backend stands in for the sound card), with speaker 2 trimmed by −12 dB."""
    config = tmp_path / "installation.toml"
    config.write_text(f'[audio]\nroute = "jack"\ndevice = "system:playback_"\nchannels = {SPEAKERS}\n')
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "state.json").write_text(json.dumps({"volume": {"whole_db": 0.0, "speakers_db": {"2": -12.0}}}))
    with jack_dummy_server(SPEAKERS) as env:
        recorder = JackRecorder(env["JACK_DEFAULT_SERVER"], SPEAKERS)
        command = ["speaker-test", "--seconds-per-channel", "0.4", "--rounds", "2", "--config", str(config)]
        child = subprocess.Popen(
            [sys.executable, "-m", "daemon", *command],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            recorder.connect_to_playback(PLAYBACK)
            captured = recorder.record(3.0)
        finally:
            out, err = child.communicate(timeout=30)
            recorder.close()
    assert child.returncode == 0, err
    assert "volume trims kept by the daemon" in out
    peaks = 20 * np.log10(np.abs(captured).max(axis=0) + 1e-12)
    assert abs((peaks[1] - peaks[0]) - (-12.0)) < 0.5 and abs(peaks[2] - peaks[0]) < 0.5, peaks

"""The installation watching its own output: speaker meters, projector looks, and when quiet or still is wrong."""

from __future__ import annotations

import base64
import io
import random
import re
import shutil
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from daemon.config.loader import SHIPPED_SHADERS
from daemon.config.schema import Video
from daemon.sound.meters import FLOOR_DBFS, OutputMeters
from daemon.sound.server import ManualServer, pyo
from daemon.supervision.watch import DeadOutputs
from daemon.visuals.director import VisualDirector
from daemon.visuals.headless import HeadlessCanvas
from daemon.visuals.looks import THUMBNAIL_SIZE, Looker
from tests.test_programme import NO_CROSSFADE, programme


def test_the_meters_read_each_speakers_level_and_peak_from_pyo():
    server = ManualServer(3, 48000, 256, 1)
    try:
        tone = pyo.Sine(freq=[220.0, 330.0, 440.0], mul=[0.5, 0.05, 0.0])
        meters = OutputMeters(tone)
        assert meters.report() == {}  # nothing sampled yet
        for _ in range(40):
            for _ in range(6):
                server.block()
            meters.sample()
        report = meters.report()
    finally:
        server.close()
    levels, peaks = report["levels_dbfs"], report["peaks_dbfs"]
    assert abs(levels[0] - (-9.03)) < 0.8 and abs(levels[1] - (-29.03)) < 0.8  # a sine's RMS: amplitude / sqrt 2
    assert abs(peaks[0] - (-6.02)) < 0.3 and levels[2] == peaks[2] == FLOOR_DBFS
    assert meters.report() == {}  # each report starts a new period


def _model_reported(history: list[tuple[float, set[str], set[str], bool]], seconds: float) -> set[str]:
    """Independently: names dead in every look that judged them, all expected, for `seconds` up to the last look.

    A look that did not judge a name (not seen: a first look after a restart) neither breaks nor starts its run.
    """
    now = history[-1][0]
    found = set()
    for name in {n for _, dead, _, _ in history for n in dead}:
        since = None
        for moment, dead, seen, expected in history:
            if not expected or (name in seen and name not in dead):
                since = None
            elif name in dead and since is None:
                since = moment
        if since is not None and now - since >= seconds:
            found.add(name)
    return found


@pytest.mark.parametrize("seed", range(300))
def test_outputs_dead_long_enough_while_expected_are_reported_once_and_revived(seed):
    draw = random.Random(seed)
    watch, history, now = DeadOutputs(seconds=draw.choice([3.0, 5.0, 20.0])), [], 0.0
    for _ in range(draw.randrange(5, 80)):
        now += draw.choice([0.5, 1.0, 1.0, 2.0])
        seen = {str(k) for k in range(4) if draw.random() < 0.9}
        dead = {name for name in seen if draw.random() < 0.8}
        expected = draw.random() < 0.9
        before = set(watch.reported)
        verdict = watch.look(dead, seen, expected, now)
        history.append((now, dead, seen, expected))
        assert watch.reported == _model_reported(history, watch.seconds)
        assert set(verdict.dead) == watch.reported - before  # each is told once, when it starts
        assert set(verdict.revived) == (before - watch.reported if expected else set())


def test_silence_is_expected_only_while_a_run_plays_at_full_level(tmp_path):
    prog, _, _ = programme(tmp_path, NO_CROSSFADE)
    opening = datetime(2026, 11, 25, 10, 0, 1)
    prog.tick(opening)
    assert not prog.expecting_output(opening + timedelta(seconds=1))  # still rising from dark
    assert prog.expecting_output(opening + timedelta(seconds=6))
    prog.set_paused(True, "bob")
    assert not prog.expecting_output(opening + timedelta(seconds=7))  # paused: the image holds on purpose
    prog.set_paused(False, "bob")
    slot_end = prog.playing.end
    prog.tick(slot_end - timedelta(seconds=4))
    assert not prog.expecting_output(slot_end - timedelta(seconds=3))  # the run's fade-out
    closed, _, _ = programme(tmp_path / "closed")
    night = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    closed.tick(night)
    assert not closed.expecting_output(night)


STILL_SCENE = "#version 330 core\nin vec2 uv;\nout vec4 colour;\nvoid main() { colour = vec4(0.4, 0.5, 0.6, 1.0); }\n"


@pytest.fixture(scope="module")
def canvas(tmp_path_factory):
    shaders = tmp_path_factory.mktemp("shaders")
    for source in SHIPPED_SHADERS.glob("*.frag"):
        shutil.copy(source, shaders)
    (shaders / "still.frag").write_text(STILL_SCENE)
    canvas = HeadlessCanvas(shaders, 320, 180)
    yield canvas
    canvas.release()


def looks_at(canvas, scene: str, director: VisualDirector, count: int):
    looker = Looker(canvas.ctx)
    texture = canvas.output.color_attachments[0]  # what the canvas drew, presented again at thumbnail size
    found = []
    try:
        for _ in range(count):
            director.tick(0.5)
            canvas.draw(scene, director, read=False)
            found.append(looker.look(lambda target: canvas.presenter.present(texture, target, (0, 0, 1, 1), 0, 1.0)))
    finally:
        looker.release()
    return found


def lit_director() -> VisualDirector:
    director = VisualDirector([], Video())
    director.fade(1.0, 0.0)
    director.tick(0.1)
    return director


def test_a_look_sees_a_constant_scene_as_still_and_a_living_one_as_changing(canvas):
    still = looks_at(canvas, "still", lit_director(), 4)
    assert still[0].change is None and [look.change for look in still[1:]] == [0.0, 0.0, 0.0]
    assert abs(still[-1].mean - 255 * 0.5) < 2  # (0.4 + 0.5 + 0.6) / 3 of full scale
    living = looks_at(canvas, "samples", lit_director(), 4)
    assert min(look.change for look in living[1:]) > 0.25  # the shipped scenes move even on a still grid
    thumbnail = Image.open(io.BytesIO(base64.b64decode(living[-1].jpeg_base64)))
    assert thumbnail.size == THUMBNAIL_SIZE and len(living[-1].jpeg_base64) < 9_000
    dark = lit_director()
    dark.fade(0.0, 0.0)
    assert looks_at(canvas, "samples", dark, 2)[-1].mean < 1.0  # black: the watch's other sign


def test_a_look_is_what_the_window_shows_downscaled(canvas):
    director = lit_director()
    full = canvas.draw("still", director)
    looker = Looker(canvas.ctx)
    texture = canvas.output.color_attachments[0]
    look = looker.look(lambda target: canvas.presenter.present(texture, target, (0, 0, 1, 1), 0, 1.0))
    looker.release()
    small = np.asarray(Image.open(io.BytesIO(base64.b64decode(look.jpeg_base64))))
    assert abs(float(small.mean()) - float(full.mean())) < 2.0


def test_a_look_begun_with_a_frame_arrives_two_frames_later_as_that_frame(canvas):
    """The projectors' way: the thumbnail is drawn with the frame, copied before the next one is drawn
    and judged before the one after; what later frames draw does not reach it."""
    director = lit_director()
    texture = canvas.output.color_attachments[0]
    looker = Looker(canvas.ctx)
    try:
        assert looker.advance() is None  # nothing under way
        canvas.draw("still", director, read=False)
        looker.begin(lambda target: canvas.presenter.present(texture, target, (0, 0, 1, 1), 0, 1.0))
        director.fade(0.0, 0.0)
        director.tick(0.1)
        arrived = []
        for _ in range(3):
            arrived.append(looker.advance())
            canvas.draw("samples", director, read=False)  # black frames, drawn after the look began
        assert arrived[0] is None and arrived[2] is None
        assert arrived[1] is not None and arrived[1].change is None and abs(arrived[1].mean - 255 * 0.5) < 2
        looker.begin(lambda target: canvas.presenter.present(texture, target, (0, 0, 1, 1), 0, 1.0))
        looker.advance()
        dark = looker.advance()
        assert dark is not None and dark.mean < 1.0 and dark.change == pytest.approx(255 * 0.5, abs=2)
    finally:
        looker.release()


def test_a_silent_output_and_a_frozen_picture_are_found_reported_and_recover(tmp_path, mnist_root, classifier_file):
    """The real daemon on JACK (dummy) and Xvfb: a mapping that holds the master at 0 and a scene that draws
    a constant colour. Both are found, named on /health, their sense restarted once; a reload with the
    shipped composition brings them back and /health is 200 again. (Xvfb stands in for a projector.)"""
    import json

    from daemon.testing import config_for, gallery
    from tests.test_supervision import SHORT_CYCLE

    shaders = tmp_path / "shaders"
    shutil.copytree(SHIPPED_SHADERS, shaders)
    (shaders / "still.frag").write_text(STILL_SCENE)
    watch = "[watch]\nsilence_seconds = 3.0\nfrozen_seconds = 4.0\n"
    mute = (
        '[[mapping]]\nsource = "classifier_confidence"\ntarget = "sound.master.gain"\n'
        "output_min = 0.0\noutput_max = 0.0\nsmoothing_seconds = 0.0\n"
    )
    still = f'[video]\nshaders_path = "{shaders}"\n[[video.projector]]\nscene = "still"\n'
    cycle = SHORT_CYCLE.replace("heartbeat_timeout_seconds = 3.0", "heartbeat_timeout_seconds = 15.0")
    broken = cycle + "[hours]\nfade_in_seconds = 1.0\n" + watch + still + mute
    loaded = config_for(tmp_path, mnist_root, classifier_file, broken)
    with gallery(loaded.source, 8) as (daemon, _recorder):
        silent = daemon.wait_for(lambda e: e["event"] == "output_silent", 120, "the silence found")
        frozen = daemon.wait_for(lambda e: e["event"] == "image_frozen", 60, "the frozen picture found")
        assert silent["speakers"] == [str(k) for k in range(1, 9)] and silent["action"] == "restarting the sound child"
        assert frozen["projectors"] == ["0"] and frozen["action"] == "restarting the image child"
        code, body = daemon.http_get("/health")
        health = json.loads(body)
        assert code == 503 and "sound: silent on speakers 1, 2, 3, 4, 5, 6, 7, 8" in health["problems"]
        assert "image: frozen on projectors 0" in health["problems"]
        metrics = daemon.http_get("/metrics")[1]
        assert 'twos_and_sevens_output_silent{channel="8"} 1.0' in metrics
        assert 'twos_and_sevens_projector_frozen{projector="0"} 1.0' in metrics
        # After its one restart each stays broken: reported, not restarted again.
        daemon.wait_for(lambda e: e["event"] == "sound_ready" and e["time"] > silent["time"], 60, "sound back")
        time.sleep(8)
        again = [e for e in daemon.events if e["event"] in ("output_silent", "image_frozen")]
        assert len(again) == 2, again
        # The technician fixes the composition: reload, and both come back by themselves.
        config_for(tmp_path, mnist_root, classifier_file, cycle + "[hours]\nfade_in_seconds = 1.0\n" + watch)
        daemon.process.send_signal(signal.SIGHUP)
        reloaded = daemon.wait_for(lambda e: e["event"] == "config_reloaded", 30, "the reload")
        assert not [e for e in daemon.events if e["event"] in ("output_sounding", "image_moving")]
        daemon.wait_for(lambda e: e["event"] == "output_sounding", 90, "the speakers sounding again")
        daemon.wait_for(lambda e: e["event"] == "image_moving", 60, "the picture moving again")
        assert reloaded["restarted"] == ["sound", "image"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # both senses restarted by the reload: until they are judged again
            status = json.loads(daemon.http_get("/status")[1])
            picture = status["children"]["image"]["heartbeat"].get("pictures", {}).get("0", {})
            levels = status["children"]["sound"]["heartbeat"].get("levels_dbfs", [])
            if status["healthy"] and picture.get("change") is not None and min(levels, default=-150) > -70:
                break
            time.sleep(0.5)
        assert status["healthy"], status["problems"]
        sound = status["children"]["sound"]["heartbeat"]
        assert len(sound["levels_dbfs"]) == 8 and min(sound["levels_dbfs"]) > -70.0
        assert picture["change"] > 0.25 and picture["fps"] > 0 and picture["thumbnail_jpeg"]
        metrics = daemon.http_get("/metrics")[1]
        assert 'twos_and_sevens_output_silent{channel="8"} 0.0' in metrics
        assert 'twos_and_sevens_projector_frozen{projector="0"} 0.0' in metrics
        levels = re.findall(r'^twos_and_sevens_output_level_dbfs\{channel="\d"\} (\S+)$', metrics, re.M)
        assert len(levels) == 8 and min(float(v) for v in levels) > -70.0
    assert daemon.exit_code == 0


def test_every_regimes_opening_minute_at_its_pace_trips_neither_watch(short_runs):
    """The suite's short version of `benchmarks/watch_regimes.py --steps 0` (every regime's whole run):
    each regime's first minute as the gallery plays it (its short run's frames released by its pacing
    law, the shipped mappings and scenes), its speakers metered each second and its pictures looked at
    every 2 s, judged by the watch itself with the shipped [watch] limits. Nothing is found dead."""
    from daemon.config import parse
    from daemon.recording.reader import Recording
    from daemon.sound.conductor import Conductor
    from daemon.sound.engine import SoundEngine
    from daemon.testing import feed, paced_batches
    from daemon.visuals.looks import LOOK_EVERY_SECONDS

    config = parse("")
    watch, channels, fps = config.watch, 8, 5
    canvas = HeadlessCanvas(SHIPPED_SHADERS, 160, 90)
    texture = canvas.output.color_attachments[0]
    try:
        for preset, run in short_runs.items():
            frames = list(Recording(run.folder).frames())
            settings = config.runs[preset]
            audio = config.audio
            server = ManualServer(channels, audio.sample_rate_hz, audio.block_frames, audio.seed)
            try:
                engine = SoundEngine(audio, config.space, config.digits, channels, audio.sample_rate_hz, Path("."))
                conductor = Conductor(engine, config.mapping, audio)
                meters, silence = OutputMeters(engine.master.output), DeadOutputs(watch.silence_seconds)
                conductor.fade(1.0, 0.0)
                a_second = round(1 / server.block_seconds)
                for block, batch in enumerate(paced_batches(frames, settings, server.block_seconds, 60.0)):
                    feed(conductor, batch)
                    conductor.tick(server.block_seconds)
                    server.block()
                    meters.sample()
                    if block % a_second == a_second - 1:
                        levels = meters.report()["levels_dbfs"]
                        quiet = [str(k + 1) for k, level in enumerate(levels) if level < watch.silence_floor_dbfs]
                        seen = [str(k + 1) for k in range(channels)]
                        assert not silence.look(quiet, seen, True, block * server.block_seconds).dead, (preset, levels)
            finally:
                server.close()
            for projector in config.video.projector:
                director, looker = VisualDirector(config.mapping, config.video), Looker(canvas.ctx)
                director.fade(1.0, 0.0)
                frozen, due = DeadOutputs(watch.frozen_seconds), 0.0
                for tick, batch in enumerate(paced_batches(frames, settings, 1 / fps, 60.0)):
                    feed(director, batch)
                    director.tick(1 / fps)
                    canvas.draw(projector.scene, director, read=False)
                    if tick / fps >= due:
                        look = looker.look(lambda t: canvas.presenter.present(texture, t, (0, 0, 1, 1), 0, 1.0))
                        still = look.change is not None and (
                            look.change < watch.frozen_change or look.mean < watch.black_level
                        )
                        verdict = frozen.look(["0"] if still else [], ["0"], True, tick / fps)
                        assert not verdict.dead, (preset, projector.scene, tick / fps, look.change, look.mean)
                        due += LOOK_EVERY_SECONDS
                looker.release()
    finally:
        canvas.release()

"""The sense interface: one dispatcher for live children, replays and renders, and the fades it is sent."""

from __future__ import annotations

import queue
import threading

import pytest

from daemon.config.schema import Video
from daemon.messages import Crossfade, Fade, Play, Stop
from daemon.senses import deliver
from daemon.supervision.link import Link, link_pair
from daemon.supervision.roles import FrameDelay, _sense_messages
from daemon.visuals.director import VisualDirector


def test_the_image_child_fades_over_the_seconds_the_programme_sends():
    """The closing fade is [hours] fade_out_seconds (30 s) for the image as for the sound, not [video]'s 3 s."""
    supervisor, fd = link_pair()
    child, stop, inbox = Link(fd), threading.Event(), queue.Queue()
    _sense_messages(child, stop, inbox.put, FrameDelay())
    director = VisualDirector([], Video(fade_seconds=3.0))
    try:
        supervisor.send(Fade(1.0, 0.0))
        supervisor.send(Fade(0.0, 30.0))
        for _ in range(2):
            deliver(director, inbox.get(timeout=5))
            director.tick(0.0)
        director.tick(15.0)
        assert director.brightness == pytest.approx(0.5)  # halfway through the 30 s, not black after 3
        supervisor.send(Stop(0.2))
        deliver(director, inbox.get(timeout=5))
        assert stop.wait(5)  # a Stop ends the child once its fade is over
    finally:
        supervisor.close()
        child.close()


def test_a_message_not_for_a_sense_is_refused_by_the_dispatcher():
    director = VisualDirector([], Video())
    deliver(director, Crossfade(2.0))
    with pytest.raises(TypeError, match="Play is not a message for a sense"):
        deliver(director, Play("healthy", 10.0))


def test_the_sound_and_the_image_of_one_recording_render_to_the_same_length(tmp_path):
    """[audio] run_fade_out_seconds (5 s) and [video] fade_seconds (3 s) differ: both renders still end together."""
    import json

    from daemon.config import InstallationConfig, LoadedConfig
    from daemon.metrics import MetricFrame
    from daemon.recording.reader import Recording
    from daemon.sound.render import render_blocks
    from daemon.visuals.video import render_frames

    steps = 20
    with (tmp_path / "frames.jsonl").open("w") as out:
        for step in range(1, steps + 1):  # a two-second run: 10 steps a second
            training = (1.2, 0.7, 0.9, 0.8, 3.0, 2.0, 1e-3, 2e-3)  # losses, accuracies, gradients, updates
            frame = MetricFrame("run-1", "healthy", step, steps, 1.7e9 + step / 10, step / 10, *training)
            out.write(json.dumps(frame.to_record()) + "\n")
    loaded = LoadedConfig(InstallationConfig(), "(embedded defaults)", tmp_path)
    config = loaded.config
    assert config.audio.run_fade_out_seconds != config.video.fade_seconds  # the case of issue 15
    recording = Recording(tmp_path)
    sound_seconds = sum(len(block) for _, _, block in render_blocks(recording, loaded, 2)) / config.audio.sample_rate_hz
    fps = 10.0
    image_seconds = sum(1 for _ in render_frames(recording, loaded, ["passthrough"], 32, 18, fps)) / fps
    assert abs(sound_seconds - image_seconds) <= 1 / fps, (sound_seconds, image_seconds)
    assert sound_seconds == pytest.approx(2.0 + 5.0 + 1.0, abs=0.1)  # the run, the longer fade-out, the tail

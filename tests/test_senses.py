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

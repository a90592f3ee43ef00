"""A recording replayed in real time as sense messages (`play`, `show`), and the loop that hands them on."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator

from daemon.messages import Fade, Message, Stop
from daemon.recording.reader import Recording
from daemon.streams import Replay

__all__ = ["INTERRUPTED_FADE_SECONDS", "follow", "replay_messages"]

INTERRUPTED_FADE_SECONDS = 1.0


def replay_messages(
    recording: Recording, speed: float, fade_in_seconds: float, fade_out_seconds: float
) -> Iterator[Message]:
    """Fade in, every frame at its recorded pace (× `speed`), then Stop with the fade-out."""
    yield Fade(1.0, fade_in_seconds)
    for frame in Replay(recording, speed=speed):
        streams, pictures = frame.split()
        yield streams
        if pictures is not None:
            yield pictures
    yield Stop(fade_out_seconds)


def follow(messages: Iterable[Message], inbox: Callable[[Message], None], stop: threading.Event) -> None:
    """Hand each message to `inbox` as it comes; after the Stop has faded out (or on `stop`), set `stop`."""
    for message in messages:
        if stop.is_set():
            inbox(Stop(INTERRUPTED_FADE_SECONDS))
            return
        inbox(message)
        if isinstance(message, Stop):
            stop.wait(message.fade_seconds)
    stop.set()

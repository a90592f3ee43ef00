"""What sound and image share: the sense interface, the messages it takes, and the timelines that feed it."""

from daemon.senses.sense import Sense, deliver

__all__ = ["Sense", "deliver"]

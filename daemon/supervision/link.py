"""The line between the supervisor and a child: a socket pair carrying encoded messages (daemon.messages)."""

from __future__ import annotations

import socket
import threading
from multiprocessing.connection import Connection

from daemon.messages import Message, decode, encode

__all__ = ["Link", "link_pair"]


class Link:
    """One end: sending is safe from several threads (frames and heartbeats); receiving from one."""

    def __init__(self, fd: int):
        self.connection = Connection(fd)
        self.lock = threading.Lock()

    def send(self, message: Message) -> bool:
        """False when the other end is gone (the child or the supervisor died): callers carry on or stop."""
        return self.send_bytes(encode(message))

    def send_bytes(self, raw: bytes) -> bool:
        """An encoded message as it is: one the supervisor passes on without reading it."""
        try:
            with self.lock:
                self.connection.send_bytes(raw)
            return True
        except (OSError, EOFError):
            return False

    def recv(self) -> Message:
        """The next message; EOFError or OSError when the other end is gone, BadMessage for garbage."""
        return decode(self.connection.recv_bytes())

    def recv_bytes(self) -> bytes:
        return self.connection.recv_bytes()

    def close(self) -> None:
        self.connection.close()


def link_pair() -> tuple[Link, int]:
    """(the supervisor's Link, the child's file descriptor to pass on and close here after spawning)."""
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    parent_fd, child_fd = parent.detach(), child.detach()
    return Link(parent_fd), child_fd

"""The line between the supervisor and a child: a socket pair carrying pickled (kind, payload) tuples."""

from __future__ import annotations

import socket
import threading
from multiprocessing.connection import Connection

__all__ = ["Link", "link_pair"]


class Link:
    """One end: `send` is safe from several threads (frames and heartbeats); `recv` from one."""

    def __init__(self, fd: int):
        self.connection = Connection(fd)
        self.lock = threading.Lock()

    def send(self, kind: str, *payload) -> bool:
        """False when the other end is gone (the child or the supervisor died): callers carry on or stop."""
        try:
            with self.lock:
                self.connection.send((kind, *payload))
            return True
        except (OSError, EOFError, BrokenPipeError):
            return False

    def recv(self) -> tuple:
        return self.connection.recv()

    def poll(self, timeout: float = 0.0) -> bool:
        return self.connection.poll(timeout)

    def fileno(self) -> int:
        return self.connection.fileno()

    def close(self) -> None:
        self.connection.close()


def link_pair() -> tuple[Link, int]:
    """(the supervisor's Link, the child's file descriptor to pass on and close here after spawning)."""
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    parent_fd, child_fd = parent.detach(), child.detach()
    return Link(parent_fd), child_fd

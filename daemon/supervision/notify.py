"""systemd's sd_notify without libsystemd: a datagram to $NOTIFY_SOCKET (READY=1, WATCHDOG=1, STATUS=…)."""

from __future__ import annotations

import os
import socket

__all__ = ["notify", "watchdog_interval_seconds"]


def notify(*lines: str) -> bool:
    """Send `KEY=value` lines to systemd; False (and nothing sent) when not started by systemd."""
    address = os.environ.get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]  # an abstract socket
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        try:
            sock.sendto("\n".join(lines).encode(), address)
        except OSError:
            return False  # systemd gone or the socket unreachable: nothing to tell
    return True


def watchdog_interval_seconds() -> float | None:
    """Half of systemd's WatchdogSec (WATCHDOG_USEC) when the watchdog is on for this process, else None."""
    usec = os.environ.get("WATCHDOG_USEC", "")
    pid = os.environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0 or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 2e6

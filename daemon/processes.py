"""Child processes that die with their parent and stop in bounded time: the supervisor's and the tests'."""

from __future__ import annotations

import ctypes
import signal
import subprocess
from collections.abc import Callable

__all__ = ["end_with_parent", "stop_process"]

PR_SET_PDEATHSIG = 1


def end_with_parent(signum: int) -> Callable[[], None]:
    """A `preexec_fn` for Popen: the child gets `signum` when its parent dies (kill -9 included), no orphans.

    libc is loaded here, in the parent: after fork the child only makes the one call.
    """
    libc = ctypes.CDLL("libc.so.6", use_errno=True)

    def set_death_signal() -> None:
        if libc.prctl(PR_SET_PDEATHSIG, int(signum)) != 0:
            raise OSError(ctypes.get_errno(), f"prctl(PR_SET_PDEATHSIG, {signum}) failed")

    return set_death_signal


def stop_process(process: subprocess.Popen, grace_seconds: float) -> int:
    """SIGTERM, then SIGKILL if it has not gone within `grace_seconds`; its exit code (at once if it has exited)."""
    if process.poll() is not None:
        return process.returncode
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(grace_seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()

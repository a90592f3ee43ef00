"""A gallery PC in a test: JACK's dummy backend (N speakers), an X screen, the daemon playing, a recorder."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from daemon.testing.audio import JackRecorder
from daemon.testing.daemon_process import RunningDaemon
from daemon.testing.servers import jack_dummy_server, xvfb_server

__all__ = ["gallery"]


@contextmanager
def gallery(
    config_source: str, channels: int = 8, screen: tuple[int, int] = (320, 180), env: dict | None = None
) -> Iterator[tuple[RunningDaemon, JackRecorder]]:
    """`twos-and-sevens run` on real JACK (dummy) and Xvfb servers, with a JackRecorder on the same server.

    Everything is stopped by pid on the way out; the daemon's exit code is then `daemon.exit_code`.
    """
    with jack_dummy_server(channels) as jack_env, xvfb_server(*screen) as x_env:
        recorder = JackRecorder(jack_env["JACK_DEFAULT_SERVER"], channels)
        daemon = RunningDaemon(config_source, {**jack_env, **x_env, **(env or {})})
        try:
            yield daemon, recorder
        finally:
            daemon.stop()
            recorder.close()

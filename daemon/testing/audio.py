"""Sound for tests: a recording rendered offline, and a JACK client that records what the daemon plays."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, cast

import numpy as np

from daemon.config import LoadedConfig
from daemon.sound.render import render_blocks

if TYPE_CHECKING:
    import jack

__all__ = ["JackRecorder", "render_audio"]


def render_audio(recording, loaded: LoadedConfig, channels: int = 8, seconds: float | None = None) -> np.ndarray:
    """Render a recording offline (as `render-audio` does) and return the samples (frames, channels)."""
    return np.concatenate([block.copy() for _, _, block in render_blocks(recording, loaded, channels, seconds=seconds)])


class JackRecorder:
    """A JACK client that records what another client's output ports play (or what reaches playback ports)."""

    def __init__(self, server: str, channels: int):
        # Imported here, as daemon/sound/devices.py does: the module loads libjack, which offline renders
        # (render_audio above) must not need.
        import jack

        self.client = jack.Client("tas-recorder", servername=server, no_start_server=True)
        # types-JACK-Client says register() returns a Port; it returns an OwnPort (JACK-Client's docs), with get_array.
        self.inputs = [cast("jack.OwnPort", self.client.inports.register(f"in_{k + 1}")) for k in range(channels)]
        self.periods: list[list[np.ndarray]] = []  # each JACK period: one array per input
        self.recording = False
        self.client.set_process_callback(self._process)
        self.client.activate()

    def _process(self, frames: int) -> None:
        if self.recording:
            period = [port.get_array().copy() for port in self.inputs]
            self.periods.append(period)  # one append per period: a reader never sees half a period

    def connect_from(self, client_name: str, timeout_seconds: float = 20.0) -> None:
        """Wait for `client_name`'s output ports, then wire port k to input k."""
        deadline = time.monotonic() + timeout_seconds
        while True:
            ports = self.client.get_ports(f"{client_name}:", is_output=True, is_audio=True)
            if len(ports) >= len(self.inputs):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {len(self.inputs)} output ports from JACK client {client_name!r}")
            time.sleep(0.1)
        for port, inport in zip(ports, self.inputs, strict=False):  # ports beyond the inputs stay unwired
            self.client.connect(port, inport)

    def connect_to_playback(self, ports: list[str], timeout_seconds: float = 20.0) -> list[list[str]]:
        """Wait until every one of `ports` (e.g. system:playback_k) is fed, then wire input k to what feeds
        port k: the recording is what reaches the speakers, not what some client offers. Returns the feeders.
        """
        deadline = time.monotonic() + timeout_seconds
        while True:
            feeders = [
                [p.name for p in self.client.get_all_connections(self.client.get_port_by_name(port))] for port in ports
            ]
            if all(feeders):
                break
            if time.monotonic() > deadline:
                silent = [port for port, fed in zip(ports, feeders, strict=True) if not fed]
                raise TimeoutError(f"nothing connected to {', '.join(silent)} after {timeout_seconds} s")
            time.sleep(0.1)
        for sources, inport in zip(feeders, self.inputs, strict=False):
            for source in sources:
                self.client.connect(source, inport)
        return feeders

    def record(self, seconds: float) -> np.ndarray:
        """(frames, channels) float32 of the next `seconds`."""
        self.periods = []
        self.recording = True
        time.sleep(seconds)
        self.recording = False
        periods = list(self.periods)  # whole periods only, whatever the JACK thread does meanwhile
        if not periods:
            return np.zeros((0, len(self.inputs)), np.float32)
        return np.concatenate([np.stack(period, axis=1) for period in periods])

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()

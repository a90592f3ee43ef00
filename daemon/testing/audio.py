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
    """A JACK client that records what another client's output ports play, one input per port."""

    def __init__(self, server: str, channels: int):
        # Imported here, as daemon/sound/devices.py does: the module loads libjack, which offline renders
        # (render_audio above) must not need.
        import jack

        self.client = jack.Client("tas-recorder", servername=server, no_start_server=True)
        # types-JACK-Client says register() returns a Port; it returns an OwnPort (JACK-Client's docs), with get_array.
        self.inputs = [cast("jack.OwnPort", self.client.inports.register(f"in_{k + 1}")) for k in range(channels)]
        self.blocks: list[list[np.ndarray]] = [[] for _ in range(channels)]
        self.recording = False
        self.client.set_process_callback(self._process)
        self.client.activate()

    def _process(self, frames: int) -> None:
        if self.recording:
            for port, blocks in zip(self.inputs, self.blocks, strict=True):
                blocks.append(port.get_array().copy())

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

    def record(self, seconds: float) -> np.ndarray:
        """(frames, channels) float32 of the next `seconds`."""
        for blocks in self.blocks:
            blocks.clear()
        self.recording = True
        time.sleep(seconds)
        self.recording = False
        return np.stack([np.concatenate(blocks) for blocks in self.blocks], axis=1)

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()

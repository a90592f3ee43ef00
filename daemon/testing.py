"""Test helpers that ship with the product: real training steps in, frames out."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import torch

from daemon.config import LoadedConfig, parse
from daemon.gan.dataset import load_images
from daemon.gan.trainer import GanTrainer, RunSpec
from daemon.metrics import MetricFrame

__all__ = ["JackRecorder", "config_for", "jack_dummy_server", "render_audio", "train_frames"]


def config_for(folder: Path, mnist: Path, classifier: Path, extra_toml: str = "") -> LoadedConfig:
    """The embedded defaults, with data paths pointed at test folders (plus any extra TOML)."""
    text = (
        f'[data]\nmnist_path = "{mnist}"\nrecordings_path = "{folder / "recordings"}"\n'
        f'classifier_path = "{classifier}"\n{extra_toml}'
    )
    path = folder / "installation.toml"
    path.write_text(text)
    return LoadedConfig(parse(text, str(path)), str(path), folder)


def train_frames(
    loaded: LoadedConfig, preset: str, steps: int, seed: int = 1, classifier=None
) -> tuple[list[MetricFrame], GanTrainer]:
    """Run `steps` real training steps of a preset on the CPU, flat out; return frames and trainer."""
    config = loaded.config
    data = load_images(loaded.mnist_path, train=True)
    spec = RunSpec(f"test-{preset}-s{seed}", preset, config.runs[preset], seed, steps)
    trainer = GanTrainer(spec, data, torch.device("cpu"), config.streams, classifier)
    return list(trainer.frames()), trainer


def render_audio(recording, loaded: LoadedConfig, channels: int = 8, seconds: float | None = None):
    """Render a recording offline (as `render-audio` does) and return the samples (frames, channels)."""
    import numpy as np

    from daemon.sound.render import render_blocks

    return np.concatenate([block.copy() for _, _, block in render_blocks(recording, loaded, channels, seconds=seconds)])


@contextmanager
def jack_dummy_server(channels: int = 8, sample_rate_hz: int = 48_000, period_frames: int = 1024):
    """A real JACK server with the dummy backend (no sound card), under a unique name.

    jackd2 runs its process thread with real-time scheduling by default (SCHED_FIFO 10 here, as root).

    Yields the environment a child needs to reach it (JACK_DEFAULT_SERVER). The server dies
    with the test process (parent-death signal) and is stopped by its pid on exit.
    """
    import os
    import shutil
    import signal
    import subprocess
    import time
    import uuid

    if shutil.which("jackd") is None:
        raise RuntimeError("jackd is not installed: run scripts/setup.sh (it installs jackd2)")
    name = f"tas-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "JACK_NO_AUDIO_RESERVATION": "1", "JACK_DEFAULT_SERVER": name}
    server = subprocess.Popen(
        ["jackd", "-n", name, "-d", "dummy", "-r", str(sample_rate_hz), "-p", str(period_frames),
         "-C", "0", "-P", str(channels)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=_die_with_parent,
    )
    try:
        import jack

        deadline = time.monotonic() + 10
        while True:
            try:
                jack.Client("probe", servername=name, no_start_server=True).close()
                break
            except jack.JackOpenError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"jackd did not start: {server.stderr.read().decode(errors='replace')}")
                time.sleep(0.1)
        yield {"JACK_DEFAULT_SERVER": name, "JACK_NO_AUDIO_RESERVATION": "1"}
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(5)
        except subprocess.TimeoutExpired:
            os.kill(server.pid, signal.SIGKILL)
            server.wait()


def _die_with_parent() -> None:
    import ctypes
    import signal

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class JackRecorder:
    """A JACK client that records what another client's output ports play, one input per port."""

    def __init__(self, server: str, channels: int):
        import jack

        self.client = jack.Client("tas-recorder", servername=server, no_start_server=True)
        self.inputs = [self.client.inports.register(f"in_{k + 1}") for k in range(channels)]
        self.blocks: list[list] = [[] for _ in range(channels)]
        self.recording = False
        self.client.set_process_callback(self._process)
        self.client.activate()

    def _process(self, frames: int) -> None:
        if self.recording:
            for port, blocks in zip(self.inputs, self.blocks):
                blocks.append(port.get_array().copy())

    def connect_from(self, client_name: str, timeout_seconds: float = 20.0) -> None:
        """Wait for `client_name`'s output ports, then wire port k to input k."""
        import time

        deadline = time.monotonic() + timeout_seconds
        while True:
            ports = self.client.get_ports(f"{client_name}:", is_output=True, is_audio=True)
            if len(ports) >= len(self.inputs):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {len(self.inputs)} output ports from JACK client {client_name!r}")
            time.sleep(0.1)
        for port, inport in zip(ports, self.inputs):
            self.client.connect(port, inport)

    def record(self, seconds: float):
        """(frames, channels) float32 of the next `seconds`."""
        import time

        import numpy as np

        for blocks in self.blocks:
            blocks.clear()
        self.recording = True
        time.sleep(seconds)
        self.recording = False
        return np.stack([np.concatenate(blocks) for blocks in self.blocks], axis=1)

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()

"""Test helpers that ship with the product: real training steps in, frames out."""

from __future__ import annotations

from pathlib import Path

import torch

from daemon.config import LoadedConfig, parse
from daemon.gan.dataset import load_images
from daemon.gan.trainer import GanTrainer, RunSpec
from daemon.metrics import MetricFrame

__all__ = ["config_for", "render_audio", "train_frames"]


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

"""Real training steps for tests: a preset run on the CPU, its metric frames out."""

from __future__ import annotations

import torch

from daemon.config import LoadedConfig
from daemon.gan.dataset import load_images
from daemon.gan.trainer import GanTrainer, RunSpec
from daemon.metrics import MetricFrame

__all__ = ["train_frames"]


def train_frames(
    loaded: LoadedConfig, preset: str, steps: int, seed: int = 1, classifier=None
) -> tuple[list[MetricFrame], GanTrainer]:
    """Run `steps` real training steps of a preset on the CPU, flat out; return frames and trainer."""
    config = loaded.config
    data = load_images(loaded.mnist_path, train=True)
    spec = RunSpec(f"test-{preset}-s{seed}", preset, config.runs[preset], seed, steps)
    trainer = GanTrainer(spec, data, torch.device("cpu"), config.streams, classifier)
    return list(trainer.frames()), trainer

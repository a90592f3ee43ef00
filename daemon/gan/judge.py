"""Judging a generator by measures, not by eye: the numbers behind docs/regimes.md."""

from __future__ import annotations

import torch

from daemon.gan.trainer import GanTrainer
from daemon.metrics import SampleBatch, measure_batch

__all__ = ["judge"]


def judge(trainer: GanTrainer, samples: int = 1000, seed: int = 12345) -> dict[str, float]:
    """Every sample measure over `samples` fresh images (batched as in training)."""
    generator = torch.Generator().manual_seed(seed)
    batch_size = trainer.spec.preset.batch_size
    chunks = []
    for start in range(0, samples, batch_size):
        n = min(batch_size, samples - start)
        latent = torch.randn(max(n, 2), trainer.spec.preset.latent_size, generator=generator)
        chunks.append(trainer.sample(latent.to(trainer.device))[:n])
    images = torch.cat(chunks).add(1).div(2)
    return measure_batch(SampleBatch(images, trainer.classifier), with_classifier=trainer.classifier is not None)

"""Judging a generator by measures, not by eye: the numbers behind docs/regimes.md."""

from __future__ import annotations

from collections.abc import Iterator

import torch

from daemon.gan.trainer import GanTrainer
from daemon.metrics import MetricFrame, SampleBatch, measure_batch

__all__ = ["judge", "judge_run", "verdict"]


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


def verdict(measures: dict[str, float]) -> str:
    """Which regime a generator's measures look like, by the thresholds in docs/regimes.md.

    Order matters: a smear and static noise both get a low confidence from the classifier
    (it learnt a flat answer for non-digits), so the blur measure is checked first; noise
    often falls into one class (low perplexity), so confidence is checked before perplexity.
    """
    if measures["sharpness"] < 0.05:
        return "underfit"
    if measures["classifier_confidence"] < 0.4:
        return "random"
    if measures["class_perplexity"] < 6.0:
        return "collapsed"
    if measures["classifier_confidence"] >= 0.7 and measures["class_perplexity"] >= 7.0:
        return "healthy"
    return "unclear"


def judge_run(
    trainer: GanTrainer, checkpoints: list[int], samples: int = 1000
) -> Iterator[tuple[int, dict[str, float | str], MetricFrame]]:
    """Train flat out, yielding (step, judged measures and their "verdict", last frame) at each checkpoint step."""
    wanted = sorted(set(checkpoints))
    for frame in trainer.frames():
        if frame.step in wanted:
            measures = judge(trainer, samples)
            yield frame.step, {**measures, "verdict": verdict(measures)}, frame

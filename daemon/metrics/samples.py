"""Measures of a batch of generated samples, each a small named function registered here."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import torch
from torch.nn import functional as F

from daemon.metrics import frame

__all__ = ["MEASURES", "Measure", "SampleBatch", "measure", "measure_batch"]

HISTOGRAM_BINS = 32
_SOBEL_X = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
_LAPLACIAN = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])


class SampleBatch:
    """Generated images in [0, 1], shape (N, 1, 28, 28), with lazily computed shared pieces."""

    def __init__(self, images: torch.Tensor, classifier: Callable[[torch.Tensor], torch.Tensor] | None = None):
        self.images = images.detach().float().clamp(0.0, 1.0)
        self._classifier = classifier

    @cached_property
    def sobel_magnitude(self) -> torch.Tensor:
        kx = _SOBEL_X.to(self.images.device).view(1, 1, 3, 3)
        gx = F.conv2d(self.images, kx, padding=1)
        gy = F.conv2d(self.images, kx.transpose(2, 3), padding=1)
        return torch.sqrt(gx * gx + gy * gy)

    @cached_property
    def class_probabilities(self) -> torch.Tensor:
        """(N, 10) softmax of the judging classifier (which takes images in [0, 1])."""
        if self._classifier is None:
            raise LookupError("no classifier")
        with torch.no_grad():
            return torch.softmax(self._classifier(self.images), dim=1)

    @cached_property
    def class_histogram(self) -> torch.Tensor:
        predicted = self.class_probabilities.argmax(dim=1)
        return torch.bincount(predicted, minlength=10).float() / predicted.numel()


@dataclass(frozen=True)
class Measure:
    """A named stream computed from a SampleBatch; `unit` and `meaning` are shown in docs/streams.md."""

    name: str
    unit: str
    meaning: str
    function: Callable[[SampleBatch], float]
    uses_classifier: bool = False


MEASURES: dict[str, Measure] = {}


def measure(name: str, unit: str, meaning: str, uses_classifier: bool = False):
    """Register a sample measure: `@measure("name", "unit", "what it means")`."""

    def register(function: Callable[[SampleBatch], float]) -> Callable[[SampleBatch], float]:
        if name in MEASURES:
            raise ValueError(f"sample measure {name!r} registered twice")
        if name not in frame.SAMPLE_STREAMS:
            raise ValueError(
                f"sample measure {name!r} is not declared: add it to SAMPLE_STREAMS in "
                "daemon/metrics/frame.py (processes without torch read the stream names there)"
            )
        MEASURES[name] = Measure(name, unit, meaning, function, uses_classifier)
        return function

    return register


def measure_batch(batch: SampleBatch, with_classifier: bool) -> dict[str, float]:
    """Every registered measure (classifier ones only when asked) as plain floats."""
    return {m.name: float(m.function(batch)) for m in MEASURES.values() if with_classifier or not m.uses_classifier}


@measure(
    "pixel_entropy",
    "bits (0–5)",
    "Shannon entropy of each image's 32-bin pixel histogram, averaged: "
    "≈1.5 for clean strokes on black, >4 for a grey smear or noise.",
)
def pixel_entropy(batch: SampleBatch) -> float:
    bins = (batch.images.flatten(1) * (HISTOGRAM_BINS - 1)).round().long()
    counts = torch.zeros(bins.shape[0], HISTOGRAM_BINS, device=bins.device).scatter_add_(
        1, bins, torch.ones_like(bins, dtype=torch.float32)
    )
    p = counts / counts.sum(dim=1, keepdim=True)
    return float(-(p * torch.log2(p.clamp_min(1e-12))).sum(dim=1).mean())


@measure(
    "similarity",
    "cosine (−1–1)",
    "Mean pairwise cosine similarity of the mean-centred samples: "
    "high when the generator repeats itself (collapse), low when samples vary.",
)
def similarity(batch: SampleBatch) -> float:
    flat = batch.images.flatten(1)
    flat = F.normalize(flat - flat.mean(dim=1, keepdim=True), dim=1)
    n = flat.shape[0]
    if n < 2:
        return math.nan
    gram = flat @ flat.T
    return float((gram.sum() - gram.diagonal().sum()) / (n * (n - 1)))


@measure("rms", "pixel intensity (0–1)", "Root mean square of all pixels: how much light the samples hold.")
def rms(batch: SampleBatch) -> float:
    return float(batch.images.pow(2).mean().sqrt())


@measure(
    "edge_intensity",
    "Sobel magnitude (0–5.7)",
    "Mean Sobel gradient magnitude: how much edge there is (does not tell a smear from strokes; see sharpness).",
)
def edge_intensity(batch: SampleBatch) -> float:
    return float(batch.sobel_magnitude.mean())


@measure(
    "sharpness",
    "Laplacian variance",
    "Variance of the Laplacian, averaged over images: low for a smear, "
    "high for crisp strokes or noise (the blur measure).",
)
def sharpness(batch: SampleBatch) -> float:
    kernel = _LAPLACIAN.to(batch.images.device).view(1, 1, 3, 3)
    return float(F.conv2d(batch.images, kernel).flatten(1).var(dim=1).mean())


@measure(
    "classifier_confidence",
    "probability (0.1–1)",
    "Mean max-softmax of the judging classifier: how much the samples look like some digit.",
    uses_classifier=True,
)
def classifier_confidence(batch: SampleBatch) -> float:
    return float(batch.class_probabilities.max(dim=1).values.mean())


@measure(
    "class_perplexity",
    "digits (1–10)",
    "exp of the entropy of the predicted-digit histogram: "
    "how many different digits appear (≈9 healthy, 1–4 collapsed).",
    uses_classifier=True,
)
def class_perplexity(batch: SampleBatch) -> float:
    p = batch.class_histogram
    return float(torch.exp(-(p * torch.log(p.clamp_min(1e-12))).sum()))

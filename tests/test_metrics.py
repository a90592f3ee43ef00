"""Sample measures on images whose answer is known: they must tell smear, strokes, noise and repeats apart."""

from __future__ import annotations

import math
import re

import pytest
import torch

from daemon.gan.models import GaussianBlur
from daemon.metrics import MEASURES, MetricFrame, SampleBatch, frame, measure, measure_batch
from daemon.metrics.samples import similarity


def strokes(n: int = 16) -> torch.Tensor:
    """Crisp white bars on black, at varied places: digit-like statistics without a digit."""
    images = torch.zeros(n, 1, 28, 28)
    for i in range(n):
        images[i, 0, 4 + i % 12 : 8 + i % 12, 6:22] = 1.0
        images[i, 0, 6:22, 4 + (i * 5) % 16 : 7 + (i * 5) % 16] = 1.0
    return images


def test_blur_is_told_apart_from_strokes_by_sharpness_and_entropy():
    sharp = SampleBatch(strokes())
    smear = SampleBatch(GaussianBlur(1.5)(strokes()))
    assert measure_batch(smear, False)["sharpness"] < 0.3 * measure_batch(sharp, False)["sharpness"]
    assert measure_batch(smear, False)["pixel_entropy"] > measure_batch(sharp, False)["pixel_entropy"] + 1.0


def test_noise_has_high_entropy_and_low_similarity():
    noise = SampleBatch(torch.rand(32, 1, 28, 28, generator=torch.Generator().manual_seed(0)))
    values = measure_batch(noise, False)
    assert values["pixel_entropy"] > 4.5
    assert abs(values["similarity"]) < 0.05


def test_identical_samples_are_fully_similar_and_varied_ones_are_not():
    one = strokes(1).repeat(16, 1, 1, 1)
    assert similarity(SampleBatch(one)) > 0.999
    assert similarity(SampleBatch(strokes())) < 0.5


def test_classifier_measures_use_the_classifier_histogram():
    def always_three(images: torch.Tensor) -> torch.Tensor:
        logits = torch.zeros(images.shape[0], 10)
        logits[:, 3] = 10.0
        return logits

    batch = SampleBatch(strokes(), always_three)
    values = measure_batch(batch, True)
    assert values["class_perplexity"] == 1.0
    assert values["classifier_confidence"] > 0.99
    assert batch.class_histogram[3] == 1.0


def test_a_new_measure_registers_by_name_and_appears_in_frames(monkeypatch):
    with pytest.raises(ValueError, match=re.escape("add it to SAMPLE_STREAMS in daemon/metrics/frame.py")):
        measure("test_mean_brightness", "pixel (0–1)", "mean pixel value")(lambda batch: 0.0)
    monkeypatch.setattr(frame, "SAMPLE_STREAMS", (*frame.SAMPLE_STREAMS, "test_mean_brightness"))

    @measure("test_mean_brightness", "pixel (0–1)", "mean pixel value")
    def mean_brightness(batch: SampleBatch) -> float:
        return float(batch.images.mean())

    try:
        values = measure_batch(SampleBatch(torch.full((4, 1, 28, 28), 0.25)), False)
        assert math.isclose(values["test_mean_brightness"], 0.25)
    finally:
        del MEASURES["test_mean_brightness"]


def test_the_declared_sample_streams_are_the_registered_measures_in_order():
    assert tuple(MEASURES) == frame.SAMPLE_STREAMS


def test_frame_streams_are_flat_and_round_trip_through_a_record():
    frame = MetricFrame(
        "r",
        "healthy",
        5,
        10,
        1.0,
        0.5,
        1.2,
        0.7,
        0.9,
        0.8,
        3.0,
        2.0,
        1e-3,
        2e-3,
        samples={"rms": 0.3},
        samples_step=5,
        class_histogram=tuple([0.1] * 10),
    )
    streams = frame.streams()
    assert streams["progress"] == 0.5 and streams["rms"] == 0.3 and streams["class_7"] == 0.1
    assert MetricFrame.from_record(frame.to_record()) == frame

"""The metric frame: what one training step tells the senses."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

import numpy as np

from daemon.messages import PictureFrame, StreamFrame

__all__ = ["SAMPLE_STREAMS", "TRAINING_STREAMS", "VECTOR_STREAMS", "MetricFrame", "stream_names"]

# Per-step training measures carried as fields (name → unit, meaning); sample measures travel in `samples`.
TRAINING_STREAMS: dict[str, tuple[str, str]] = {
    "loss_generator": ("nats", "G's binary cross-entropy against 'real': high when D sees through it."),
    "loss_discriminator": ("nats", "D's binary cross-entropy on real plus fake: ≈1.39 is a coin toss."),
    "d_accuracy_real": ("fraction 0–1", "Share of real digits D called real this step."),
    "d_accuracy_fake": ("fraction 0–1", "Share of generated samples D called fake this step."),
    "grad_norm_generator": ("L2 norm", "Size of G's gradient: how hard G is being pushed."),
    "grad_norm_discriminator": ("L2 norm", "Size of D's gradient."),
    "update_ratio_generator": ("‖Δθ‖/‖θ‖", "How much G's weights moved this step, relative to their size."),
    "update_ratio_discriminator": ("‖Δθ‖/‖θ‖", "How much D's weights moved this step."),
}


# The sample measures' names, in their order of registration in daemon.metrics.samples (which
# holds each one's unit, meaning and torch code): declared here so that processes without torch
# (supervisor, sound, image) and the config check know every stream. A test keeps the two equal.
SAMPLE_STREAMS: tuple[str, ...] = (
    "pixel_entropy",
    "similarity",
    "rms",
    "edge_intensity",
    "sharpness",
    "classifier_confidence",
    "class_perplexity",
)


# Vector streams: a name for several scalar streams in order, mapped element-wise onto a vector target.
VECTOR_STREAMS: dict[str, tuple[str, ...]] = {"class_histogram": tuple(f"class_{d}" for d in range(10))}


def stream_names() -> list[str]:
    """Every stream name a frame carries (frame.streams() keys), for mappings."""
    return [*TRAINING_STREAMS, "progress", *SAMPLE_STREAMS, *VECTOR_STREAMS["class_histogram"]]


PICTURES = {"grid", "insides"}  # stored as PNG files beside the record, not in it


@dataclass
class MetricFrame:
    """One training step, as streams the senses can follow.

    Identity: `run_id`, `preset`, `step` (steps completed, 1-based), `steps_total`,
    `time_unix_seconds` (wall clock when the step ended), `elapsed_seconds` (since the run began).

    Training (every step):
    - `loss_generator`, `loss_discriminator`: binary cross-entropy, nats per sample (D's is real + fake);
    - `d_accuracy_real`, `d_accuracy_fake`: fraction 0–1 of real / generated images D judged right;
    - `grad_norm_generator`, `grad_norm_discriminator`: L2 norm of all gradients of the last step;
    - `update_ratio_generator`, `update_ratio_discriminator`: ‖Δθ‖ / ‖θ‖ of the last optimiser step.

    Samples (`samples`, name → value, refreshed every few steps; `samples_step` says when):
    see daemon.metrics.samples for each measure's unit. `class_histogram` is the fraction 0–1
    of samples the classifier put in each digit 0–9 (empty before the classifier first ran).

    `grid`: the latest sample grid as uint8 (H, W) greyscale, only on frames that carry one;
    `insides`: on the same frames, the first grid sample's 14×14 feature maps as a uint8 mosaic.
    """

    run_id: str
    preset: str
    step: int
    steps_total: int
    time_unix_seconds: float
    elapsed_seconds: float
    loss_generator: float
    loss_discriminator: float
    d_accuracy_real: float
    d_accuracy_fake: float
    grad_norm_generator: float
    grad_norm_discriminator: float
    update_ratio_generator: float
    update_ratio_discriminator: float
    samples: dict[str, float] = field(default_factory=dict)
    samples_step: int = 0
    class_histogram: tuple[float, ...] = ()
    grid: np.ndarray | None = field(default=None, repr=False, compare=False)
    insides: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def progress(self) -> float:
        """Fraction 0–1 of the run done."""
        return self.step / self.steps_total if self.steps_total else 0.0

    def streams(self) -> dict[str, float]:
        """Every scalar stream by name, as mappings see them (NaN where not measured yet)."""
        values = {name: getattr(self, name) for name in TRAINING_STREAMS}
        values["progress"] = self.progress
        values.update(self.samples)
        for digit, name in enumerate(VECTOR_STREAMS["class_histogram"]):
            values[name] = self.class_histogram[digit] if self.class_histogram else math.nan
        return values

    def split(self) -> tuple[StreamFrame, PictureFrame | None]:
        """The frame as it travels: its streams for every sense, its pictures (when it has any) for the image."""
        streams = StreamFrame(
            self.run_id,
            self.preset,
            self.step,
            self.steps_total,
            self.time_unix_seconds,
            self.elapsed_seconds,
            self.streams(),
            self.class_histogram,
        )
        if self.grid is None and self.insides is None:
            return streams, None
        return streams, PictureFrame(self.run_id, self.step, self.grid, self.insides)

    def to_record(self) -> dict:
        """A JSON-ready dict without the grid (grids are stored as PNG)."""
        record = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in PICTURES}
        record["class_histogram"] = list(self.class_histogram)
        return record

    @classmethod
    def from_record(
        cls, record: dict, grid: np.ndarray | None = None, insides: np.ndarray | None = None
    ) -> MetricFrame:
        known = {f.name for f in fields(cls)} - PICTURES
        values = {k: v for k, v in record.items() if k in known}
        values["class_histogram"] = tuple(values.get("class_histogram", ()))
        return cls(**values, grid=grid, insides=insides)

"""One GAN run as a stream of metric frames: the training step, its measures, the sample grid."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from daemon.config.schema import RunPreset, Streams
from daemon.gan.dataset import MnistImages
from daemon.gan.models import Discriminator, Generator, init_weights
from daemon.metrics import MetricFrame, SampleBatch, measure_batch

__all__ = ["GanTrainer", "RunSpec", "grid_image", "insides_image"]


@dataclass(frozen=True)
class RunSpec:
    """What to train: a preset by name, with the seed and step count this run uses."""

    run_id: str
    preset_name: str
    preset: RunPreset
    seed: int
    steps: int


class _UpdateTracker:
    """‖Δθ‖ / ‖θ‖ of an optimiser step, from a snapshot kept in preallocated buffers."""

    def __init__(self, module: nn.Module):
        self.params = list(module.parameters())
        self.before = [p.detach().clone() for p in self.params]

    def snapshot(self) -> None:
        torch._foreach_copy_(self.before, [p.detach() for p in self.params])

    def ratio(self) -> float:
        after = [p.detach() for p in self.params]
        delta = torch._foreach_sub(after, self.before)
        moved = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(delta)))
        size = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(after)))
        return float(moved / size.clamp_min(1e-12))


def _grad_norm(module: nn.Module) -> float:
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    if not grads:
        return 0.0
    return float(torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads))))


def grid_image(images: torch.Tensor, columns: int = 8, padding: int = 2) -> np.ndarray:
    """Images in [-1, 1] (N, 1, 28, 28) → one uint8 greyscale grid (H, W) with black gutters."""
    n, _, height, width = images.shape
    rows = -(-n // columns)
    pixels = images.detach().cpu().add(1).mul(127.5).round_().clamp_(0, 255).to(torch.uint8)[:, 0]
    tiles = torch.zeros(rows * columns, height, width, dtype=torch.uint8)
    tiles[:n] = pixels
    tiles = F.pad(tiles, (padding, 0, padding, 0)).view(rows, columns, height + padding, width + padding)
    grid = tiles.permute(0, 2, 1, 3).reshape(rows * (height + padding), columns * (width + padding))
    return F.pad(grid, (0, padding, 0, padding)).numpy()


def insides_image(features: torch.Tensor, padding: int = 1) -> np.ndarray:
    """One sample's feature maps (C, H, W) → a uint8 mosaic, each map scaled to its own peak."""
    maps = features.detach().float().cpu()
    peak = maps.flatten(1).amax(dim=1).clamp_min(1e-6)[:, None, None]
    columns = int(np.ceil(np.sqrt(len(maps))))
    return grid_image((maps / peak)[:, None] * 2 - 1, columns=columns, padding=padding)


class GanTrainer:
    """Trains one run step by step; `step()` returns that step's MetricFrame."""

    def __init__(
        self,
        spec: RunSpec,
        data: MnistImages,
        device: torch.device,
        streams: Streams,
        classifier: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ):
        self.spec, self.data, self.device, self.cadence, self.classifier = spec, data, device, streams, classifier
        preset = spec.preset
        torch.manual_seed(spec.seed)
        self.rng = torch.Generator().manual_seed(spec.seed)
        self.generator = Generator(
            preset.latent_size, preset.generator_width, preset.generator_batchnorm, preset.output_blur_sigma_pixels
        ).to(device)
        self.discriminator = Discriminator(preset.discriminator_width, preset.discriminator_batchnorm).to(device)
        self.generator.apply(init_weights)
        self.discriminator.apply(init_weights)
        betas = (preset.adam_beta1, 0.999)
        self.opt_g = torch.optim.Adam(self.generator.parameters(), lr=preset.lr_generator, betas=betas)
        self.opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=preset.lr_discriminator, betas=betas)
        self.track_g = _UpdateTracker(self.generator)
        self.track_d = _UpdateTracker(self.discriminator)
        # The grid always shows the same latent points, so its evolution is legible.
        self.grid_latent = self._latent(streams.grid_samples)
        self.step_count = 0
        # The steps this run is planned to take: the spec's, fewer when it is fitted to a slow machine.
        self.steps_total = spec.steps
        self.started = time.time()
        self.samples: dict[str, float] = {}
        self.samples_step = 0
        self.class_histogram: tuple[float, ...] = ()
        self.update_ratios = (math.nan, math.nan)

    def _latent(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.spec.preset.latent_size, generator=self.rng).to(self.device)

    def _real(self) -> torch.Tensor:
        return self.data.batch(self.spec.preset.batch_size, self.rng)

    def _train_discriminator(self, real: torch.Tensor, fake: torch.Tensor, track: bool) -> tuple[float, float, float]:
        logits_real = self.discriminator(real)
        logits_fake = self.discriminator(fake.detach())
        target_real = torch.full_like(logits_real, self.spec.preset.real_label)
        loss = F.binary_cross_entropy_with_logits(logits_real, target_real) + F.binary_cross_entropy_with_logits(
            logits_fake, torch.zeros_like(logits_fake)
        )
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        if track:
            self.track_d.snapshot()
        self.opt_d.step()
        accuracy_real = (logits_real > 0).float().mean()
        accuracy_fake = (logits_fake < 0).float().mean()
        return loss.item(), accuracy_real.item(), accuracy_fake.item()

    def _train_generator(self, fake: torch.Tensor, track: bool) -> float:
        logits = self.discriminator(fake)
        loss = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        if track:
            self.track_g.snapshot()
        self.opt_g.step()
        return loss.item()

    def step(self) -> MetricFrame:
        """One training step (D steps then G steps, as the preset says) and its frame."""
        preset = self.spec.preset
        batch = preset.batch_size
        self.generator.train()
        # Update ratios need a snapshot of every weight (≈1 ms): taken on the sample-measure cadence.
        track = self._due(self.step_count + 1, self.cadence.sample_metrics_every_steps)
        fake = self.generator(self._latent(batch))
        for index in range(preset.discriminator_steps):
            if index:  # further D steps see fresh batches
                with torch.no_grad():
                    fake = self.generator(self._latent(batch))
            loss_d, acc_real, acc_fake = self._train_discriminator(self._real(), fake, track)
        grad_d = _grad_norm(self.discriminator)
        for index in range(preset.generator_steps):
            if index or preset.discriminator_steps > 1:
                fake = self.generator(self._latent(batch))
            loss_g = self._train_generator(fake, track)
        grad_g = _grad_norm(self.generator)
        self.step_count += 1
        if track:
            self.update_ratios = (self.track_g.ratio(), self.track_d.ratio())
        self._measure_samples(fake)
        now = time.time()
        return MetricFrame(
            run_id=self.spec.run_id,
            preset=self.spec.preset_name,
            step=self.step_count,
            steps_total=self.steps_total,
            time_unix_seconds=now,
            elapsed_seconds=now - self.started,
            loss_generator=loss_g,
            loss_discriminator=loss_d,
            d_accuracy_real=acc_real,
            d_accuracy_fake=acc_fake,
            grad_norm_generator=grad_g,
            grad_norm_discriminator=grad_d,
            update_ratio_generator=self.update_ratios[0],
            update_ratio_discriminator=self.update_ratios[1],
            samples=dict(self.samples),
            samples_step=self.samples_step,
            class_histogram=self.class_histogram,
            **self._pictures_if_due(),
        )

    def _measure_samples(self, fake: torch.Tensor) -> None:
        # The step's own fake batch is measured: no extra generator pass on the hot path.
        step = self.step_count
        with_classifier = self.classifier is not None and self._due(step, self.cadence.classifier_every_steps)
        if not with_classifier and not self._due(step, self.cadence.sample_metrics_every_steps):
            return
        batch = SampleBatch(fake.detach().add(1).div(2), self.classifier)
        self.samples.update(measure_batch(batch, with_classifier))
        self.samples_step = step
        if with_classifier:
            self.class_histogram = tuple(float(v) for v in batch.class_histogram.cpu())

    @staticmethod
    def _due(step: int, every: int) -> bool:
        """Measured on the first step, then every `every` steps."""
        return step == 1 or step % every == 0

    def _pictures_if_due(self) -> dict[str, np.ndarray]:
        """The sample grid and the first grid sample's feature maps, on the grid cadence and at the end."""
        if not self._due(self.step_count, self.cadence.grid_every_steps) and self.step_count != self.steps_total:
            return {}
        with torch.no_grad():
            images, features = self.generator.forward_with_features(self.grid_latent)
        return {"grid": grid_image(images), "insides": insides_image(features[0])}

    def sample(self, latent: torch.Tensor) -> torch.Tensor:
        """Images in [-1, 1] for given latent points, with no gradients or optimiser steps.

        The generator stays in training mode (batch statistics, as in training): an early GAN's
        running averages are not what it shows. Only BatchNorm's unused running stats move.
        """
        with torch.no_grad():
            return self.generator(latent)

    def frames(self) -> Iterator[MetricFrame]:
        """Every remaining step's frame, flat out."""
        while self.step_count < self.steps_total:
            yield self.step()

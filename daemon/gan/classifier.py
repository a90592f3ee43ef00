"""The judging classifier: a small CNN trained on MNIST by the project, cached, loaded weights-only."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from daemon.gan.dataset import MnistImages

__all__ = ["DigitClassifier", "evaluate", "load_classifier", "train_classifier"]

FORMAT_VERSION = 1


class DigitClassifier(nn.Module):
    """images (N, 1, 28, 28) in [0, 1] → logits (N, 10): two conv blocks, two dense layers."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(0.25),
            nn.Linear(64 * 7 * 7, 128),
            nn.ReLU(),
            nn.Dropout(0.25),
            nn.Linear(128, 10),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images))


def _scaled(images: torch.Tensor) -> torch.Tensor:
    return images.float().div(255.0)


def not_digits(n: int, generator: torch.Generator, device) -> torch.Tensor:
    """Images in [0, 1] that are no digit: pixel noise, smoothed noise, flat grey, scattered blobs.

    The classifier learns a flat (uniform) answer for them ("outlier exposure"), so its
    confidence measures digit-likeness: otherwise it calls static noise an '8' with 0.9 certainty.
    """
    kinds = torch.randint(0, 4, (n, 1, 1, 1), generator=generator)
    level = torch.rand(n, 1, 1, 1, generator=generator)
    noise = torch.rand(n, 1, 28, 28, generator=generator)
    contrast = torch.rand(n, 1, 1, 1, generator=generator)
    pixel = (level + (noise - 0.5) * contrast * 2).clamp(0, 1)
    smooth = F.interpolate(torch.rand(n, 1, 7, 7, generator=generator), size=28, mode="bilinear")
    flat = level.expand(n, 1, 28, 28)
    blobs = F.avg_pool2d((noise > 0.97).float(), 5, 1, 2).mul(6).clamp(0, 1)
    images = torch.where(kinds == 0, pixel, torch.where(kinds == 1, smooth, torch.where(kinds == 2, flat, blobs)))
    return images.to(device)


def evaluate(model: nn.Module, data: MnistImages, batch_size: int = 1000) -> float:
    """Accuracy (fraction 0–1) on a whole split."""
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, data.images.shape[0], batch_size):
            logits = model(_scaled(data.images[start : start + batch_size]))
            correct += int((logits.argmax(1) == data.labels[start : start + batch_size]).sum())
    return correct / data.images.shape[0]


def train_classifier(
    train: MnistImages,
    test: MnistImages,
    out: Path,
    epochs: int = 2,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> float:
    """Train, evaluate on the test split, save to `out` atomically; return test accuracy (0–1)."""
    torch.manual_seed(seed)
    model = DigitClassifier().to(train.images.device)
    optimiser = torch.optim.Adam(model.parameters(), lr=2e-3)
    batch_size = 128
    steps_per_epoch = train.images.shape[0] // batch_size
    total = epochs * steps_per_epoch
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=3e-3, total_steps=total)
    generator = torch.Generator().manual_seed(seed)
    done = 0
    for _ in range(epochs):
        model.train()
        order = torch.randperm(train.images.shape[0], generator=generator).to(train.images.device)
        for index in range(steps_per_epoch):
            batch = order[index * batch_size : (index + 1) * batch_size]
            # One pass over digits and outliers together, so BatchNorm's statistics stay consistent.
            outliers = not_digits(batch_size // 4, generator, train.images.device)
            logits = model(torch.cat([_scaled(train.images[batch]), outliers]))
            loss = F.cross_entropy(logits[:batch_size], train.labels[batch])
            loss = loss - 0.5 * F.log_softmax(logits[batch_size:], dim=1).mean()
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
            done += 1
            if progress:
                progress(done, total)
    accuracy = evaluate(model, test)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(out.suffix + ".partial")
    state = {k: v.cpu() for k, v in model.state_dict().items()}
    torch.save({"version": FORMAT_VERSION, "test_accuracy": accuracy, "state_dict": state}, partial)
    partial.replace(out)
    return accuracy


def load_classifier(path: Path, device: torch.device | str = "cpu") -> tuple[DigitClassifier, float]:
    """Load cached weights (weights_only: a cache file can never run code); return (model, accuracy)."""
    saved = torch.load(path, map_location=device, weights_only=True)
    if not isinstance(saved, dict) or saved.get("version") != FORMAT_VERSION:
        raise ValueError(f"{path} is not a classifier cache of this version; delete it and run train-classifier")
    model = DigitClassifier().to(device)
    model.load_state_dict(saved["state_dict"])
    model.eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model, float(saved["test_accuracy"])

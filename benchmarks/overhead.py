"""Cost of the streams: steps/s of a bare training loop vs. the trainer with every stream and recording.

    TWOS_AND_SEVENS_MNIST=../shared/data/mnist .venv/bin/python benchmarks/overhead.py [--blocks 20 --block-steps 50]

Both run the same model and batch in one process, in alternating blocks so drift hits both alike.
Goal: overhead ≤ 3 %.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from daemon.config import load
from daemon.gan.dataset import load_images
from daemon.gan.models import Discriminator, Generator, init_weights
from daemon.gan.trainer import GanTrainer, RunSpec
from daemon.recording.recorder import Recorder
from daemon.runs import ensure_classifier


class BareLoop:
    """The DCGAN step and nothing else: no measures, no recording, no Python floats."""

    def __init__(self, preset, data):
        torch.manual_seed(0)
        self.rng = torch.Generator().manual_seed(0)
        self.preset, self.data = preset, data
        self.g = Generator(preset.latent_size, preset.generator_width, preset.generator_batchnorm)
        self.d = Discriminator(preset.discriminator_width, preset.discriminator_batchnorm)
        self.g.apply(init_weights)
        self.d.apply(init_weights)
        self.opt_g = torch.optim.Adam(self.g.parameters(), lr=preset.lr_generator, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(self.d.parameters(), lr=preset.lr_discriminator, betas=(0.5, 0.999))

    def step(self) -> None:
        n, g, d = self.preset.batch_size, self.g, self.d
        fake = g(torch.randn(n, self.preset.latent_size, generator=self.rng))
        real_logits, fake_logits = d(self.data.batch(n, self.rng)), d(fake.detach())
        loss_d = F.binary_cross_entropy_with_logits(
            real_logits, torch.ones_like(real_logits)
        ) + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        logits = d(fake)
        loss_g = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()


class FullLoop:
    """The product's trainer: every stream, the classifier, grids, and the recording on disk."""

    def __init__(self, loaded, preset, data, classifier, folder: Path):
        spec = RunSpec("overhead", "healthy", preset, 1, 10**9)
        self.trainer = GanTrainer(spec, data, torch.device("cpu"), loaded.config.streams, classifier)
        self.recorder = Recorder(folder, spec, "cpu")

    def step(self) -> None:
        self.recorder.on_frame(self.trainer.step())


def block_seconds(loop, steps: int) -> float:
    started = time.perf_counter()
    for _ in range(steps):
        loop.step()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=None)
    parser.add_argument("--blocks", type=int, default=20)
    parser.add_argument("--block-steps", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    loaded = load(Path(args.config) if args.config else None)
    preset = loaded.config.runs["healthy"]
    data = load_images(loaded.mnist_path, True)
    classifier = ensure_classifier(loaded, torch.device("cpu"))
    bare_times, full_times = [], []
    with tempfile.TemporaryDirectory() as folder:
        bare, full = BareLoop(preset, data), FullLoop(loaded, preset, data, classifier, Path(folder))
        block_seconds(bare, 20), block_seconds(full, 20)  # warm-up
        # Alternate blocks, so the machine's drifts and neighbours hit both loops alike. A block
        # holds whole cadences (classifier, grid: every 25 steps), so medians keep their cost.
        for index in range(args.blocks):
            # ABBA order: whichever loop runs second in a pair gets no systematic advantage.
            pair = [(bare, bare_times), (full, full_times)]
            for loop, times in pair if index % 2 == 0 else reversed(pair):
                times.append(block_seconds(loop, args.block_steps))
        full.recorder.close()
    b = args.block_steps / statistics.median(bare_times)
    f = args.block_steps / statistics.median(full_times)
    print(
        f"threads {args.threads}, batch {preset.batch_size}, {args.blocks} alternating blocks of "
        f"{args.block_steps} steps each; cadences: samples every {loaded.config.streams.sample_metrics_every_steps}, "
        f"classifier every {loaded.config.streams.classifier_every_steps}, grid every "
        f"{loaded.config.streams.grid_every_steps} steps"
    )
    print(f"bare loop       {b:6.2f} steps/s (median block)")
    print(f"streams+record  {f:6.2f} steps/s (median block)")
    spread = statistics.quantiles([t / args.block_steps * 1000 for t in bare_times], n=4)
    print(
        f"ratio full/bare {f / b:.3f}  → overhead {100 * (1 - f / b):.1f} %  (goal ≤ 3 %); "
        f"bare block-to-block quartiles {spread[0]:.1f}–{spread[2]:.1f} ms/step"
    )


if __name__ == "__main__":
    main()

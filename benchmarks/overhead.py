"""Cost of the streams: steps/s of a bare training loop vs. the trainer with every stream and recording.

    TWOS_AND_SEVENS_MNIST=../shared/data/mnist .venv/bin/python benchmarks/overhead.py [--steps 300 --rounds 3]

Both run the same model and batch in one process, alternating rounds so drift hits both alike.
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

from daemon.config import load  # noqa: E402
from daemon.gan.dataset import load_images  # noqa: E402
from daemon.gan.models import Discriminator, Generator, init_weights  # noqa: E402
from daemon.gan.trainer import GanTrainer, RunSpec  # noqa: E402
from daemon.recording.recorder import Recorder  # noqa: E402
from daemon.runs import ensure_classifier  # noqa: E402


def bare_loop(preset, data, steps: int) -> float:
    """The DCGAN step and nothing else: no measures, no recording, no Python floats."""
    torch.manual_seed(0)
    rng = torch.Generator().manual_seed(0)
    g = Generator(preset.latent_size, preset.generator_width, preset.generator_batchnorm)
    d = Discriminator(preset.discriminator_width, preset.discriminator_batchnorm)
    g.apply(init_weights)
    d.apply(init_weights)
    opt_g = torch.optim.Adam(g.parameters(), lr=preset.lr_generator, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=preset.lr_discriminator, betas=(0.5, 0.999))
    n = preset.batch_size
    started = time.perf_counter()
    for _ in range(steps):
        fake = g(torch.randn(n, preset.latent_size, generator=rng))
        real_logits, fake_logits = d(data.batch(n, rng)), d(fake.detach())
        loss_d = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits)) + \
            F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        logits = d(fake)
        loss_g = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
    return steps / (time.perf_counter() - started)


def full_loop(loaded, preset, data, classifier, steps: int, folder: Path) -> float:
    """The product's trainer: every stream, the classifier, grids, and the recording on disk."""
    spec = RunSpec(f"overhead-{time.monotonic_ns()}", "healthy", preset, 0, steps)
    trainer = GanTrainer(spec, data, torch.device("cpu"), loaded.config.streams, classifier)
    recorder = Recorder(folder, spec, "cpu")
    started = time.perf_counter()
    for frame in trainer.frames():
        recorder.on_frame(frame)
    rate = steps / (time.perf_counter() - started)
    recorder.close()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=None)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    loaded = load(Path(args.config) if args.config else None)
    preset = loaded.config.runs["healthy"]
    data = load_images(loaded.mnist_path, True)
    classifier = ensure_classifier(loaded, torch.device("cpu"))
    bare, full = [], []
    with tempfile.TemporaryDirectory() as folder:
        bare_loop(preset, data, 20)  # warm-up
        for _ in range(args.rounds):
            bare.append(bare_loop(preset, data, args.steps))
            full.append(full_loop(loaded, preset, data, classifier, args.steps, Path(folder)))
    b, f = statistics.median(bare), statistics.median(full)
    print(f"threads {args.threads}, batch {preset.batch_size}, {args.steps} steps × {args.rounds} rounds")
    print(f"bare loop      {b:6.2f} steps/s   (rounds: {', '.join(f'{x:.2f}' for x in bare)})")
    print(f"streams+record {f:6.2f} steps/s   (rounds: {', '.join(f'{x:.2f}' for x in full)})")
    print(f"ratio full/bare {f / b:.3f}  → overhead {100 * (1 - f / b):.1f} %  (goal ≤ 3 %)")


if __name__ == "__main__":
    main()

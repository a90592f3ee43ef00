"""The four regimes × seeds, judged by measures at fixed steps: the table in docs/regimes.md.

    TWOS_AND_SEVENS_MNIST=../shared/data/mnist .venv/bin/python benchmarks/regimes.py \
        --steps 3000 --seeds 1 2 3 --images docs/img

Prints a Markdown table; with --images, saves each regime's final sample grid for the first seed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from daemon.config import load
from daemon.gan.dataset import load_images
from daemon.gan.judge import judge_run, verdict
from daemon.gan.trainer import GanTrainer, RunSpec, grid_image
from daemon.runs import ensure_classifier

COLUMNS = ("classifier_confidence", "class_perplexity", "similarity", "pixel_entropy", "sharpness", "rms")


def one_run(
    config_path: str | None,
    preset: str,
    seed: int,
    steps: int,
    checkpoints: list[int],
    threads: int,
    images: str | None,
) -> list[dict]:
    torch.set_num_threads(threads)
    loaded = load(Path(config_path) if config_path else None)
    device = torch.device("cpu")
    data = load_images(loaded.mnist_path, True, device)
    classifier = ensure_classifier(loaded, device)
    spec = RunSpec(f"bench-{preset}-s{seed}", preset, loaded.config.runs[preset], seed, steps)
    trainer = GanTrainer(spec, data, device, loaded.config.streams, classifier)
    rows, started = [], time.perf_counter()
    for step, measures, frame in judge_run(trainer, checkpoints):
        rows.append(
            {
                "preset": preset,
                "seed": seed,
                "step": step,
                **measures,
                "d_accuracy_real": frame.d_accuracy_real,
                "d_accuracy_fake": frame.d_accuracy_fake,
                "loss_discriminator": frame.loss_discriminator,
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    if images:
        Path(images).mkdir(parents=True, exist_ok=True)
        Image.fromarray(grid_image(trainer.sample(trainer.grid_latent))).save(
            Path(images) / f"regime-{preset}-s{seed}-step{steps}.png"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=None)
    parser.add_argument("--presets", nargs="+", default=["healthy", "collapsed", "underfit", "random"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--checkpoints", nargs="+", type=int, default=[300, 500, 1000, 1500, 2000, 3000])
    parser.add_argument("--jobs", type=int, default=2, help="runs in parallel (threads are split among them)")
    parser.add_argument("--images", default=None, help="folder for the final grids of the first seed")
    parser.add_argument("--json", default=None, help="also write every row to this JSON file")
    parser.add_argument("--from-json", default=None, help="print the table of an earlier --json, re-judged")
    args = parser.parse_args()
    if args.from_json:
        rows = json.loads(Path(args.from_json).read_text())
        for row in rows:
            row["verdict"] = verdict(row)
        print_table(rows)
        return
    checkpoints = [c for c in args.checkpoints if c <= args.steps] + [args.steps]
    threads = max(1, torch.get_num_threads() // args.jobs)
    jobs = [(p, s) for p in args.presets for s in args.seeds]
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [
            pool.submit(
                one_run,
                args.config,
                p,
                s,
                args.steps,
                sorted(set(checkpoints)),
                threads,
                args.images if s == args.seeds[0] else None,
            )
            for p, s in jobs
        ]
        rows = [row for f in futures for row in f.result()]
    print_table(rows)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


def print_table(rows: list[dict]) -> None:
    rows = sorted(rows, key=lambda r: (r["preset"], r["seed"], r["step"]))
    print(
        "| regime | seed | step | confidence | class perplexity | similarity | pixel entropy (bits) "
        "| sharpness | rms | D acc real/fake | verdict |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['preset']} | {r['seed']} | {r['step']} | "
            + " | ".join(f"{r[c]:.3f}" for c in COLUMNS)
            + f" | {r['d_accuracy_real']:.2f}/{r['d_accuracy_fake']:.2f} | {r['verdict']} |"
        )


if __name__ == "__main__":
    main()

"""When each regime's arc is over, as a fraction of its run's duration: paced linearly and by its preset.

    TWOS_AND_SEVENS_MNIST=../shared/data/mnist .venv/bin/python benchmarks/pacing_arc.py \
        --json /tmp/pacing-arc.json            # 4 regimes × seeds 1 2 3 at their full steps
    .venv/bin/python benchmarks/pacing_arc.py --from-json /tmp/pacing-arc.json   # re-analyse, no training
    ... benchmarks/pacing_arc.py --quick       # healthy and collapsed, one seed, 600 steps
    ... benchmarks/pacing_arc.py --wall 20     # also pace a real 20 s run and time its steps

Each run trains its preset's full steps flat out (real torch, CPU), keeping every fresh measurement
of `classifier_confidence`, `pixel_entropy` and `sharpness` (the cadence of `[streams]`). Training
outcomes do not depend on pacing — a Pacer only sleeps between steps — and a pacing law is a
fixed map from step to time, so the time of each step is computed from the law instead of
waiting out 240 s per run. `--wall` checks that assumption: it really paces a short run of each
preset with the daemon's Pacer and reports how far its steps' start times and its end strayed
from the law.

"90 % of the change is reached" at the first step from which the smoothed stream stays within
10 % of the change of its final level: the stream is smoothed by a centred running mean over 5 %
of the run's steps, its first value is the untrained generator's (step 1, raw), its final level
the mean of the last 10 % of the run's measurements. A stream that changes by less than
`--flat` of its final level has no arc to time ("—"); random's generator never moves.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from daemon.config import load
from daemon.gan.classifier import load_classifier
from daemon.gan.dataset import load_images
from daemon.gan.pacing import Pacer, pacing_law
from daemon.gan.trainer import GanTrainer, RunSpec
from daemon.runs import ensure_classifier

STREAMS = ("classifier_confidence", "pixel_entropy", "sharpness")
SHORT = {"classifier_confidence": "confidence", "pixel_entropy": "entropy", "sharpness": "sharpness"}
SMOOTHING_FRACTION = 0.05
FINAL_FRACTION = 0.10
WITHIN = 0.10


def _trainer(config_path: str | None, classifier_path: str | None, preset: str, seed: int, steps: int) -> GanTrainer:
    loaded = load(Path(config_path) if config_path else None)
    device = torch.device("cpu")
    data = load_images(loaded.mnist_path, True, device)
    if classifier_path:
        classifier = load_classifier(Path(classifier_path), device)[0]
    else:
        classifier = ensure_classifier(loaded, device)
    spec = RunSpec(f"pacing-{preset}-s{seed}", preset, loaded.config.runs[preset], seed, steps)
    return GanTrainer(spec, data, device, loaded.config.streams, classifier)


def record_streams(
    config_path: str | None, classifier_path: str | None, preset: str, seed: int, steps: int | None, threads: int
) -> dict:
    """Train flat out; every fresh measurement of STREAMS as [step, value] pairs."""
    torch.set_num_threads(threads)
    loaded = load(Path(config_path) if config_path else None)
    steps = steps or loaded.config.runs[preset].steps
    trainer = _trainer(config_path, classifier_path, preset, seed, steps)
    series: dict[str, list[list[float]]] = {name: [] for name in STREAMS}
    started = time.perf_counter()
    for frame in trainer.frames():
        if frame.samples_step != frame.step:
            continue
        for name in STREAMS:
            value = frame.samples.get(name)
            if value is not None and (not series[name] or series[name][-1][0] != frame.step):
                series[name].append([frame.step, value])
    seconds = time.perf_counter() - started
    print(f"{preset} seed {seed}: {steps} steps in {seconds:.0f} s", file=sys.stderr, flush=True)
    return {"preset": preset, "seed": seed, "steps": steps, "train_seconds": seconds, "streams": series}


def arc_step(points: list[list[float]], steps: int, flat: float) -> int | None:
    """The step from which the smoothed stream stays within 10 % of its change of its final level."""
    at = np.array([p[0] for p in points], dtype=float)
    values = np.array([p[1] for p in points], dtype=float)
    final = float(values[at > steps * (1 - FINAL_FRACTION)].mean())
    change = final - float(values[0])
    if abs(change) <= flat * max(abs(final), 1e-9):
        return None
    half = steps * SMOOTHING_FRACTION / 2
    smooth = np.array([values[(at >= s - half) & (at <= s + half)].mean() for s in at])
    outside = np.nonzero(np.abs(smooth - final) > WITHIN * abs(change))[0]
    if not len(outside):
        return int(at[0])
    last = outside[-1]
    return int(at[min(last + 1, len(at) - 1)])


def fractions(run: dict, law, flat: float) -> dict[str, float | None]:
    """Per stream, the fraction of the duration at which its arc is over under `law` (step fraction → time)."""
    out: dict[str, float | None] = {}
    for name in STREAMS:
        step = arc_step(run["streams"][name], run["steps"], flat)
        out[name] = None if step is None else law(step / run["steps"])
    return out


def _cell(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def print_table(runs: list[dict], config_path: str | None, flat: float) -> None:
    presets = load(Path(config_path) if config_path else None).config.runs
    linear = pacing_law("linear", 1.0)
    print("| regime | pacing | seed | " + " | ".join(f"{SHORT[s]} linear | {SHORT[s]} paced" for s in STREAMS) + " |")
    print("|---|---|---|" + "---|---|" * len(STREAMS))
    worst: dict[str, list[float]] = {}
    for run in sorted(runs, key=lambda r: (r["preset"], r["seed"])):
        preset = presets[run["preset"]]
        law = pacing_law(preset.pacing, preset.pacing_exponent)
        flat_out, paced = fractions(run, linear, flat), fractions(run, law, flat)
        cells = [f"{_cell(flat_out[s])} | {_cell(paced[s])}" for s in STREAMS]
        label = preset.pacing if preset.pacing == "linear" else f"{preset.pacing} gamma={preset.pacing_exponent}"
        print(f"| {run['preset']} | {label} | {run['seed']} | " + " | ".join(cells) + " |")
        worst.setdefault(run["preset"], []).extend(v for v in paced.values() if v is not None)
    print()
    for preset, values in worst.items():
        if values:
            print(
                f"{preset}: arcs over at {min(values):.2f}–{max(values):.2f} of the duration "
                f"(median {statistics.median(values):.2f}) under its pacing"
            )


def wall_check(config_path: str | None, classifier_path: str | None, preset: str, seconds: float) -> str:
    """Really pace a `seconds`-long run of the preset (steps scaled to its pace) and time every step."""
    loaded = load(Path(config_path) if config_path else None)
    settings = loaded.config.runs[preset]
    steps = max(2, round(settings.steps * seconds / settings.duration_seconds))
    trainer = _trainer(config_path, classifier_path, preset, 1, steps)
    pacer = Pacer(seconds, steps, law=pacing_law(settings.pacing, settings.pacing_exponent))
    late = 0.0
    for index in range(steps):
        pacer.before_step()
        late = max(late, pacer.clock() - pacer.start - pacer.release_seconds(index))
        trainer.step()
        pacer.after_step()
    took = pacer.clock() - pacer.start
    return (
        f"{preset}: {steps} steps paced over {seconds:g} s took {took:.2f} s ({took / seconds - 1:+.1%}); "
        f"steps started at most {late * 1000:.0f} ms after the law's time; machine "
        f"{pacer.machine_steps_per_second:.1f} steps/s flat out"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=None)
    parser.add_argument("--classifier", default=None, help="a trained classifier.pt (default: the config's)")
    parser.add_argument("--presets", nargs="+", default=["healthy", "collapsed", "underfit", "random"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--steps", type=int, default=None, help="steps per run (default: each preset's)")
    parser.add_argument("--jobs", type=int, default=2, help="runs in parallel (threads are split among them)")
    parser.add_argument("--flat", type=float, default=0.02, help="a smaller relative change is no arc")
    parser.add_argument("--quick", action="store_true", help="healthy and collapsed, seed 1, 600 steps")
    parser.add_argument("--wall", type=float, default=None, help="also pace a real run this many seconds long")
    parser.add_argument("--json", default=None, help="also write every run's streams to this JSON file")
    parser.add_argument("--from-json", default=None, help="analyse the streams of an earlier --json")
    args = parser.parse_args()
    if args.quick:
        args.presets, args.seeds, args.steps = ["healthy", "collapsed"], [1], args.steps or 600
    if args.from_json:
        runs = json.loads(Path(args.from_json).read_text())
    else:
        threads = max(1, torch.get_num_threads() // args.jobs)
        with ProcessPoolExecutor(args.jobs) as pool:
            futures = [
                pool.submit(record_streams, args.config, args.classifier, p, s, args.steps, threads)
                for p in args.presets
                for s in args.seeds
            ]
            runs = [f.result() for f in futures]
        if args.json:
            Path(args.json).write_text(json.dumps(runs))
    print_table(runs, args.config, args.flat)
    if args.wall:
        print()
        for preset in args.presets:
            print(wall_check(args.config, args.classifier, preset, args.wall))


if __name__ == "__main__":
    main()

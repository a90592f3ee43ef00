"""Offline render speed as × real time at 2, 8, 16 and 32 channels (goal ≥ 20× at 8), in one process.

    .venv/bin/python benchmarks/render_speed.py RECORDING [--seconds 30] [--repeat 3]

The baseline printed first is pyo's bare cost for the same channel count: one sine per
channel through the same manual-mode server, so the ratio shows what the patch itself costs.
On a machine shared with other work, --repeat N renders each count N times and keeps the
fastest: what the render costs, without what the neighbours took.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from daemon.config import load
from daemon.recording.reader import Recording
from daemon.sound.render import render_blocks
from daemon.sound.server import ManualServer, pyo


def bare_speed(channels: int, seconds: float) -> float:
    server = ManualServer(channels, 48_000, 1024, 1)
    sines = pyo.Sine(freq=[110 * (k + 1) for k in range(channels)], mul=0.1).out()
    blocks = int(seconds / server.block_seconds)
    started = time.perf_counter()
    for _ in range(blocks):
        server.block()
    elapsed = time.perf_counter() - started
    del sines
    server.close()
    return blocks * server.block_seconds / elapsed


def patch_speed(recording: Recording, loaded, channels: int, seconds: float) -> float:
    started = time.perf_counter()
    done = sum(1 for _ in render_blocks(recording, loaded, channels, seconds=seconds))  # blocks rendered
    return done * 1024 / 48_000 / (time.perf_counter() - started)


def fastest(repeat: int, measure, *args) -> float:
    return max(measure(*args) for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("recording")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--config", default=None)
    parser.add_argument("--contrast", type=float, default=None, help="[digits] contrast (default: the config's)")
    parser.add_argument("--repeat", type=int, default=1, help="renders per channel count; the fastest is printed")
    args = parser.parse_args()
    loaded = load(Path(args.config) if args.config else None)
    if args.contrast is not None:  # the digit layer's contrast, computed at control rate: does it cost anything?
        digits = loaded.config.digits.model_copy(update={"contrast": args.contrast})
        loaded = type(loaded)(
            loaded.config.model_copy(update={"digits": digits}), loaded.source, loaded.base_dir, loaded.text
        )
    recording = Recording(Path(args.recording))
    contrast = loaded.config.digits.contrast
    print(
        f"{args.seconds:.0f} s of {recording.run_id}, 48 kHz, 1024-frame blocks, one core, digit contrast {contrast:g}"
        + (f", fastest of {args.repeat}" if args.repeat > 1 else "")
    )
    for channels in (2, 8, 16, 32):
        bare = fastest(args.repeat, bare_speed, channels, args.seconds)
        patch = fastest(args.repeat, patch_speed, recording, loaded, channels, args.seconds)
        print(
            f"{channels:2d} channels: whole patch {patch:6.1f}× real time; bare server {bare:7.1f}×; "
            f"patch/bare {patch / bare:.3f}  (goal ≥ 20× at 8)"
        )


if __name__ == "__main__":
    main()

"""Scene cost on this machine's GL: ms per frame per scene against passthrough, uploads and readback.

    TWOS_AND_SEVENS_MNIST=../shared/data/mnist .venv/bin/python benchmarks/visuals.py [RECORDING] \
        [--frames 40] [--sizes 1280x720 1920x1080]

Headless (EGL). Each scene is drawn into its framebuffers and presented, then glFinish: the
time is the GPU's (llvmpipe's, on a machine without one). Scenes are measured in rounds, the
order rotating, and the median frame time is kept; the ratio is against passthrough (the grid
texture drawn as it is) measured in the same rounds (goal: every scene ≤ 2×). Uploads are the
inputs a frame may bring (grid, insides, lanes); readback is one full frame to numpy.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from daemon.config import load
from daemon.recording.reader import Recording, list_recordings
from daemon.testing import feed
from daemon.visuals.director import VisualDirector
from daemon.visuals.headless import HeadlessCanvas

SCENES = ["passthrough", "samples", "data", "inside"]


def timed(action, repeats: int) -> float:
    """Median milliseconds of `action()` (which must finish its GPU work itself)."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("recording", nargs="?", default=None, help="default: the newest recording")
    parser.add_argument("--frames", type=int, default=40, help="frames per scene per size")
    parser.add_argument("--sizes", nargs="+", default=["1280x720", "1920x1080"])
    args = parser.parse_args()
    loaded = load()
    recording = Recording(Path(args.recording)) if args.recording else list_recordings(loaded.recordings_path)[-1]
    director = VisualDirector(loaded.config.mapping, loaded.config.video)
    feed(director, recording.frames())
    director.fade(1.0, 0.0)
    director.tick(0.1)
    print(f"recording {recording.run_id}; median of {args.frames} frames per scene, rounds interleaved")
    for size in args.sizes:
        width, height = (int(v) for v in size.split("x"))
        canvas = HeadlessCanvas(loaded.shaders_path, width, height)
        print(f"\n{width}×{height} on {canvas.ctx.info['GL_RENDERER']}")
        times: dict[str, list[float]] = {scene: [] for scene in SCENES}
        for scene in SCENES:
            canvas.draw(scene, director, read=False)  # compile and warm up
        rounds = max(1, args.frames // 5)
        for round_index in range(rounds):
            order = SCENES[round_index % len(SCENES) :] + SCENES[: round_index % len(SCENES)]
            for scene in order:
                for _ in range(5):
                    director.tick(1 / 30)
                    started = time.perf_counter()
                    canvas.draw(scene, director, read=False)
                    times[scene].append((time.perf_counter() - started) * 1000)
        base = statistics.median(times["passthrough"])
        for scene in SCENES:
            median = statistics.median(times[scene])
            print(
                f"  {scene:12s} {median:7.2f} ms/frame  {median / base:5.2f}× passthrough"
                f"{'' if scene == 'passthrough' else '  (goal ≤ 2×)'}"
            )
        readback = timed(functools.partial(canvas.output.read, components=3, alignment=1), 20)
        print(f"  readback of one frame: {readback:.2f} ms")
        canvas.release()
    canvas = HeadlessCanvas(loaded.shaders_path, 64, 64)
    inputs = director.inputs

    def upload():
        canvas.textures.uploaded.clear()  # as if every picture were new: grid, insides and lanes all go up
        canvas.textures.upload(inputs)
        canvas.ctx.finish()

    pictures = (("samples", inputs.grid), ("inside", inputs.insides), ("lanes", inputs.lanes))
    shapes = ", ".join(
        f"{name} {'×'.join(str(v) for v in array.shape[::-1])} {array.dtype}" for name, array in pictures
    )
    print(f"upload of every input texture ({shapes}): {timed(upload, 200):.3f} ms")
    canvas.release()


if __name__ == "__main__":
    main()

"""What watching its own output costs: the speaker meters against the audio block, a look against a frame.

    .venv/bin/python benchmarks/watch_cost.py [--channels 8] [--blocks 2000] [--frames 60] [--size 1920x1080]

Sound: the whole patch (drone, grains, glitch, noise, master) rendered block by block in pyo's
manual mode, with and without OutputMeters on the master (sampled at the control rate, 30 Hz,
as the sound child does), in alternating rounds; the meters' share is the difference as a
percentage of the block's real-time budget (block_frames / sample rate). Image: the samples
scene drawn and presented at --size through EGL; a look (present again into a 160×90
framebuffer, read back, compare, JPEG) done at once, as before, and the projectors' way, its
steps spread over three frames so no frame's drawing is flushed for it (daemon/visuals/looks.py);
each as a share of the frame it lands on, measured in the same run (issue 12's goal: < 2 %),
and its average share, its cost spread over the frames between two looks (every 2 s at the
projector's fps).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from daemon.config import parse
from daemon.sound.engine import SoundEngine
from daemon.sound.meters import OutputMeters
from daemon.sound.server import ManualServer
from daemon.visuals.director import VisualDirector
from daemon.visuals.headless import HeadlessCanvas
from daemon.visuals.looks import LOOK_EVERY_SECONDS, Looker

CONTROL_HZ = 30.0


def sound(channels: int, blocks: int) -> dict:
    config = parse("")
    audio = config.audio
    server = ManualServer(channels, audio.sample_rate_hz, audio.block_frames, audio.seed)
    try:
        engine = SoundEngine(audio, config.space, config.digits, channels, audio.sample_rate_hz, Path("."))
        meters = OutputMeters(engine.master.output)
        per_sample = max(1, round(audio.sample_rate_hz / audio.block_frames / CONTROL_HZ))
        plain, metered = [], []
        for round_ in range(6):
            for with_meters in (round_ % 2 == 0, round_ % 2 == 1):
                meters.rms.play() if with_meters else meters.rms.stop()
                meters.peak.play() if with_meters else meters.peak.stop()
                started = time.perf_counter()
                for k in range(blocks // 6):
                    server.block()
                    if with_meters and k % per_sample == 0:
                        meters.sample()
                (metered if with_meters else plain).append((time.perf_counter() - started) / (blocks // 6))
    finally:
        server.close()
    budget = audio.block_frames / audio.sample_rate_hz
    block, with_meters = statistics.median(plain), statistics.median(metered)
    return {
        "block_ms": round(block * 1000, 3),
        "metered_block_ms": round(with_meters * 1000, 3),
        "budget_ms": round(budget * 1000, 3),
        "meters_percent_of_budget": round(100 * (with_meters - block) / budget, 2),
        "metered_over_plain": round(with_meters / block, 3),
    }


def image(size: tuple[int, int], frames: int, fps: float = 30.0) -> dict:
    """Frames of the samples scene, in a repeating cycle: plain; with a look done at once (the old way,
    the baseline); and a look the projectors' way, whose three steps land on three frames: begin
    (the thumbnail drawn after the frame), copy (into the pixel buffer, before the next frame is
    drawn), judge (mapped, compared, JPEG). Each step is timed around it; begin also gets the GPU
    time of drawing the thumbnail, which the frame's finish (a window's swap) does with the frame.
    Shares are of the plain frames' median time in the same run."""
    canvas = HeadlessCanvas(Path(__file__).resolve().parents[1] / "shaders", *size)
    director = VisualDirector([], parse("").video)
    director.fade(1.0, 0.0)
    looker = Looker(canvas.ctx)
    texture = canvas.output.color_attachments[0]

    def present(target) -> None:
        canvas.presenter.present(texture, target, (0, 0, 1, 1), 0, 1.0)

    steps: dict[str, Callable[[], object]] = {
        "look_at_once": lambda: looker.look(present),
        "begin": lambda: looker.begin(present),
        "copy": looker.advance,
        "judge": looker.advance,
    }
    before_drawing = {"copy", "judge"}  # advance() runs before the frame is drawn, as in ProjectorWall._draw

    def frame(step: str | None) -> tuple[float, float]:
        """(the frame's seconds, the step's seconds)."""
        started = time.perf_counter()
        director.tick(1 / fps)
        spent = 0.0
        if step in before_drawing:
            spent = timed(steps[step])
        canvas.draw("samples", director, read=False)  # ends with a finish: the frame's drawing is done
        if step is not None and step not in before_drawing:
            spent = timed(steps[step])
        canvas.ctx.finish()  # the swap: a begun thumbnail is drawn here, with the frame (see below)
        return time.perf_counter() - started, spent

    cycle = [None, "look_at_once", None, "begin", "copy", "judge"]
    totals: dict[str | None, list[float]] = {step: [] for step in cycle}
    costs: dict[str | None, list[float]] = {step: [] for step in cycle}
    try:
        for step in cycle:  # compile and warm up
            frame(step)
        for index in range(frames):
            step = cycle[index % len(cycle)]
            total, spent = frame(step)
            totals[step].append(total)
            costs[step].append(spent)
        # What begin's thumbnail adds to the GPU's work: drawing it and finishing, less finishing alone
        # (the swap's round trip, which a frame makes anyway; the look at once makes one of its own).
        drawn = statistics.median(timed(lambda: (present(looker.framebuffer), canvas.ctx.finish())) for _ in range(50))
        idle = statistics.median(timed(canvas.ctx.finish) for _ in range(50))
        costs["begin"] = [spent + max(0.0, drawn - idle) for spent in costs["begin"]]
    finally:
        looker.release()
        canvas.release()
    frame_s = statistics.median(totals[None])
    result: dict = {"frame_ms": round(frame_s * 1000, 2)}
    for step in steps:
        cost = statistics.median(costs[step])
        result[f"{step}_ms"] = round(cost * 1000, 3)
        result[f"{step}_percent_of_its_frame"] = round(100 * cost / frame_s, 2)
    worst = max(statistics.median(costs[step]) for step in ("begin", "copy", "judge"))
    whole = sum(statistics.median(costs[step]) for step in ("begin", "copy", "judge"))
    result["look_percent_of_the_frame_it_lands_on"] = {
        "at_once (before)": result["look_at_once_percent_of_its_frame"],
        "over three frames (now, its largest step)": round(100 * worst / frame_s, 2),
    }
    result["look_percent_averaged"] = round(100 * whole / (frame_s * LOOK_EVERY_SECONDS * fps), 3)
    return result


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--blocks", type=int, default=2400)
    parser.add_argument("--frames", type=int, default=120, help="image frames (a cycle of six: two plain)")
    parser.add_argument("--image-only", action="store_true", help="skip the sound meters")
    parser.add_argument("--size", default="1920x1080")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    if not args.image_only:
        print("sound meters:", sound(args.channels, args.blocks), flush=True)
    print(f"projector looks at {width}x{height}:", image((width, height), args.frames))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

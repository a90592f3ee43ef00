"""What watching its own output costs: the speaker meters against the audio block, a look against a frame.

    .venv/bin/python benchmarks/watch_cost.py [--channels 8] [--blocks 2000] [--frames 60] [--size 1920x1080]

Sound: the whole patch (drone, grains, glitch, noise, master) rendered block by block in pyo's
manual mode, with and without OutputMeters on the master (sampled at the control rate, 30 Hz,
as the sound child does), in alternating rounds; the meters' share is the difference as a
percentage of the block's real-time budget (block_frames / sample rate). Image: the samples
scene drawn and presented at --size through EGL, with and without a look (present again into a
160×90 framebuffer, read back, compare, JPEG) on every frame; the look's average share is its
cost spread over the frames between two looks (every 2 s at the projector's fps).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
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
    canvas = HeadlessCanvas(Path(__file__).resolve().parents[1] / "shaders", *size)
    director = VisualDirector([], parse("").video)
    director.fade(1.0, 0.0)
    looker = Looker(canvas.ctx)
    texture = canvas.output.color_attachments[0]

    def frame(look: bool) -> float:
        started = time.perf_counter()
        director.tick(1 / fps)
        canvas.draw("samples", director, read=False)
        if look:
            looker.look(lambda target: canvas.presenter.present(texture, target, (0, 0, 1, 1), 0, 1.0))
        canvas.ctx.finish()
        return time.perf_counter() - started

    plain, looked = [], []
    try:
        frame(True)  # compile and warm up
        for round_ in range(frames):
            (looked if round_ % 2 else plain).append(frame(round_ % 2 == 1))
    finally:
        looker.release()
        canvas.release()
    frame_s, look_s = statistics.median(plain), statistics.median(looked) - statistics.median(plain)
    frames_between_looks = LOOK_EVERY_SECONDS * fps
    return {
        "frame_ms": round(frame_s * 1000, 2),
        "look_ms": round(look_s * 1000, 3),
        "look_percent_of_the_frame_it_lands_on": round(100 * look_s / frame_s, 2),
        "look_percent_averaged": round(100 * look_s / (frame_s * frames_between_looks), 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--blocks", type=int, default=2400)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--size", default="1920x1080")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    print("sound meters:", sound(args.channels, args.blocks), flush=True)
    print(f"projector looks at {width}x{height}:", image((width, height), args.frames))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

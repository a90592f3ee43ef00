"""Would the watch trip on a shipped regime? Each regime's sound per speaker and each default scene, at its pace.

    TWOS_AND_SEVENS_MNIST=../shared/data/mnist .venv/bin/python benchmarks/watch_regimes.py [--steps 400]

Real training (flat out, CPU) gives each regime's frames; they are then fed to the visual
director with the shipped mappings at the pace the preset plays them (steps / duration_seconds),
the scene drawn at 10 fps through EGL, and looked at every 2 s of run time exactly as a
projector window does (daemon.visuals.looks). Printed per regime and scene: the looks, the
smallest change between two looks, and how many fell below [watch] frozen_change; the watch
trips only when every look for frozen_seconds (30 s: 15 looks) does. The sound: the same frames
through the whole patch (8 speakers, pyo offline in manual mode, the shipped mappings), metered
as the sound child does; printed per regime, each speaker's quietest second after the first 5 s
and the longest stretch below [watch] silence_floor_dbfs (the watch trips at silence_seconds).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from daemon.config import parse
from daemon.config.loader import SHIPPED_SHADERS, LoadedConfig
from daemon.testing import feed
from daemon.testing.training import train_frames

FPS = 10


def sound(loaded: LoadedConfig, trained: dict, channels: int = 8) -> None:
    from daemon.sound.conductor import Conductor
    from daemon.sound.engine import SoundEngine
    from daemon.sound.meters import OutputMeters
    from daemon.sound.server import ManualServer

    config, floor = loaded.config, loaded.config.watch.silence_floor_dbfs
    print(f"[watch] silence_floor_dbfs = {floor}, {channels} speakers")
    for preset, frames in trained.items():
        audio = config.audio
        server = ManualServer(channels, audio.sample_rate_hz, audio.block_frames, audio.seed)
        try:
            engine = SoundEngine(audio, config.space, config.digits, channels, audio.sample_rate_hz, loaded.base_dir)
            conductor = Conductor(engine, config.mapping, audio)
            meters = OutputMeters(engine.master.output)
            conductor.fade(1.0, 0.0)
            per_block = config.runs[preset].steps / config.runs[preset].duration_seconds * server.block_seconds
            blocks_a_second = round(1 / server.block_seconds)
            seconds: list[list[float]] = []
            for block in range(int(len(frames) / per_block)):
                feed(conductor, frames[int(block * per_block) : int((block + 1) * per_block)])
                conductor.tick(server.block_seconds)
                server.block()
                meters.sample()
                if block % blocks_a_second == blocks_a_second - 1:
                    seconds.append(meters.report()["levels_dbfs"])
        finally:
            server.close()
        after = seconds[5:]
        quietest = [min(second[k] for second in after) for k in range(channels)]
        longest = 0
        for k in range(channels):
            run = 0
            for second in after:
                run = run + 1 if second[k] < floor else 0
                longest = max(longest, run)
        shown = " ".join(f"{level:6.1f}" for level in quietest)
        print(f"{preset:10s} quietest second per speaker (dBFS): {shown}   longest below the floor: {longest} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--presets", nargs="*", default=["healthy", "collapsed", "underfit", "random"])
    args = parser.parse_args()
    mnist = os.environ.get("TWOS_AND_SEVENS_MNIST", "../shared/data/mnist")
    loaded = LoadedConfig(parse(f'[data]\nmnist_path = "{Path(mnist).resolve()}"\n'), "benchmark", Path.cwd())
    config = loaded.config
    # All training first: torch and an EGL context in one process are kept apart in time.
    trained = {preset: train_frames(loaded, preset, args.steps)[0] for preset in args.presets}
    from daemon.visuals.director import VisualDirector
    from daemon.visuals.headless import HeadlessCanvas
    from daemon.visuals.looks import LOOK_EVERY_SECONDS, Looker

    sound(loaded, trained)
    canvas = HeadlessCanvas(SHIPPED_SHADERS, 320, 180)
    texture = canvas.output.color_attachments[0]
    threshold = config.watch.frozen_change
    print(f"[watch] frozen_change = {threshold}, looks every {LOOK_EVERY_SECONDS} s, {args.steps} steps a regime")
    for preset, frames in trained.items():
        per_tick = config.runs[preset].steps / config.runs[preset].duration_seconds / FPS
        for projector in config.video.projector:
            director = VisualDirector(config.mapping, config.video)
            director.fade(1.0, 0.0)
            looker = Looker(canvas.ctx)
            changes, due = [], 0.0
            for tick in range(int(len(frames) / per_tick)):
                feed(director, frames[int(tick * per_tick) : int((tick + 1) * per_tick)])
                director.tick(1 / FPS)
                canvas.draw(projector.scene, director, read=False)
                if tick / FPS >= due:
                    look = looker.look(lambda target: canvas.presenter.present(texture, target, (0, 0, 1, 1), 0, 1.0))
                    changes.append(look.change)
                    due += LOOK_EVERY_SECONDS
            looker.release()
            judged = [change for change in changes if change is not None]
            print(
                f"{preset:10s} {projector.scene:8s} looks {len(judged):3d}  smallest change {min(judged):7.3f}  "
                f"below {threshold}: {sum(change < threshold for change in judged)}",
                flush=True,
            )
    canvas.release()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Would the watch trip on a shipped regime? Each regime's sound per speaker and each default scene, at its pace.

    TWOS_AND_SEVENS_MNIST=../shared/data/mnist .venv/bin/python benchmarks/watch_regimes.py \
        [--steps 400 | --steps 0] [--classifier var/classifier.pt]

Real training (flat out, CPU) gives each regime's frames (`--steps 0`: the preset's whole run;
with `--classifier`, the judge's streams and the digit layer too); they are then fed to the visual
director with the shipped mappings at the times the preset's pacing law releases them,
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
import pickle
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from daemon.config import parse
from daemon.config.loader import SHIPPED_SHADERS, LoadedConfig
from daemon.gan.classifier import load_classifier
from daemon.testing import feed, paced_batches
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
            blocks_a_second = round(1 / server.block_seconds)
            seconds: list[list[float]] = []
            for block, batch in enumerate(paced_batches(frames, config.runs[preset], server.block_seconds)):
                feed(conductor, batch)
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
    parser.add_argument("--steps", type=int, default=400, help="steps a regime; 0: the preset's whole run")
    parser.add_argument("--classifier", type=Path, help="the judge's weights (var/classifier.pt): digits heard too")
    parser.add_argument("--frames", type=Path, help="keep the trained frames in this file, or read them from it")
    parser.add_argument("--presets", nargs="*", default=["healthy", "collapsed", "underfit", "random"])
    args = parser.parse_args()
    mnist = os.environ.get("TWOS_AND_SEVENS_MNIST", "../shared/data/mnist")
    loaded = LoadedConfig(parse(f'[data]\nmnist_path = "{Path(mnist).resolve()}"\n'), "benchmark", Path.cwd())
    config = loaded.config
    # All training first: torch and an EGL context in one process are kept apart in time.
    if args.frames and args.frames.exists():  # measured before: only the sound and the looks again
        trained = pickle.loads(args.frames.read_bytes())
    else:
        judge = load_classifier(args.classifier, torch.device("cpu"))[0] if args.classifier else None
        trained = {
            preset: train_frames(loaded, preset, args.steps or config.runs[preset].steps, classifier=judge)[0]
            for preset in args.presets
        }
        if args.frames:
            args.frames.write_bytes(pickle.dumps(trained))
    from daemon.visuals.director import VisualDirector
    from daemon.visuals.headless import HeadlessCanvas
    from daemon.visuals.looks import LOOK_EVERY_SECONDS, Looker

    sound(loaded, trained)
    canvas = HeadlessCanvas(SHIPPED_SHADERS, 320, 180)
    texture = canvas.output.color_attachments[0]
    threshold = config.watch.frozen_change
    steps = args.steps or "all the"
    print(f"[watch] frozen_change = {threshold}, looks every {LOOK_EVERY_SECONDS} s, {steps} steps a regime")
    for preset, frames in trained.items():
        for projector in config.video.projector:
            director = VisualDirector(config.mapping, config.video)
            director.fade(1.0, 0.0)
            looker = Looker(canvas.ctx)
            changes, due = [], 0.0
            for tick, batch in enumerate(paced_batches(frames, config.runs[preset], 1 / FPS)):
                feed(director, batch)
                director.tick(1 / FPS)
                canvas.draw(projector.scene, director, read=False)
                if tick / FPS >= due:
                    look = looker.look(lambda target: canvas.presenter.present(texture, target, (0, 0, 1, 1), 0, 1.0))
                    changes.append(look.change)
                    due += LOOK_EVERY_SECONDS
            looker.release()
            judged = [change for change in changes if change is not None]
            streak = longest = 0
            for change in judged:
                streak = streak + 1 if change < threshold else 0
                longest = max(longest, streak)
            print(
                f"{preset:10s} {projector.scene:8s} looks {len(judged):3d}  smallest change {min(judged):7.3f}  "
                f"below {threshold}: {sum(change < threshold for change in judged)}, "
                f"longest {longest * LOOK_EVERY_SECONDS:.0f} s (trips at {config.watch.frozen_seconds:.0f} s)",
                flush=True,
            )
    canvas.release()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

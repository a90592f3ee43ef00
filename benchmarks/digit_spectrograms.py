"""The digit layer heard: how many voices sound in healthy and collapsed runs per contrast, and their spectrograms.

    TWOS_AND_SEVENS_MNIST=../shared/data/mnist .venv/bin/python benchmarks/digit_spectrograms.py \
        [--seed 1] [--contrasts 0 0.2 1] [--png docs/img] [--classifier var/classifier.pt]

Trains healthy (500 steps) and collapsed (400) flat out with the real trainer and classifier, renders
each run's digit layer alone (the shipped composition, every other layer held silent) re-timed to 40 s,
and counts per one-second window of the second half the voices within 15 dB of the loudest — the
measure tests/test_sound_digits.py asserts on (healthy ≥ 5, collapsed ≤ 3). With --png it writes
digits-healthy.png and digits-collapsed.png: the spectrogram of the shipped contrast's render, the
ten voices' pitches marked and numbered at the left.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from daemon.config import LoadedConfig, load
from daemon.config.schema import MappingEntry
from daemon.recording.reader import Recording
from daemon.runs import Instrument
from daemon.sound.digits import digit_frequencies
from daemon.sound.key import key_ratio
from daemon.testing import config_for, render_audio

SR = 48_000
RUN_SECONDS = 40.0
CHORD_DB = 15.0
STEPS = {"healthy": 500, "collapsed": 400}
SILENCED = ("drone", "grains", "glitch", "noise")
LOW_HZ, HIGH_HZ = 150.0, 1000.0
DISPLAY_DB = 30.0  # about what is heard: a voice more than 15 dB under the loudest shows only faintly


def digits_alone(loaded: LoadedConfig, contrast: float) -> LoadedConfig:
    silent = [
        MappingEntry(source="progress", target=target, output_min=0.0, output_max=0.0, smoothing_seconds=0.0)
        for target in [f"sound.{layer}.level" for layer in SILENCED] + ["sound.overdrive.drive"]
    ]
    kept = [entry for entry in loaded.config.mapping if entry.target.startswith("sound.digits")]
    digits = loaded.config.digits.model_copy(update={"contrast": contrast})
    audio = loaded.config.audio.model_copy(update={"fundamental_drift": "none"})  # as the test: the same every run
    config = loaded.config.model_copy(update={"mapping": kept + silent, "digits": digits, "audio": audio})
    return LoadedConfig(config, loaded.source, loaded.base_dir, loaded.text)


def voices_heard(stereo: np.ndarray, pitches: list[float]) -> list[int]:
    """Per one-second window: the voices within CHORD_DB of the loudest (their pitch ±3 Hz), power summed over
    the speakers (what the room hears, wherever on the ring a voice stands), as the test measures it."""
    freqs = np.fft.rfftfreq(SR, 1 / SR)
    power = 0.0
    for channel in stereo.T:
        frames = channel[: len(channel) // SR * SR].reshape(-1, SR) * np.hanning(SR)
        power = power + np.abs(np.fft.rfft(frames, axis=1)) ** 2
    bands = [(freqs > f - 3) & (freqs < f + 3.5) for f in pitches]
    levels = 10 * np.log10(np.stack([power[:, band].sum(axis=1) for band in bands], axis=1) + 1e-20)
    return [int(n) for n in (levels > levels.max(axis=1, keepdims=True) - CHORD_DB).sum(axis=1)]


def spectrogram_png(mono: np.ndarray, pitches: list[float], title: str, path: Path) -> None:
    """Time left to right, 150–1000 Hz bottom to top on a log scale, the loudest DISPLAY_DB as brightness."""
    size, hop = 8192, 2048
    frames = np.lib.stride_tricks.sliding_window_view(mono, size)[::hop] * np.hanning(size)
    power = 10 * np.log10(np.abs(np.fft.rfft(frames, axis=1)) ** 2 + 1e-12)
    freqs = np.fft.rfftfreq(size, 1 / SR)
    height = 360
    rows = np.geomspace(HIGH_HZ, LOW_HZ, height)
    picture = np.stack([np.interp(rows, freqs, column) for column in power], axis=1)
    top = picture.max()
    shade = np.clip((picture - (top - DISPLAY_DB)) / DISPLAY_DB, 0.0, 1.0)
    rgb = (np.stack([shade**0.6, shade**1.2, shade**2.5], axis=2) * 255).astype(np.uint8)
    image = Image.fromarray(rgb).resize((900, height))
    margin = Image.new("RGB", (image.width + 40, image.height + 24), "black")
    margin.paste(image, (40, 24))
    draw = ImageDraw.Draw(margin)
    draw.text((44, 4), title, fill="white")
    for digit, pitch in enumerate(pitches):
        y = 24 + height * math.log(HIGH_HZ / pitch) / math.log(HIGH_HZ / LOW_HZ)
        draw.line([(30, y), (38, y)], fill="white")
        draw.text((8, y - 6), str(digit), fill="white")
    path.parent.mkdir(parents=True, exist_ok=True)
    margin.save(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--contrasts", type=float, nargs="+", default=[0.0, 0.2, 1.0])
    parser.add_argument("--png", type=Path, default=None, help="folder for digits-healthy.png, digits-collapsed.png")
    parser.add_argument("--classifier", type=Path, default=None, help="classifier weights (default: [data]'s)")
    args = parser.parse_args()
    base = load(None)
    folder = Path(tempfile.mkdtemp(prefix="digit-spectrograms-"))
    loaded = config_for(folder, base.mnist_path, args.classifier or base.classifier_path)
    instrument = Instrument(loaded)
    shipped = loaded.config.digits.contrast
    print(f"seed {args.seed}: voices within {CHORD_DB:g} dB of the loudest, per second of the second half (mean)")
    for preset, steps in STEPS.items():
        run = instrument.start(preset, seed=args.seed, steps=steps, flat_out=True)
        for _ in run:
            pass
        recording = Recording(run.folder).at_pace(RUN_SECONDS)
        first = next(iter(recording.frames(with_grids=False)))
        audio = digits_alone(loaded, shipped).config.audio
        key = key_ratio(audio, first.run_id, first.time_unix_seconds)  # 1: the fixed key
        pitches = [f * key for f in digit_frequencies(loaded.config.digits, audio.fundamental_hz)]
        for contrast in sorted({*args.contrasts, shipped}):
            stereo = render_audio(recording, digits_alone(loaded, contrast), 2, seconds=RUN_SECONDS)
            heard = voices_heard(stereo[len(stereo) // 2 :], pitches)
            mono = stereo.mean(axis=1)
            print(f"  {preset:9s} contrast {contrast:4g}: mean {float(np.mean(heard)):4.2f}  {heard}")
            if args.png is not None and contrast == shipped:
                title = (
                    f"{preset}, seed {args.seed}, {steps} steps over {RUN_SECONDS:g} s: digits, contrast {contrast:g}"
                )
                spectrogram_png(mono, pitches, title, args.png / f"digits-{preset}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())

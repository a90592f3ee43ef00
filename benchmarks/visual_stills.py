"""The stills in docs/visuals.md: each scene at the end of each regime's recording, via render-video's path.

    TWOS_AND_SEVENS_MNIST=../shared/data/mnist .venv/bin/python benchmarks/visual_stills.py \
        RECORDING [RECORDING ...] [--out docs/img] [--width 640 --height 360]

Each recording is rendered with daemon.visuals.video.render_frames (EGL, the installation's
mapping) up to its last frame, at 4 fps; the last image of every scene is saved as
visual-<preset>-<scene>.png.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from daemon.config import load
from daemon.recording.reader import Recording
from daemon.visuals.video import render_frames

SCENES = ["samples", "data", "inside"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("recordings", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("docs/img"))
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=360)
    args = parser.parse_args()
    loaded = load()
    args.out.mkdir(parents=True, exist_ok=True)
    for folder in args.recordings:
        recording = Recording(folder)
        preset = recording.summary().get("preset", folder.name)
        end = list(recording.frames(with_grids=False))[-1].elapsed_seconds
        *_, (_, _, image) = render_frames(recording, loaded, SCENES, args.width, args.height, fps=4, seconds=end)
        for index, scene in enumerate(SCENES):
            path = args.out / f"visual-{preset}-{scene}.png"
            Image.fromarray(image[:, index * args.width : (index + 1) * args.width]).save(path, optimize=True)
            print(path)


if __name__ == "__main__":
    main()

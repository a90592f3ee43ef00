"""The range each stream took in each regime, from real recordings: the table in docs/streams.md.

    .venv/bin/python benchmarks/stream_ranges.py var/recordings/*   # or any recording folders

For each stream and preset: 5th–95th percentile over the whole run (first 5 % of steps left out,
where everything starts from the same noise).
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from daemon.metrics import MEASURES, TRAINING_STREAMS
from daemon.recording.reader import Recording


def stream_docs() -> list[tuple[str, str, str]]:
    docs = [(name, unit, meaning) for name, (unit, meaning) in TRAINING_STREAMS.items()]
    docs += [(m.name, m.unit, m.meaning) for m in MEASURES.values()]
    docs.append(("class_0 … class_9", "fraction 0–1", "Share of samples the classifier calls each digit."))
    docs.append(("progress", "fraction 0–1", "Steps done / steps in the run."))
    return docs


def main(folders: list[str]) -> None:
    values: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for folder in folders:
        recording = Recording(Path(folder))
        frames = list(recording.frames(with_grids=False))
        skip = len(frames) // 20
        for frame in frames[skip:]:
            for name, value in frame.streams().items():
                if value == value:
                    values[frame.preset][name].append(value)
            values[frame.preset]["class_0 … class_9"].extend(frame.class_histogram)
    presets = [p for p in ("healthy", "collapsed", "underfit", "random") if p in values] + sorted(
        set(values) - {"healthy", "collapsed", "underfit", "random"}
    )
    print("| stream | unit | meaning | " + " | ".join(presets) + " |")
    print("|---" * (3 + len(presets)) + "|")
    for name, unit, meaning in stream_docs():
        cells = []
        for preset in presets:
            data = np.array(values[preset].get(name, []))
            cells.append(f"{_fmt(np.percentile(data, 5))}–{_fmt(np.percentile(data, 95))}" if data.size else "—")
        print(f"| `{name}` | {unit} | {meaning} | " + " | ".join(cells) + " |")


def _fmt(x: float) -> str:
    return f"{x:.2g}" if abs(x) < 0.01 and x != 0 else f"{x:.2f}"


if __name__ == "__main__":
    main(sys.argv[1:])

"""How late training frames reach the sound and image children, through the supervisor (goal: within 50 ms).

    TWOS_AND_SEVENS_MNIST=../shared/data/mnist .venv/bin/python benchmarks/frame_delay.py [--seconds 90]

Starts a JACK dummy server (8 channels) and Xvfb, then `twos-and-sevens run` (as benchmarks/soak.py
does, 60-second runs), and reads /status every second: each child reports, per heartbeat, the mean
and worst delay from a step's end (the trainer's wall clock) to the frame's arrival (its own).
Prints the distribution of those per-second figures and, as the baseline measured in the same
run, the trainer's step period: a delay is small when it is a small fraction of it.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.soak import config_text
from daemon.testing import RunningDaemon, jack_dummy_server, xvfb_server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=90.0)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="tas-delay-") as scratch,
        jack_dummy_server(8) as jack,
        xvfb_server(640, 360) as display,
    ):
        folder = Path(scratch)
        (folder / "installation.toml").write_text(config_text(folder, 60.0))
        daemon = RunningDaemon(str(folder / "installation.toml"), {**jack, **display})
        seen: dict[str, list[dict]] = {"sound": [], "image": []}
        frames: list[tuple[float, int]] = []
        try:
            daemon.wait_for(lambda e: e["event"] == "installation_ready", 180, "installation_ready")
            started = time.monotonic()
            while time.monotonic() - started < args.seconds:
                time.sleep(1)
                status = json.loads(daemon.http_get("/status")[1])
                frames.append((time.monotonic(), status["frames"]))
                for role, reports in seen.items():
                    report = status["children"][role]["heartbeat"].get("frame_delay_ms")
                    if report and (not reports or report != reports[-1]):
                        reports.append(report)
        finally:
            daemon.stop()
    moving = [(b[1] - a[1]) / (b[0] - a[0]) for a, b in itertools.pairwise(frames) if b[1] > a[1]]
    period_ms = 1000 / statistics.median(moving) if moving else float("nan")
    print(f"trainer step period (the baseline): {period_ms:.1f} ms ({statistics.median(moving):.1f} frames/s)")
    for role, reports in seen.items():
        if not reports:
            print(f"{role}: no frames reported")
            continue
        means, worsts = [r["mean"] for r in reports], [r["max"] for r in reports]
        print(
            f"{role}: {sum(r['frames'] for r in reports)} frames in {len(reports)} heartbeats — mean delay "
            f"median {statistics.median(means):.2f} ms; worst per second: median "
            f"{statistics.median(worsts):.2f} ms, max {max(worsts):.2f} ms "
            f"({max(worsts) / period_ms:.2f}× the step period; goal ≤ 50 ms)"
        )


if __name__ == "__main__":
    main()

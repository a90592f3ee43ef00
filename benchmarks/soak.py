"""The whole daemon for a while: RSS and open files of every process each minute, restarts, drift.

    TWOS_AND_SEVENS_MNIST=../shared/data/mnist .venv/bin/python benchmarks/soak.py [--minutes 30] \
        [--run-seconds 60] [--warm-up-minutes 5]

Starts a JACK dummy server (8 channels) and Xvfb, then `twos-and-sevens run` with every preset
shortened to --run-seconds (steps scaled to keep each preset's pace), and samples /proc each
minute for the supervisor and its trainer, sound and image children (by role, so a restarted
child is followed). At the end: RSS drift per process after the warm-up, in % per hour (least-squares trend; goal
≤ 1 %/h), open-file growth (goal none), and the restarts /status reports.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from daemon.config import load
from daemon.config.loader import MNIST_ENV
from daemon.testing import jack_dummy_server, xvfb_server

REPO = Path(__file__).resolve().parents[1]


def sample(pid: int) -> tuple[float, int]:
    """(RSS in MB, open file descriptors) of a live process."""
    status = Path(f"/proc/{pid}/status").read_text()
    rss_kb = int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1])
    return rss_kb / 1024, len(os.listdir(f"/proc/{pid}/fd"))


def config_text(folder: Path, run_seconds: float) -> str:
    defaults = load(None).config
    mnist = os.environ.get(MNIST_ENV) or str(REPO.parent / "shared" / "data" / "mnist")
    classifier = REPO / "var" / "classifier.pt"
    lines = [
        f'[data]\nmnist_path = "{mnist}"\nrecordings_path = "{folder / "recordings"}"\n'
        f'classifier_path = "{classifier}"\nhistory_path = "{folder / "history.sqlite"}"\n'
        f'[control]\nsocket_path = "{folder / "control.sock"}"\n[http]\nport = 0\n'
        "[video]\nhistory_steps = 200\n"
    ]
    for name, preset in defaults.runs.items():
        steps = max(10, int(preset.steps * run_seconds / preset.duration_seconds))
        lines.append(
            f"[runs.{name}]\n"
            + "".join(
                f"{key} = {json.dumps(value)}\n"
                for key, value in preset.model_dump().items()
                if key not in ("steps", "duration_seconds")
            )
            + f"steps = {steps}\nduration_seconds = {run_seconds}\n"
        )
    return "".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--run-seconds", type=float, default=60.0)
    parser.add_argument("--warm-up-minutes", type=float, default=5.0)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="tas-soak-") as scratch,
        jack_dummy_server(8) as jack,
        xvfb_server(640, 360) as display,
    ):
        folder = Path(scratch)
        (folder / "installation.toml").write_text(config_text(folder, args.run_seconds))
        log = (folder / "daemon.log").open("w")
        command = [sys.executable, "-m", "daemon", "run", "--config", str(folder / "installation.toml")]
        daemon = subprocess.Popen(
            command, cwd=REPO, env={**os.environ, **jack, **display}, stdout=log, stderr=subprocess.DEVNULL
        )
        history: dict[str, list[tuple[float, float, int]]] = {}
        started = time.monotonic()
        try:
            while time.monotonic() - started < args.minutes * 60:
                time.sleep(60)
                minute = (time.monotonic() - started) / 60
                events = [
                    json.loads(line)
                    for line in (folder / "daemon.log").read_text().splitlines()
                    if line.startswith("{")
                ]
                pids = {"supervisor": daemon.pid}
                pids.update({e["role"]: e["pid"] for e in events if e["event"] == "child_started"})
                port = next(e["port"] for e in events if e["event"] == "http_listening")
                row = []
                for role, pid in pids.items():
                    try:
                        rss, fds = sample(pid)
                    except (OSError, StopIteration):
                        continue
                    history.setdefault(role, []).append((minute, rss, fds))
                    row.append(f"{role} {rss:6.1f} MB {fds:3d} fds")
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=10) as response:
                    status = json.load(response)
                restarts = {role: child["restarts"] for role, child in status["children"].items()}
                print(
                    f"{minute:5.1f} min  " + " | ".join(row) + f" | restarts {restarts} | runs "
                    f"{len(status['recent_runs'])}+",
                    flush=True,
                )
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(60)
    print(f"\nafter {args.warm_up_minutes:g} min of warm-up (drift: least-squares slope of RSS, so a process")
    print("whose memory rises and falls with each run, like the trainer's, is not read from two endpoints):")
    for role, rows in history.items():
        settled = [r for r in rows if r[0] >= args.warm_up_minutes] or rows
        print(
            f"  {role:10s} RSS {min(r[1] for r in settled):6.1f}–{max(r[1] for r in settled):6.1f} MB "
            f"({drift_percent_per_hour(settled):+.2f} %/hour; goal ≤ 1), "
            f"open files {settled[0][2]} → {settled[-1][2]}"
        )


def drift_percent_per_hour(rows: list[tuple[float, float, int]]) -> float:
    """The least-squares trend of RSS over (minute, RSS) samples, as % of the mean per hour."""
    if len(rows) < 2:
        return 0.0
    minutes, rss = [r[0] for r in rows], [r[1] for r in rows]
    mean_t, mean_r = sum(minutes) / len(rows), sum(rss) / len(rows)
    covariance = sum((t - mean_t) * (r - mean_r) for t, r in zip(minutes, rss, strict=True))
    slope = covariance / sum((t - mean_t) ** 2 for t in minutes)
    return slope * 60 / mean_r * 100


if __name__ == "__main__":
    main()

"""The live engine on a real JACK server (dummy backend): CPU share, and xruns under training load.

    TWOS_AND_SEVENS_MNIST=../shared/data/mnist .venv/bin/python benchmarks/live_sound.py RECORDING \
        [--seconds 60] [--channels 8] [--routes sounddevice jack]

For each route ([audio] route): phase 1 plays RECORDING alone and reads the player's CPU time
from /proc (share of one core); phase 2 plays it again while a flat-out training run saturates
the CPU. Both phases count the JACK server's xruns (a JACK client's xrun callback) and, on the
sounddevice route, the PortAudio underflows the player saw (goal 0 of each). jackd runs with
its default real-time scheduling; block size: [audio] block_frames.
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from daemon.testing import jack_dummy_server

REPO = Path(__file__).resolve().parents[1]
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def child(args: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "daemon", *args],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


class XrunCounter:
    """Counts the JACK server's xruns while `counting` is set."""

    def __init__(self, server: str):
        import jack

        self.count, self.counting = 0, False
        self.client = jack.Client("tas-xruns", servername=server, no_start_server=True)
        self.client.set_xrun_callback(self._xrun)
        self.client.activate()

    def _xrun(self, delay_usecs: float) -> None:
        if self.counting:
            self.count += 1

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()


def play_for(recording: str, seconds: float, env: dict, extra: list[str], xruns: XrunCounter):
    """(CPU share of one core while playing, PortAudio underflows, JACK xruns) for one play of `seconds`."""
    player = child(["play", recording, *extra], env)
    time.sleep(8)  # start-up: imports, server boot, engine build
    start_cpu, start = cpu_seconds(player.pid), time.monotonic()
    xruns.count, xruns.counting = 0, True
    time.sleep(seconds)
    xruns.counting = False
    share = (cpu_seconds(player.pid) - start_cpu) / (time.monotonic() - start)
    player.send_signal(signal.SIGTERM)
    out, _ = player.communicate(timeout=60)
    underflows = [json.loads(line).get("underflows") for line in out.splitlines() if "sound_stopped" in line]
    return share, underflows[0] if underflows else -1, xruns.count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("recording")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--routes", nargs="+", default=["sounddevice", "jack"], choices=["sounddevice", "jack"])
    args = parser.parse_args()
    results = {}
    with jack_dummy_server(args.channels) as env, tempfile.TemporaryDirectory() as folder:
        xruns = XrunCounter(env["JACK_DEFAULT_SERVER"])
        try:
            for route in args.routes:
                config = Path(folder) / f"{route}.toml"
                config.write_text(f'[audio]\nroute = "{route}"\n')
                extra = ["--channels", str(args.channels), "--speed", "0.2", "--config", str(config)]
                alone = play_for(args.recording, args.seconds, env, extra, xruns)
                trainer = child(["trial", "healthy", "--flat-out", "--steps", "1000000"], env)
                try:
                    time.sleep(5)
                    loaded = play_for(args.recording, args.seconds, env, extra, xruns)
                finally:
                    trainer.send_signal(signal.SIGTERM)
                    trainer.wait(60)
                results[route] = alone, loaded
        finally:
            xruns.close()
    print(f"{args.channels} channels, {args.seconds:.0f} s per phase, JACK dummy backend (real-time)")
    for route, phases in results.items():
        for label, (share, underflows, xrun_count) in zip(["alone", "with training flat out"], phases, strict=True):
            flows = f", {underflows} PortAudio underflows" if route == "sounddevice" else ""
            print(f"{route:12s} {label:24s} {100 * share:5.1f} % of one core, {xrun_count} JACK xruns{flows}")


if __name__ == "__main__":
    main()

"""The live engine on a real JACK server (dummy backend): its CPU share, and underflows under training load.

    TWOS_AND_SEVENS_MNIST=../shared/data/mnist .venv/bin/python benchmarks/live_sound.py RECORDING \
        [--seconds 60] [--channels 8]

Phase 1 plays RECORDING alone and reads the player's CPU time from /proc (share of one core).
Phase 2 plays it again while a flat-out training run saturates the CPU, and reports the
PortAudio output underflows the player counted (goal 0). Block size: [audio] block_frames.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from daemon.testing import jack_dummy_server  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def child(args: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "daemon", *args], cwd=REPO, env={**os.environ, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def play_for(recording: str, seconds: float, env: dict, extra: list[str]) -> tuple[float, int]:
    """(CPU share of one core while playing, underflows) for one play of `seconds`."""
    player = child(["play", recording, *extra], env)
    time.sleep(8)  # start-up: imports, server boot, engine build
    start_cpu, start = cpu_seconds(player.pid), time.monotonic()
    time.sleep(seconds)
    share = (cpu_seconds(player.pid) - start_cpu) / (time.monotonic() - start)
    player.send_signal(signal.SIGTERM)
    out, _ = player.communicate(timeout=60)
    underflows = [json.loads(line).get("underflows") for line in out.splitlines() if "sound_stopped" in line]
    return share, underflows[0] if underflows else -1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("recording")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--channels", type=int, default=8)
    args = parser.parse_args()
    extra = ["--channels", str(args.channels), "--speed", "0.2"]  # slow replay: frames keep coming
    with jack_dummy_server(args.channels) as env:
        alone, underflows_alone = play_for(args.recording, args.seconds, env, extra)
        trainer = child(["trial", "healthy", "--flat-out", "--steps", "1000000"], env)
        try:
            time.sleep(5)
            loaded, underflows_loaded = play_for(args.recording, args.seconds, env, extra)
        finally:
            trainer.send_signal(signal.SIGTERM)
            trainer.wait(60)
    print(f"{args.channels} channels, {args.seconds:.0f} s per phase, JACK dummy backend")
    print(f"engine alone:        {100 * alone:5.1f} % of one core, {underflows_alone} underflows")
    print(f"with training (2 threads, flat out): {100 * loaded:5.1f} % of one core, "
          f"{underflows_loaded} underflows (goal 0)")


if __name__ == "__main__":
    main()

"""The long control-socket fuzz: many generated requests against a playing daemon (JACK dummy + Xvfb).

    TWOS_AND_SEVENS_MNIST=../shared/data/mnist .venv/bin/python benchmarks/control_fuzz.py [--requests 20000]

Prints requests per second, the answers by kind of request (done / refused / no reply), the
slowest answer, child restarts during the fuzz and the quietest second the speakers played.
tests/test_control_fuzz.py is the short version (2,000 requests) in the suite.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from daemon.config import load
from daemon.testing import config_for, gallery
from daemon.testing.control_fuzz import FuzzRequest, fuzz_requests, send_request
from tests.test_supervision import CHANNELS, SHORT_CYCLE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2)
    args = parser.parse_args()
    installed = load()
    with tempfile.TemporaryDirectory() as folder:
        socket_path = Path(tempfile.mkdtemp(prefix="tas-")) / "control.sock"
        loaded = config_for(
            Path(folder),
            installed.mnist_path,
            installed.classifier_path,
            SHORT_CYCLE + f'[control]\nsocket_path = "{socket_path}"\n',
        )
        with gallery(loaded.source, CHANNELS) as (daemon, recorder):
            daemon.wait_for(lambda e: e["event"] == "run_started", 300, "a run")
            recorder.connect_from("PortAudio")
            starts = sum(e["event"] == "child_started" for e in daemon.events)
            levels: list[float] = []
            done = threading.Event()

            def capture() -> None:
                while not done.is_set():
                    levels.append(float(np.sqrt((recorder.record(1.0) ** 2).mean())))

            def timed(request: FuzzRequest) -> tuple[FuzzRequest, bytes, float]:
                started = time.monotonic()
                reply = send_request(socket_path, request)
                return request, reply, time.monotonic() - started

            listener = threading.Thread(target=capture)
            listener.start()
            started = time.monotonic()
            with ThreadPoolExecutor(8) as pool:
                results = list(pool.map(timed, fuzz_requests(args.seed, args.requests)))
            seconds = time.monotonic() - started
            done.set()
            listener.join()
            restarts = sum(e["event"] == "child_started" for e in daemon.events) - starts
            alive = daemon.process.poll() is None
    answers: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for request, reply, _ in results:
        outcome = "no reply" if not reply else ("done" if json.loads(reply)["ok"] else "refused")
        answers[request.kind][outcome] += 1
    print(
        f"{len(results)} requests in {seconds:.1f} s ({len(results) / seconds:.0f}/s, 8 clients at once); "
        f"slowest answer {max(t for *_, t in results):.2f} s"
    )
    for kind, counts in sorted(answers.items()):
        print(f"  {kind:10s} " + ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())))
    print(f"daemon alive throughout: {alive}, exit code {daemon.exit_code}; child restarts during the fuzz: {restarts}")
    print(f"speakers: {len(levels)} seconds captured, quietest second RMS {min(levels):.2e}")


if __name__ == "__main__":
    main()

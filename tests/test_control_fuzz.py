"""The control socket under 1,000 generated requests while the installation plays: no crash, always an answer."""

from __future__ import annotations

import json
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from daemon.testing import config_for, gallery
from daemon.testing.control_fuzz import fuzz_requests, send_request
from tests.test_supervision import CHANNELS, SHORT_CYCLE

REQUESTS = 1_000  # every kind of request many times over; benchmarks/control_fuzz.py sends 10,000


def test_a_thousand_bad_requests_neither_crash_nor_silence_the_installation(tmp_path, mnist_root, classifier_file):
    socket_path = Path(tempfile.mkdtemp(prefix="tas-")) / "control.sock"
    loaded = config_for(
        tmp_path, mnist_root, classifier_file, SHORT_CYCLE + f'[control]\nsocket_path = "{socket_path}"\n'
    )
    with gallery(loaded.source, CHANNELS) as (daemon, recorder):
        daemon.wait_for(lambda e: e["event"] == "run_started", 120, "a run")
        recorder.connect_from("PortAudio")
        starts = len([e for e in daemon.events if e["event"] == "child_started"])
        captured: list[np.ndarray] = []
        fuzzing = threading.Event()

        def capture() -> None:  # the speakers, second by second, for as long as the fuzz lasts
            while not fuzzing.is_set():
                captured.append(recorder.record(1.0))

        listener = threading.Thread(target=capture)
        listener.start()
        started = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            replies = list(pool.map(lambda r: (r, send_request(socket_path, r)), fuzz_requests(1, REQUESTS)))
        fuzzing.set()
        listener.join()
        took = time.monotonic() - started
        kinds = {r.kind for r, _ in replies}
        assert {"object", "any json", "truncated", "oversized", "binary", "slow", "stalled"} <= kinds
        for request, reply in replies:
            answer = json.loads(reply)  # always one JSON line, whatever was sent
            assert isinstance(answer["ok"], bool) and (answer["ok"] or answer["error"]), (request, reply)
        answered = sum(json.loads(reply)["ok"] for _, reply in replies)
        assert 0 < answered < REQUESTS  # some were valid and done, most refused
        assert daemon.process.poll() is None
        restarted = [e for e in daemon.events if e["event"] == "child_started"][starts:]
        why = [e for e in daemon.events if e["event"] in ("child_died", "child_hung", "child_revived")]
        assert restarted == [], why  # no child was disturbed
        levels = [float(np.sqrt((block**2).mean())) for block in captured]
        assert len(levels) >= 3 and min(levels) > 1e-4, (levels, took)  # it sounded every second
        assert json.loads(daemon.http_get("/health")[1])["healthy"]
    assert daemon.exit_code == 0
    assert not [line for line in daemon.stderr if "Traceback" in line]

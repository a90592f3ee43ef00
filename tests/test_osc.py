"""OSC out: real frames from real training steps, sent over real UDP sockets, decoded with python-osc."""

from __future__ import annotations

import math
import socket
import time

import pytest
from pythonosc.osc_bundle import OscBundle
from structlog.testing import capture_logs

from daemon.config.schema import Osc
from daemon.osc import OscOutput
from daemon.testing import config_for, train_frames

PREFIX = "/tas"


def receive(sock: socket.socket, bundles: int, timeout: float = 10.0) -> list[dict[str, list]]:
    """`bundles` datagrams from `sock`, each as {address: arguments}."""
    sock.settimeout(timeout)
    received = []
    deadline = time.monotonic() + timeout
    while len(received) < bundles and time.monotonic() < deadline:
        bundle = OscBundle(sock.recvfrom(65536)[0])
        received.append({message.address: list(message.params) for message in bundle})
    return received


@pytest.fixture
def receiver():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock


def test_every_stream_of_every_frame_reaches_the_receiver(tmp_path, mnist_root, classifier_file, receiver):
    frames, _ = train_frames(config_for(tmp_path, mnist_root, classifier_file), "healthy", 12)
    output = OscOutput(Osc(enabled=True, targets=[f"127.0.0.1:{receiver.getsockname()[1]}"], prefix=PREFIX))
    try:
        output.event("/run/started", "healthy", frames[0].run_id, 300.0)
        for frame in frames:
            output.frame(frame.split()[0])
        started, *bundles = receive(receiver, 1 + len(frames))
    finally:
        output.close()
    assert started == {f"{PREFIX}/run/started": ["healthy", frames[0].run_id, 300.0]}
    assert len(bundles) == len(frames)
    names = bundles[0][f"{PREFIX}/stream_names"]
    assert names == list(frames[0].streams()) and f"{PREFIX}/stream_names" not in bundles[1]  # said once
    for frame, bundle in zip(frames, bundles, strict=True):
        assert bundle[f"{PREFIX}/step"] == [frame.step, frame.steps_total]
        streams = frame.streams()
        assert len(bundle[f"{PREFIX}/streams"]) == len(names)
        for name, value in streams.items():
            if math.isnan(value):  # not measured yet: no message of its own, -1 in /streams
                assert f"{PREFIX}/stream/{name}" not in bundle
                assert bundle[f"{PREFIX}/streams"][names.index(name)] == -1.0
            else:
                assert bundle[f"{PREFIX}/stream/{name}"] == [pytest.approx(value, rel=1e-6, abs=1e-30)]
    assert any(not math.isnan(v) for v in frames[-1].samples.values())  # sample measures were sent too


def test_a_target_that_does_not_resolve_is_logged_and_the_others_still_hear(receiver):
    port = receiver.getsockname()[1]
    with capture_logs() as logs:
        output = OscOutput(Osc(enabled=True, targets=["no-such-host.invalid:9000", f"127.0.0.1:{port}"], prefix=PREFIX))
        try:
            output.event("/fade", 0.0, 3.0)
            [bundle] = receive(receiver, 1)
        finally:
            output.close()
    assert bundle == {f"{PREFIX}/fade": [0.0, 3.0]}
    [unresolved] = [e for e in logs if e["event"] == "osc_target_unresolved"]
    assert unresolved["target"] == "no-such-host.invalid:9000" and "host name" in unresolved["fix"]


def test_nobody_listening_costs_the_sender_nothing(receiver):
    """A closed port answers with ICMP "unreachable": the sender neither blocks nor stops sending."""
    closed = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    closed.bind(("127.0.0.1", 0))
    nobody = closed.getsockname()[1]
    closed.close()
    output = OscOutput(
        Osc(enabled=True, targets=[f"127.0.0.1:{nobody}", f"127.0.0.1:{receiver.getsockname()[1]}"], prefix=PREFIX)
    )
    try:
        for level in range(50):
            output.event("/fade", float(level), 1.0)
        bundles = receive(receiver, 50)
    finally:
        output.close()
    assert [b[f"{PREFIX}/fade"][0] for b in bundles] == [float(level) for level in range(50)]
    assert output.dropped == 0

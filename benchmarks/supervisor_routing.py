"""The supervisor's CPU per frame: frames split at the source and passed on as bytes, against whole frames re-pickled.

    TWOS_AND_SEVENS_MNIST=../shared/data/mnist .venv/bin/python benchmarks/supervisor_routing.py [RECORDING] \
        [--frames 3000]

A recording's real frames (grids and feature maps where the run made them) are sent, as fast as
the sockets take them, by a trainer stand-in process over a real socket pair; two reader
processes drain the sound and image links. Measured: the CPU time (user + system, all threads)
of this process while it routes them.

- now: the product's own Supervisor (daemon/supervision/supervisor.py) reading its trainer link
  and forwarding through its Child outboxes: StreamFrame bytes to both senses unread, PictureFrame
  bytes to the image unread; only the small StreamFrame is unpickled (for /status).
- before (the baseline, as the supervisor was until the house issue): one pickled
  ("frame", MetricFrame) tuple per step, unpickled whole, its streams read, and pickled again for
  each of the two senses.
"""

from __future__ import annotations

import argparse
import os
import pickle
import queue
import subprocess
import sys
import tempfile
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from daemon.config import load
from daemon.messages import encode
from daemon.recording.reader import Recording, list_recordings
from daemon.supervision.children import Child
from daemon.supervision.link import Link, link_pair
from daemon.supervision.supervisor import Supervisor
from daemon.testing import config_for

# A process that sends every payload of a pickled list over fd 3 (send_bytes), then waits to be killed.
SENDER = (
    "import pickle, sys, time; from multiprocessing.connection import Connection\n"
    "payloads = pickle.load(open(sys.argv[1], 'rb')); c = Connection(int(sys.argv[2]))\n"
    "for p in payloads: c.send_bytes(p)\n"
    "time.sleep(3600)\n"
)
# A process that reads fd N until the other end closes.
READER = (
    "import sys; from multiprocessing.connection import Connection\n"
    "c = Connection(int(sys.argv[1]))\n"
    "try:\n    while True: c.recv_bytes()\nexcept EOFError: pass\n"
)


def frames_of(recording: Recording, count: int) -> list:
    return frames_of_list(list(recording.frames()), count)


def frames_of_list(frames: list, count: int) -> list:
    """`count` frames, the given ones over and over."""
    return [frames[k % len(frames)] for k in range(count)]


def spawn(code: str, fd: int, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code, *args, str(fd)], pass_fds=(fd,))


def attach(child: Child) -> subprocess.Popen:
    """Give a Child a real link and send loop, as Child.start does, with a reader process at the other end."""
    link, fd = link_pair()
    child.link, child.state, child.last_heartbeat = link, "playing", time.monotonic()
    child.outbox = queue.Queue()  # unbounded, as the baseline's: a frame dropped would be work not done
    threading.Thread(target=Child._send_loop, args=(link, child.outbox), daemon=True).start()
    reader = spawn(READER, fd)
    os.close(fd)
    return reader


def route_now(loaded, frames: list, scratch: Path) -> float:
    """CPU seconds of the product's Supervisor routing `frames` from a trainer link to two sense links."""
    supervisor = Supervisor(loaded)
    readers = [attach(supervisor.children[role]) for role in ("sound", "image")]
    payloads = [encode(part) for frame in frames for part in frame.split() if part is not None]
    trainer_link, trainer_fd = link_pair()
    trainer = supervisor.children["trainer"]
    trainer.link, trainer.state = trainer_link, "playing"
    (scratch / "now.pickle").write_bytes(pickle.dumps(payloads))
    sender = spawn(SENDER, trainer_fd, str(scratch / "now.pickle"))
    os.close(trainer_fd)
    started = time.process_time()
    while supervisor.frames < len(frames):
        supervisor._receive(0.1)
    for role in ("sound", "image"):
        supervisor.children[role]._drop_link()  # the send loops finish what is queued, then the readers see EOF
    for reader in readers:
        reader.wait(60)
    spent = time.process_time() - started
    sender.kill()
    sender.wait()
    trainer_link.close()
    supervisor.history.close()
    return spent


def route_before(frames: list, scratch: Path) -> float:
    """CPU seconds of the old path: whole frames unpickled, streams read, pickled again for each sense."""
    outboxes: list[queue.Queue] = []
    readers, senders = [], []
    for _ in range(2):
        link, fd = link_pair()
        outbox: queue.Queue = queue.Queue()

        def send_loop(link: Link = link, outbox: queue.Queue = outbox) -> None:
            while (message := outbox.get()) is not None:
                link.connection.send(message)  # the old Link.send: pickle the (kind, frame) tuple
            link.close()

        senders.append(threading.Thread(target=send_loop, daemon=True))
        senders[-1].start()
        readers.append(spawn(READER, fd))
        os.close(fd)
        outboxes.append(outbox)
    (scratch / "before.pickle").write_bytes(pickle.dumps([pickle.dumps(("frame", frame)) for frame in frames]))
    trainer_link, trainer_fd = link_pair()
    sender = spawn(SENDER, trainer_fd, str(scratch / "before.pickle"))
    os.close(trainer_fd)
    connection: Connection = trainer_link.connection
    started = time.process_time()
    for _ in frames:
        kind, frame = connection.recv()
        streams = {name: round(value, 6) for name, value in frame.streams().items()}
        assert kind == "frame" and streams
        for outbox in outboxes:
            outbox.put(("frame", frame))
    for outbox in outboxes:
        outbox.put(None)
    for reader in readers:
        reader.wait(60)
    spent = time.process_time() - started
    sender.kill()
    sender.wait()
    trainer_link.close()
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("recording", nargs="?", default=None, help="default: the newest recording")
    parser.add_argument("--frames", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    installed = load()
    recording = Recording(Path(args.recording)) if args.recording else list_recordings(installed.recordings_path)[-1]
    recorded = frames_of(recording, args.frames)
    pictured = [frame for frame in recording.frames() if frame.grid is not None or frame.insides is not None]
    sets = {"the run as recorded": recorded, "steps with pictures only": frames_of_list(pictured, args.frames)}
    whole, alone = len(pickle.dumps(("frame", pictured[-1]))), len(encode(pictured[-1].split()[0]))
    print(
        f"recording {recording.run_id}: {len(pictured)} of its frames carry pictures; a step with pictures "
        f"pickles whole to {whole} bytes, its streams alone to {alone}"
    )
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        loaded = config_for(
            scratch,
            installed.mnist_path,
            installed.classifier_path,
            "[http]\nenabled = false\n[osc]\nenabled = false\n",
        )
        for name, frames in sets.items():
            to_sound_before = sum(len(pickle.dumps(("frame", f))) for f in frames) / len(frames)
            to_sound_now = sum(len(encode(f.split()[0])) for f in frames) / len(frames)
            before, now = [], []
            for _ in range(args.rounds):  # interleaved, so a busy moment of the machine weighs on both
                before.append(route_before(frames, scratch))
                now.append(route_now(loaded, frames, scratch))
            per_frame_before, per_frame_now = min(before) / len(frames) * 1e6, min(now) / len(frames) * 1e6
            print(f"\n{name} ({len(frames)} frames, best of {args.rounds}):")
            print(
                f"  before (whole frames re-pickled): {per_frame_before:7.1f} µs CPU per frame, "
                f"{to_sound_before:8.0f} bytes per frame to the sound child"
            )
            print(
                f"  now (split, passed on as bytes):  {per_frame_now:7.1f} µs CPU per frame, "
                f"{to_sound_now:8.0f} bytes per frame to the sound child"
            )
            print(
                f"  ratio now / before: CPU {per_frame_now / per_frame_before:.2f}, "
                f"bytes to sound {to_sound_now / to_sound_before:.3f}"
            )


if __name__ == "__main__":
    main()

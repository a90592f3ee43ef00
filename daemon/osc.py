"""OSC output: every stream, run event and fade as UDP datagrams to the [osc] targets, never waiting on them."""

from __future__ import annotations

import math
import queue
import socket
import threading
import time

from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder

from daemon.config.schema import Osc
from daemon.logs import get_logger
from daemon.messages import StreamFrame

__all__ = ["OscOutput", "frame_messages"]

QUEUE_LENGTH = 256


def frame_messages(frame: StreamFrame) -> list[tuple[str, list]]:
    """(address under the prefix, arguments) for one frame: docs/osc.md lists them.

    Streams not measured yet (NaN) are left out of /stream/…; /streams carries every one in
    /stream_names' order, NaN as -1 (receivers such as Max choke on NaN).
    """
    streams = frame.streams
    messages: list[tuple[str, list]] = [("/step", [frame.step, frame.steps_total]), ("/progress", [frame.progress])]
    messages += [(f"/stream/{name}", [float(value)]) for name, value in streams.items() if not math.isnan(value)]
    messages.append(("/streams", [-1.0 if math.isnan(v) else float(v) for v in streams.values()]))
    if frame.class_histogram:
        messages.append(("/digits", [float(v) for v in frame.class_histogram]))
    return messages


def _encode(prefix: str, messages: list[tuple[str, list]]) -> bytes:
    bundle = OscBundleBuilder(IMMEDIATELY)
    for address, arguments in messages:
        message = OscMessageBuilder(prefix + address)
        for argument in arguments:
            message.add_arg(argument)
        bundle.add_content(message.build())
    return bundle.build().dgram


class OscOutput:
    """Queues what to say; a sender thread encodes it and sends one bundle per frame or event to each target.

    The callers (the supervisor's loop) only put on a bounded queue: a slow machine drops messages
    (counted, logged) rather than delay the frames on their way to sound and image. UDP itself
    never waits for a receiver; a target whose name does not resolve is logged and retried each minute.
    """

    def __init__(self, settings: Osc):
        self.settings = settings
        self.log = get_logger("osc")
        self.queue: queue.Queue = queue.Queue(QUEUE_LENGTH)
        self.dropped = self.sent = 0
        self.names_sent = False
        self.thread = threading.Thread(target=self._send_loop, name="osc", daemon=True)
        self.thread.start()

    def frame(self, frame: StreamFrame) -> None:
        self._put(frame)

    def event(self, address: str, *arguments) -> None:
        """A run or installation event, e.g. event("/run/started", preset, run_id, seconds)."""
        self._put((address, list(arguments)))

    def _put(self, item) -> None:
        try:
            self.queue.put_nowait(item)
        except queue.Full:
            self.dropped += 1
            if self.dropped in (1, 100) or self.dropped % 10_000 == 0:
                self.log.warning("osc_dropped", messages=self.dropped, fix="fewer [osc] targets, or a faster machine")

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join(2.0)

    def _send_loop(self) -> None:
        sockets: dict[int, socket.socket] = {}
        targets = _Targets(self.settings.targets, self.log)
        try:
            while True:
                item = self.queue.get()
                if item is None:
                    return
                if isinstance(item, StreamFrame):
                    messages = frame_messages(item)
                    if not self.names_sent:  # once per start: what /streams' values are
                        messages.append(("/stream_names", list(item.streams)))
                        self.names_sent = True
                else:
                    messages = [item]
                datagram = _encode(self.settings.prefix, messages)
                for family, address in targets.resolved():
                    if family not in sockets:
                        sockets[family] = socket.socket(family, socket.SOCK_DGRAM)
                        sockets[family].setblocking(False)
                    try:
                        sockets[family].sendto(datagram, address)
                        self.sent += 1
                    except OSError as exc:  # full buffer, no route: this datagram is lost, the next may pass
                        targets.failed(address, exc)
        finally:
            for sock in sockets.values():
                sock.close()


class _Targets:
    """The [osc] targets as socket addresses, resolved in the sender thread (DNS may be slow or absent)."""

    RETRY_SECONDS = 60.0

    def __init__(self, specs: list[str], log):
        self.specs, self.log = specs, log
        self.addresses: dict[str, tuple] = {}
        self.retry_at: dict[str, float] = {}
        self.complaints: set = set()

    def resolved(self) -> list[tuple[int, tuple]]:
        now = time.monotonic()
        for spec in self.specs:
            if spec in self.addresses or self.retry_at.get(spec, 0.0) > now:
                continue
            host, port = spec.rsplit(":", 1)
            try:
                info = socket.getaddrinfo(host.strip("[]"), int(port), type=socket.SOCK_DGRAM)[0]
                self.addresses[spec] = (info[0], info[4])
                self.log.info("osc_sending", target=spec, address=info[4][0])
            except OSError as exc:
                self.retry_at[spec] = now + self.RETRY_SECONDS
                self.log.error(
                    "osc_target_unresolved",
                    target=spec,
                    error=str(exc),
                    fix="check the host name in [osc] targets, or use its IP address",
                )
        return list(self.addresses.values())

    def failed(self, address: tuple, exc: OSError) -> None:
        if (address, exc.errno) not in self.complaints:  # once per kind of failure, not per datagram
            self.complaints.add((address, exc.errno))
            self.log.warning("osc_send_failed", address=str(address[0]), port=address[1], error=str(exc))

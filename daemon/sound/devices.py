"""Output devices: PortAudio's (sounddevice) and JACK's ports, finding the configured ones, wiring JACK's."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jack

__all__ = [
    "DeviceMissing",
    "JackPatchbay",
    "find_jack_ports",
    "find_output_device",
    "jack_playback_ports",
    "open_jack_client",
    "output_devices",
]


class DeviceMissing(Exception):
    """The configured device is absent or too small; the message lists the devices there are."""


def output_devices() -> list[dict]:
    """Every device with outputs: index, name, host API, output channels, default sample rate."""
    import sounddevice

    apis = sounddevice.query_hostapis()
    return [
        {
            "index": i,
            "name": d["name"],
            "api": apis[d["hostapi"]]["name"],
            "channels": d["max_output_channels"],
            "sample_rate_hz": d["default_samplerate"],
        }
        for i, d in enumerate(sounddevice.query_devices())
        if d["max_output_channels"] > 0
    ]


def describe(devices: list[dict]) -> str:
    if not devices:
        return "no output devices at all (is the sound card plugged in, or the JACK server running?)"
    return "; ".join(f"[{d['index']}] {d['name']} ({d['api']}, {d['channels']} ch)" for d in devices)


def find_output_device(spec: str, channels: int) -> int:
    """The device index for `[audio] device` (an index, a name substring, or "" for the default)."""
    devices = output_devices()
    if spec.strip().isdigit():
        matches = [d for d in devices if d["index"] == int(spec)]
    elif spec:
        matches = [d for d in devices if spec.lower() in d["name"].lower()]
    else:
        import sounddevice

        default = sounddevice.default.device[1]
        matches = [d for d in devices if d["index"] == default] or devices[:1]
    if not matches:
        raise DeviceMissing(
            f'no output device matches [audio] device = "{spec}". Devices here: '
            f"{describe(devices)}. Fix: set [audio] device to one of these names or indexes."
        )
    big_enough = [d for d in matches if d["channels"] >= channels]
    if not big_enough:
        raise DeviceMissing(
            f"[audio] channels = {channels}, but {describe(matches)} has fewer outputs. "
            f"Devices here: {describe(devices)}. Fix: lower [audio] channels or choose another device."
        )
    return big_enough[0]["index"]


def open_jack_client(name: str) -> jack.Client:
    """A client of the running JACK server; never starts one (NOTES: no stray jackd)."""
    import jack

    try:
        return jack.Client(name, no_start_server=True)
    except jack.JackOpenError as exc:
        raise DeviceMissing(
            'no JACK server is running (route "jack"). Fix: start jackd, or set [audio] route = "sounddevice".'
        ) from exc


def jack_playback_ports(physical_only: bool, client: jack.Client | None = None) -> list[str]:
    """The JACK server's audio input ports by name: the speakers' (physical) ones, or all."""
    probe = client or open_jack_client("twos-and-sevens-probe")
    try:
        return [p.name for p in probe.get_ports(is_audio=True, is_input=True, is_physical=physical_only)]
    finally:
        if client is None:
            probe.close()


def find_jack_ports(spec: str, channels: int, client: jack.Client | None = None) -> list[str]:
    """`channels` port names for `[audio] device` under the JACK route: a port-name prefix, "" = physical."""
    ports = jack_playback_ports(not spec, client)
    matches = [p for p in ports if p.startswith(spec)]
    if len(matches) < channels:
        shown = ", ".join(ports) or "none"
        raise DeviceMissing(
            f"[audio] channels = {channels}, but only {len(matches)} JACK ports match "
            f'[audio] device = "{spec}". Ports here: {shown}. Fix: lower [audio] channels '
            f'or set [audio] device to a port-name prefix such as "system:playback_".'
        )
    return matches[:channels]


class JackPatchbay:
    """Our own JACK client, open for the life of a JACK output: it wires the outputs and counts xruns.

    pyo's auto-connect silently connects nothing when it dislikes the port list (issue 11), so the
    wiring is done here and checked against the graph itself.
    """

    def __init__(self, name: str = "twos-and-sevens-patchbay"):
        self.client = open_jack_client(name)
        self.xruns = 0
        # Notifications arrive on JACK's non-real-time thread; an int increment is all it does.
        self.client.set_xrun_callback(self._xrun)
        self.client.activate()  # no process callback: not part of the audio graph, costs no cycle time

    def _xrun(self, delayed_usecs: float) -> None:
        self.xruns += 1

    def playback_ports(self, spec: str, channels: int) -> list[str]:
        return find_jack_ports(spec, channels, self.client)

    def wire(self, sources: list[str], destinations: list[str]) -> list[str]:
        """Connect source k to destination k, then check the graph: the destinations now fed, in order."""
        import jack

        problems = []
        for source, destination in zip(sources, destinations, strict=True):
            try:
                self.client.connect(source, destination)
            except jack.JackError as exc:
                if "already exists" not in str(exc):
                    problems.append(f"{source} -> {destination}: {exc}")
        connected = [d for s, d in zip(sources, destinations, strict=True) if d in self._fed_by(s)]
        if problems or len(connected) < len(sources):
            missing = [f"{s} -> {d}" for s, d in zip(sources, destinations, strict=True) if d not in connected]
            raise DeviceMissing(
                f"could not wire the JACK ports: {'; '.join(problems or missing)}. "
                f"Ports here: {', '.join(jack_playback_ports(False, self.client)) or 'none'}. "
                "Fix: check that no other program is called twos-and-sevens in the JACK graph "
                '(jack_lsp), and that [audio] device names playback ports, e.g. "system:playback_".'
            )
        return connected

    def _fed_by(self, source: str) -> list[str]:
        import jack

        try:
            return [p.name for p in self.client.get_all_connections(self.client.get_port_by_name(source))]
        except jack.JackError:  # the port does not exist
            return []

    def close(self) -> None:
        import jack

        with contextlib.suppress(jack.JackError):  # the server went first (NOTES): closing still frees ours
            self.client.deactivate()
        self.client.close()

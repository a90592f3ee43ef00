"""Output devices through PortAudio (sounddevice): listing them and finding the configured one."""

from __future__ import annotations

__all__ = ["DeviceMissing", "find_jack_ports", "find_output_device", "jack_playback_ports", "output_devices"]


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


def jack_playback_ports(physical_only: bool) -> list[str]:
    """The JACK server's audio input ports by name: the speakers' (physical) ones, or all."""
    import jack

    try:
        client = jack.Client("twos-and-sevens-probe", no_start_server=True)
    except jack.JackOpenError as exc:
        raise DeviceMissing(
            'no JACK server is running (route "jack"). Fix: start jackd, or set [audio] route = "sounddevice".'
        ) from exc
    try:
        return [p.name for p in client.get_ports(is_audio=True, is_input=True, is_physical=physical_only)]
    finally:
        client.close()


def find_jack_ports(spec: str, channels: int) -> list[str]:
    """`channels` port names for `[audio] device` under the JACK route: a port-name prefix, "" = physical."""
    ports = jack_playback_ports(physical_only=not spec)
    matches = [p for p in ports if p.startswith(spec)]
    if len(matches) < channels:
        shown = ", ".join(ports) or "none"
        raise DeviceMissing(
            f"[audio] channels = {channels}, but only {len(matches)} JACK ports match "
            f'[audio] device = "{spec}". Ports here: {shown}. Fix: lower [audio] channels '
            f'or set [audio] device to a port-name prefix such as "system:playback_".'
        )
    return matches[:channels]

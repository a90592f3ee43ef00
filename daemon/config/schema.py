"""The schema of installation.toml: every section, key, type, range and default in one place."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

__all__ = [
    "DEFAULT_MAPPING",
    "DEFAULT_PRESETS",
    "HOURS_PATTERN",
    "OSC_PREFIX_PATTERN",
    "OSC_TARGET_PATTERN",
    "Audio",
    "Compute",
    "Control",
    "Cycle",
    "Data",
    "Digits",
    "Hours",
    "Http",
    "Installation",
    "InstallationConfig",
    "Logging",
    "MappingEntry",
    "Osc",
    "Projector",
    "RunPreset",
    "Section",
    "Space",
    "SpaceLayer",
    "Streams",
    "Supervision",
    "Video",
    "Watch",
]


class Section(BaseModel):
    """A table of installation.toml: unknown keys are errors, values are checked strictly."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _float(default: float, ge: float, le: float, description: str) -> float:
    # Strict mode still accepts an int for a float: `gain = 1` is as good as `gain = 1.0`.
    return Field(default, ge=ge, le=le, description=description)


class Installation(Section):
    name: str = Field("Twos and Sevens", min_length=1, description="Name shown in logs and status.")


class Data(Section):
    mnist_path: str = Field("var/mnist", min_length=1, description="Folder holding MNIST/raw/ (torchvision's layout).")
    download: bool = Field(True, description="Download MNIST with torchvision when missing.")
    recordings_path: str = Field("var/recordings", min_length=1, description="Where runs are recorded.")
    classifier_path: str = Field(
        "var/classifier.pt", min_length=1, description="Cached weights of the judging classifier."
    )
    history_path: str = Field("var/history.sqlite", min_length=1, description="Run history (SQLite).")
    keep_recordings_megabytes: int = Field(2000, ge=1, le=10_000_000, description="Disk budget.")
    keep_recordings_count: int = Field(500, ge=1, le=1_000_000, description="Most runs kept.")


class Compute(Section):
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto = CUDA when present.")
    cpu_threads: int = Field(2, ge=0, le=256, description="Training threads; 0 = torch's default.")


class Streams(Section):
    sample_metrics_every_steps: int = Field(10, ge=1, le=10_000, description="Sample measures cadence.")
    classifier_every_steps: int = Field(25, ge=1, le=10_000, description="Classifier cadence.")
    grid_every_steps: int = Field(25, ge=1, le=10_000, description="Sample grid cadence.")
    grid_samples: int = Field(64, ge=1, le=256, description="Samples in the grid.")


class Logging(Section):
    level: Literal["debug", "info", "warning", "error"] = Field("info")
    format: Literal["auto", "console", "json"] = Field("auto")
    file: str = Field("", description="Also write JSON lines here; empty = no file.")
    file_max_megabytes: int = Field(10, ge=1, le=10_000)
    file_backups: int = Field(5, ge=0, le=1000)
    streams_every_seconds: float = _float(10.0, 0.0, 3600.0, "Log a stream snapshot this often; 0 = never.")


class Supervision(Section):
    heartbeat_timeout_seconds: float = _float(10.0, 2.0, 600.0, "A child silent this long is hung: killed, restarted.")
    startup_timeout_seconds: float = _float(90.0, 5.0, 3600.0, "A child not ready this long after starting is hung.")
    restart_backoff_max_seconds: float = _float(30.0, 0.5, 3600.0, "Longest wait before restarting a dead child.")
    crash_loop_deaths: int = Field(5, ge=2, le=1000, description="This many deaths within the window…")
    crash_loop_window_seconds: float = _float(60.0, 1.0, 86_400.0, "…restart that child only slowly (degraded).")
    given_up_retry_seconds: float = _float(300.0, 1.0, 86_400.0, "A child in a crash loop is tried again this often.")
    unavailable_retry_seconds: float = _float(20.0, 1.0, 3600.0, "Retry a missing device (audio, display) this often.")
    stop_fade_seconds: float = _float(3.0, 0.0, 60.0, "On SIGTERM: fade sound and image out this long, then exit.")


class Watch(Section):
    """The installation watches what it really outputs, while a run plays in opening hours."""

    silence_floor_dbfs: float = _float(-80.0, -140.0, -10.0, "A speaker quieter than this (RMS, dBFS)…")
    silence_seconds: float = _float(20.0, 3.0, 3600.0, "…this long is silent: output_silent, /health 503.")
    frozen_change: float = _float(0.25, 0.0, 255.0, "A picture changing less than this (mean 0–255) between looks…")
    black_level: float = _float(1.0, 0.0, 255.0, "…or darker than this (mean 0–255)…")
    frozen_seconds: float = _float(30.0, 3.0, 3600.0, "…this long is frozen: image_frozen, /health 503.")
    action: Literal["restart", "report"] = Field(
        "restart", description='"restart": restart the sense once, then report; "report": only log and /health.'
    )


class Power(Section):
    """The projectors' power over PJLink ([[video.projector]] pjlink), following the opening hours."""

    lead_seconds: float = _float(300.0, 0.0, 7200.0, "Switch projectors on this long before opening (warm-up).")
    check_seconds: float = _float(60.0, 2.0, 3600.0, "Compare each projector with the plan and correct it this often.")
    timeout_seconds: float = _float(5.0, 0.2, 60.0, "A projector silent this long is unreachable (tried again later).")


class Http(Section):
    enabled: bool = Field(True, description="Serve /health, /status and /metrics.")
    address: str = Field("127.0.0.1", min_length=1, description="Listen here; loopback unless a token is set.")
    port: int = Field(8765, ge=0, le=65535, description="TCP port; 0 = any free port (logged as http_listening).")
    token: str = Field("", description="Bearer token required on every request; needed off loopback.")

    @model_validator(mode="after")
    def _token_off_loopback(self) -> Http:
        if self.address not in ("127.0.0.1", "::1", "localhost") and not self.token:
            raise ValueError(
                f'address = "{self.address}" is reachable from other machines: set a token '
                '(clients send `Authorization: Bearer <token>`) or keep address = "127.0.0.1"'
            )
        return self


class Control(Section):
    socket_path: str = Field(
        "", description="Where override/skip/… reach the daemon; empty = the unit's runtime directory (see loader)."
    )
    group: str = Field("", description="A group whose members may use it too; empty = the daemon's user only.")


OSC_TARGET_PATTERN = r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-]+):[0-9]{1,5}$"
OSC_PREFIX_PATTERN = r"^(/[A-Za-z0-9_\-.]+)+$"


class Osc(Section):
    enabled: bool = Field(False, description="Send every stream and run event as OSC over UDP.")
    targets: list[str] = Field(
        default_factory=lambda: ["127.0.0.1:9000"],
        max_length=32,
        description='Where to: "host:port" each ("[::1]:9000" for IPv6).',
    )
    prefix: str = Field(
        "/twos-and-sevens",
        pattern=OSC_PREFIX_PATTERN,
        description='"/name" or "/name/more" (letters, digits, _ - . between the slashes): the start of every address.',
    )

    @field_validator("targets")
    @classmethod
    def _host_and_port(cls, targets: list[str]) -> list[str]:
        import re

        for target in targets:
            if not re.match(OSC_TARGET_PATTERN, target) or not 1 <= int(target.rsplit(":", 1)[1]) <= 65535:
                raise ValueError(
                    f'{target!r} is not "host:port": write e.g. "127.0.0.1:9000", '
                    '"studio-mac.local:7000" or "[::1]:9000" (port 1–65535)'
                )
        return targets


# How a preset spreads its steps over its duration (daemon/gan/pacing.py).
PacingKind = Literal["linear", "arc"]


class RunPreset(Section):
    """One training regime: the same knobs for every preset, so a new regime is a copied table."""

    description: str = Field("", description="What the visitor should see.")
    duration_seconds: float = _float(300.0, 1.0, 86_400.0, "How long the arc unfolds.")
    steps: int = Field(..., ge=1, le=1_000_000, description="Training steps in the run.")
    batch_size: int = Field(64, ge=2, le=4096)
    latent_size: int = Field(100, ge=1, le=4096)
    generator_width: int = Field(32, ge=1, le=1024)
    discriminator_width: int = Field(32, ge=1, le=1024)
    generator_batchnorm: bool = True
    discriminator_batchnorm: bool = True
    lr_generator: float = _float(2e-4, 0.0, 1.0, "Adam learning rate of G.")
    lr_discriminator: float = _float(2e-4, 0.0, 1.0, "Adam learning rate of D.")
    adam_beta1: float = _float(0.5, 0.0, 0.999, "Adam beta1.")
    discriminator_steps: int = Field(1, ge=1, le=100)
    generator_steps: int = Field(1, ge=1, le=100)
    real_label: float = _float(1.0, 0.5, 1.0, "Label smoothing: target for real images.")
    output_blur_sigma_pixels: float = _float(0.0, 0.0, 10.0, "Fixed Gaussian blur on G's output.")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="0 = a new seed every run.")
    pacing: PacingKind = Field(
        "linear", description="linear = steps evenly over the duration; arc = early steps slower, late ones faster."
    )
    pacing_exponent: float = _float(
        0.25, 0.05, 1.0, "The arc law's gamma: smaller gives the early steps more of the duration; 1 is linear."
    )


class Audio(Section):
    route: Literal["sounddevice", "jack"] = Field("sounddevice", description="Output route.")
    device: str = Field(
        "",
        description="sounddevice: a name substring or an index; jack: a port-name prefix. "
        "Empty = the default device / the physical playback ports.",
    )
    channels: int = Field(8, ge=2, le=32)
    sample_rate_hz: int = Field(48000, ge=22050, le=192000)
    block_frames: int = Field(1024, ge=64, le=8192)
    ceiling_dbfs: float = _float(-1.0, -60.0, 0.0, "No sample ever exceeds this.")
    max_gain_db: float = _float(0.0, -60.0, 12.0, "Most gain the master may apply.")
    startup_ramp_seconds: float = _float(3.0, 0.0, 60.0, "Fade-in when the sound starts.")
    fundamental_hz: float = _float(55.0, 20.0, 440.0, "The organ drone's fundamental (its 16' pipe); the rest follow.")
    fundamental_drift: Literal["none", "run", "day"] = Field(
        "run", description="Each run, or each day, draws its own key near fundamental_hz; none = always on it."
    )
    fundamental_drift_semitones: float = _float(2.0, 0.0, 12.0, "How far a drawn key may lie either way.")
    fundamental_glide_seconds: float = _float(30.0, 0.0, 600.0, "How long the drone glides into a new key.")
    run_fade_in_seconds: float = _float(5.0, 0.0, 600.0, "Fade-in at the start of each run.")
    run_fade_out_seconds: float = _float(5.0, 0.0, 600.0, "Fade-out at the end of each run.")
    hold_seconds: float = _float(10.0, 0.0, 3600.0, "When frames stop, hold the sound this long…")
    idle_drift_seconds: float = _float(20.0, 0.0, 3600.0, "…then drift to the idle state over this long.")
    drone_recordings_path: str = Field("", description="Folder of WAV/AIFF drones; empty = organ only.")
    seed: int = Field(1, ge=0, le=2**31 - 1, description="Seed of the sound's randomness.")
    trim_min_db: float = _float(-40.0, -80.0, 0.0, "The quietest `volume` may set, whole or per speaker.")
    trim_max_db: float = _float(
        6.0, 0.0, 24.0, "The loudest `volume` may set; max_gain_db and ceiling_dbfs still cap what plays."
    )


DIGIT_INTERVALS = [24.0, 26.0, 28.0, 31.0, 33.0, 36.0, 38.0, 40.0, 43.0, 45.0]  # a pentatonic stack, two octaves up


class Digits(Section):
    """The digit layer's pitches: one voice per digit 0–9, in semitones over the drone's fundamental or in Hz."""

    intervals_semitones: list[float] = Field(
        default_factory=lambda: list(DIGIT_INTERVALS), description="Digit 0's pitch first, over fundamental_hz."
    )
    frequencies_hz: list[float] = Field(
        default_factory=list, description="Ten pitches in Hz instead; empty = intervals."
    )
    contrast: float = _float(
        0.2, 0.0, 8.0, "How far the leading digits stand out: each voice × (its level / the loudest's) ^ contrast."
    )

    @field_validator("intervals_semitones")
    @classmethod
    def _ten_intervals(cls, intervals: list[float]) -> list[float]:
        if len(intervals) != 10:
            raise ValueError(f"give ten intervals, one per digit 0–9 (got {len(intervals)}), e.g. {DIGIT_INTERVALS}")
        if not all(-36.0 <= i <= 72.0 for i in intervals):
            raise ValueError("each interval lies from -36 to 72 semitones (three octaves down to six up)")
        return intervals

    @field_validator("frequencies_hz")
    @classmethod
    def _ten_frequencies(cls, frequencies: list[float]) -> list[float]:
        if frequencies and len(frequencies) != 10:
            raise ValueError(
                f"give ten frequencies, one per digit 0–9 (got {len(frequencies)}), or [] to use intervals_semitones"
            )
        if not all(20.0 <= f <= 8000.0 for f in frequencies):
            raise ValueError("each frequency lies from 20 to 8000 Hz")
        return frequencies


class SpaceLayer(Section):
    position: float = _float(0.0, 0.0, 1.0, "Where around the speakers the layer sits (0–1 of the ring).")
    rotation_hz: float = _float(0.0, -10.0, 10.0, "Turns around the ring per second.")
    spread: float = _float(0.5, 0.0, 1.0, "0 = one speaker, 1 = every speaker alike; 0.5: the far side 10 dB down.")


class Space(Section):
    drone: SpaceLayer = Field(default_factory=lambda: SpaceLayer(position=0.0, rotation_hz=0.01, spread=0.8))
    grains: SpaceLayer = Field(default_factory=lambda: SpaceLayer(position=0.25, rotation_hz=0.05, spread=0.3))
    glitch: SpaceLayer = Field(default_factory=lambda: SpaceLayer(position=0.5, rotation_hz=-0.2, spread=0.1))
    noise: SpaceLayer = Field(default_factory=lambda: SpaceLayer(position=0.0, rotation_hz=0.0, spread=1.0))
    # The digit voices stand a tenth of the ring apart, digit 0 at `position`.
    digits: SpaceLayer = Field(default_factory=lambda: SpaceLayer(position=0.0, rotation_hz=0.02, spread=0.2))


PJLINK_ADDRESS = re.compile(r"[A-Za-z0-9._-]+(:[0-9]{1,5})?")  # a host name or IPv4 address, and a port


class Projector(Section):
    monitor: str = Field("0", min_length=1, description="Monitor: its index (0, 1, …) or part of its name.")
    scene: str = Field("samples", min_length=1, description="A scene: the name of a file in shaders/ without .frag.")
    crop: list[float] = Field(
        [0.0, 0.0, 1.0, 1.0],
        min_length=4,
        max_length=4,
        description="x, y, width, height of the scene shown, as fractions (0–1).",
    )
    rotation_degrees: Literal[0, 90, 180, 270] = Field(0, description="Clockwise rotation of the image.")
    fps: float = _float(30.0, 1.0, 240.0, "Frames per second, paced by the program.")
    pjlink: str = Field(
        "", description='The projector\'s PJLink address, "host" or "host:port" (4352); "" = its power is not ours.'
    )
    pjlink_password: str = Field("", max_length=32, description='Its PJLink password; "" = none, or see the file.')
    pjlink_password_file: str = Field("", description="A file holding the PJLink password instead (kept out of here).")

    @field_validator("pjlink")
    @classmethod
    def _pjlink_address(cls, address: str) -> str:
        if address and not PJLINK_ADDRESS.fullmatch(address):
            raise ValueError(
                'pjlink must be "host" or "host:port" (port 1–65535), e.g. "192.168.1.50" or "beamer-1.local:4352"'
            )
        if address and ":" in address and not 1 <= int(address.rsplit(":", 1)[1]) <= 65535:
            raise ValueError("pjlink's port must be 1–65535 (PJLink's own is 4352)")
        return address

    @model_validator(mode="after")
    def _one_password(self) -> Projector:
        if self.pjlink_password and self.pjlink_password_file:
            raise ValueError("give pjlink_password or pjlink_password_file, not both")
        return self

    @field_validator("crop")
    @classmethod
    def _crop_inside(cls, crop: list[float]) -> list[float]:
        x, y, width, height = crop
        if not (0 <= x < 1 and 0 <= y < 1 and 0 < width <= 1 - x and 0 < height <= 1 - y):
            raise ValueError(
                "crop = [x, y, width, height] must lie inside [0, 1]: e.g. [0.0, 0.0, 0.5, 1.0] is the left half"
            )
        return crop


class Video(Section):
    shaders_path: str = Field("", description="Folder of the scenes' GLSL files; empty = the shipped shaders/.")
    hot_reload: bool = Field(True, description="Reload a shader file when it changes.")
    fade_seconds: float = _float(3.0, 0.0, 600.0, "Fade from and to black at each run's start and end.")
    hold_seconds: float = _float(10.0, 0.0, 3600.0, "When frames stop, hold the image this long…")
    idle_drift_seconds: float = _float(20.0, 0.0, 3600.0, "…then drift to the idle state over this long.")
    history_steps: int = Field(600, ge=16, le=8192, description="Steps of history the data lanes show.")
    projector: list[Projector] = Field(
        default_factory=lambda: [
            Projector(monitor="0", scene="samples"),
            Projector(monitor="1", scene="data"),
            Projector(monitor="2", scene="inside"),
        ],
        description="One fullscreen window per entry.",
    )


class MappingEntry(Section):
    source: str = Field(..., min_length=1, description="A stream name (docs/streams.md).")
    target: str = Field(..., min_length=1, description="A parameter name (docs/sound.md).")
    input_min: float = _float(0.0, -1e9, 1e9, "Stream value mapped to output_min.")
    input_max: float = _float(1.0, -1e9, 1e9, "Stream value mapped to output_max.")
    output_min: float = _float(0.0, -1e9, 1e9, "Parameter value at input_min.")
    output_max: float = _float(1.0, -1e9, 1e9, "Parameter value at input_max.")
    curve: Literal["linear", "exponential", "logarithmic", "steps"] = "linear"
    steps: int = Field(4, ge=2, le=64, description="Number of levels for curve = steps.")
    smoothing_seconds: float = _float(1.0, 0.0, 600.0, "Glide time toward a new value.")
    invert: bool = False


MOST_WEIGHT = 1e6  # inf, or several near 1e308, would make the day's draw impossible


class Cycle(Section):
    presets: list[str] = Field(default_factory=lambda: ["healthy", "collapsed", "underfit", "random"], min_length=1)
    order: Literal["cycle", "shuffle"] = Field("cycle", description="In turn, or a weighted shuffle per day.")
    weights: dict[str, float] = Field(default_factory=dict, description="Shuffle weights by preset; missing = 1.")
    gap_seconds: float = _float(0.0, 0.0, 3600.0, "Silence and black between runs.")
    crossfade_seconds: float = _float(8.0, 0.0, 600.0, "With no gap: one run glides into the next over this long.")

    @field_validator("weights")
    @classmethod
    def _weights(cls, weights: dict[str, float]) -> dict[str, float]:
        negative = [name for name, weight in weights.items() if not weight >= 0]
        if negative:
            raise ValueError(f"weights must be 0 or more (0 = never drawn); negative: {', '.join(negative)}")
        huge = [name for name, weight in weights.items() if not weight <= MOST_WEIGHT]
        if huge:
            raise ValueError(f"weights are at most {MOST_WEIGHT:g} (they are ratios); too large: {', '.join(huge)}")
        return weights

    @model_validator(mode="after")
    def _some_weight(self) -> Cycle:
        if self.order == "shuffle" and not any(self.weights.get(name, 1.0) > 0 for name in self.presets):
            raise ValueError("every preset of the cycle has weight 0: nothing could ever be drawn; give one a weight")
        return self


HOURS_PATTERN = r"^$|^([01]\d|2[0-3]):[0-5]\d-(([01]\d|2[0-3]):[0-5]\d|24:00)$"
WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
NIGHT_CLOSES_BY = "12:00"  # "20:00-14:00" is more likely "14:00-20:00" written backwards than a night


def _still_open_at(night: str, day: str) -> bool:
    """Whether `night`'s hours, past midnight, reach into the next day's opening `day`."""
    if not night or not day:
        return False
    opening, closing = night.split("-")
    return closing != "24:00" and closing <= opening and day.split("-")[0] < closing


def _hours(default: str) -> str:
    return Field(
        default,
        pattern=HOURS_PATTERN,
        description=(
            '"HH:MM-HH:MM" (open then, e.g. "10:00-18:00"; "18:00-02:00" closes the next morning), '
            'or "" (closed all day).'
        ),
    )


class Hours(Section):
    model_config = ConfigDict(validate_default=True)  # a day left out (open all day) is checked against a night too

    timezone: str = Field(
        "",
        description='The gallery\'s time zone, an IANA name such as "Europe/Berlin"; "" is the system\'s zone.',
    )
    monday: str = _hours("00:00-24:00")
    tuesday: str = _hours("00:00-24:00")
    wednesday: str = _hours("00:00-24:00")
    thursday: str = _hours("00:00-24:00")
    friday: str = _hours("00:00-24:00")
    saturday: str = _hours("00:00-24:00")
    sunday: str = _hours("00:00-24:00")
    closed_dates: list[str] = Field(
        default_factory=list, description='Whole days closed: "YYYY-MM-DD" (the opening that begins that day).'
    )
    fade_in_seconds: float = _float(30.0, 0.0, 3600.0, "After opening, sound and image rise this slowly.")
    fade_out_seconds: float = _float(30.0, 0.0, 3600.0, "Before closing, they fall this slowly.")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        from zoneinfo import ZoneInfo, available_timezones

        from daemon.config.errors import did_you_mean

        try:
            if name:
                ZoneInfo(name)
        except (KeyError, ValueError, OSError):  # not found (a KeyError), a malformed key, a folder's name
            raise ValueError(
                f"{name!r} is not a time zone.{did_you_mean(name, sorted(available_timezones()))} Write an IANA "
                'name such as "Europe/Berlin" (`timedatectl list-timezones` lists them), or "" for the system\'s zone'
            ) from None
        return name

    @field_validator(*WEEKDAY_NAMES)
    @classmethod
    def _one_opening_at_a_time(cls, text: str, info: ValidationInfo) -> str:
        """Past midnight when it closes before it opens (until noon at the latest); never over the next day's hours."""
        if not text:
            return text
        opening, closing = text.split("-")
        if opening >= closing > NIGHT_CLOSES_BY:
            raise ValueError(
                f"{text!r} would run past midnight until {closing} the next day; an opening that runs past "
                f'midnight closes by {NIGHT_CLOSES_BY}. Did you mean "{closing}-{opening}"?'
            )
        day = WEEKDAY_NAMES.index(str(info.field_name))
        before, after = WEEKDAY_NAMES[day - 1], WEEKDAY_NAMES[(day + 1) % 7]
        if before in info.data and _still_open_at(info.data[before], text):
            raise ValueError(
                f"{text!r} opens while {before}'s {info.data[before]!r} is still open (it runs past midnight): "
                f"let {before} close by {opening}, or give {info.field_name} later hours (a day not written "
                'is open "00:00-24:00")'
            )
        if after == "monday" and after in info.data and _still_open_at(text, info.data[after]):
            raise ValueError(
                f"{text!r} runs past midnight into monday's {info.data[after]!r}: close by "
                f"{info.data[after].split('-')[0]}, or give monday later hours (a day not written is open "
                '"00:00-24:00")'
            )
        return text

    @field_validator("closed_dates")
    @classmethod
    def _dates(cls, dates: list[str]) -> list[str]:
        import datetime

        for text in dates:
            try:
                datetime.date.fromisoformat(text)
            except ValueError:
                raise ValueError(f'{text!r} is not a date: write "YYYY-MM-DD", e.g. "2026-12-25"') from None
        return dates


DEFAULT_PRESETS: dict[str, RunPreset] = {
    "healthy": RunPreset(
        description="Noise becomes varied, legible digits.", duration_seconds=240.0, steps=2000, pacing="arc"
    ),
    "collapsed": RunPreset(
        description="Digit-like shapes, but only one to three of them, hopping.",
        duration_seconds=240.0,
        steps=2000,
        pacing="arc",
        latent_size=1,
        discriminator_batchnorm=False,
        lr_generator=1e-3,
        lr_discriminator=1e-4,
    ),
    "underfit": RunPreset(
        description="Never leaves a grey smear.",
        duration_seconds=240.0,
        steps=2000,
        real_label=0.9,
        output_blur_sigma_pixels=1.5,
    ),
    "random": RunPreset(
        description="The generator never learns: static noise.",
        duration_seconds=120.0,
        steps=1000,
        lr_generator=0.0,
    ),
}


def _m(source: str, target: str, low: float, high: float, out_low: float, out_high: float, **rest) -> MappingEntry:
    return MappingEntry(
        source=source, target=target, input_min=low, input_max=high, output_min=out_low, output_max=out_high, **rest
    )


# The default composition (docs/sound.md explains it): order brings the organ out of the noise,
# collapse locks the grains into a loop, a smear keeps everything filtered, noise is clicks.
DEFAULT_MAPPING: list[MappingEntry] = [
    _m("classifier_confidence", "sound.drone.level", 0.1, 0.85, 0.05, 0.8, smoothing_seconds=3.0),
    _m("sharpness", "sound.drone.brightness", 0.005, 0.25, 0.0, 0.8, smoothing_seconds=3.0),
    _m("loss_discriminator", "sound.drone.beating_hz", 0.0, 1.4, 0.2, 3.0, invert=True, smoothing_seconds=4.0),
    _m("pixel_entropy", "sound.drone.wind", 1.5, 4.5, 0.05, 0.6, smoothing_seconds=3.0),
    _m("similarity", "sound.grains.position_jitter", 0.25, 0.55, 0.0, 0.6, invert=True, smoothing_seconds=2.0),
    _m("similarity", "sound.grains.level", 0.25, 0.55, 0.15, 0.8, smoothing_seconds=2.0),
    _m("class_perplexity", "sound.grains.pitch_spread", 1.0, 9.0, 0.0, 0.5, smoothing_seconds=2.0),
    _m(
        "sharpness",
        "sound.grains.duration_seconds",
        0.005,
        0.25,
        0.04,
        0.6,
        invert=True,
        curve="exponential",
        smoothing_seconds=2.0,
    ),
    _m(
        "grad_norm_discriminator",
        "sound.grains.density",
        0.0,
        200.0,
        4.0,
        60.0,
        curve="logarithmic",
        smoothing_seconds=1.0,
    ),
    _m("progress", "sound.grains.position", 0.0, 1.0, 0.1, 0.9, smoothing_seconds=1.0),
    _m(
        "classifier_confidence",
        "sound.glitch.click_rate_hz",
        0.1,
        0.7,
        1.0,
        120.0,
        invert=True,
        curve="exponential",
        smoothing_seconds=1.0,
    ),
    _m("similarity", "sound.glitch.stutter", 0.3, 0.6, 0.0, 0.9, curve="exponential", smoothing_seconds=2.0),
    _m(
        "d_accuracy_real",
        "sound.glitch.crush_bits",
        0.5,
        1.0,
        6.0,
        16.0,
        invert=True,
        curve="steps",
        steps=6,
        smoothing_seconds=0.0,
    ),
    _m("loss_generator", "sound.overdrive.drive", 0.5, 8.0, 0.05, 0.7, smoothing_seconds=2.0),
    _m("pixel_entropy", "sound.noise.level", 1.5, 4.5, 0.02, 0.3, smoothing_seconds=3.0),
    _m("sharpness", "sound.noise.cutoff_hz", 0.005, 0.25, 400.0, 9000.0, curve="exponential", smoothing_seconds=3.0),
    # The digits (docs/sound.md): each voice as loud as its digit's share of the samples, all of them as
    # loud as the classifier is sure; a smear or noise, where it sees no digit, leaves them silent.
    _m("class_histogram", "sound.digits.voices", 0.0, 0.35, 0.0, 1.0, smoothing_seconds=0.5),
    _m("classifier_confidence", "sound.digits.level", 0.55, 0.85, 0.0, 0.9, smoothing_seconds=4.0),
    # The image (docs/visuals.md): order heals the torn grid; a smear stays smeared; collapse leaves trails.
    _m("classifier_confidence", "visual.samples.tear", 0.1, 0.85, 0.0, 0.9, invert=True, smoothing_seconds=2.0),
    _m("pixel_entropy", "visual.samples.noise", 1.5, 4.5, 0.0, 0.6, smoothing_seconds=2.0),
    _m("sharpness", "visual.samples.smear", 0.005, 0.25, 0.0, 1.0, invert=True, smoothing_seconds=2.0),
    _m("similarity", "visual.samples.feedback", 0.25, 0.55, 0.1, 0.9, smoothing_seconds=2.0),
    _m("loss_generator", "visual.samples.rgb_split", 0.5, 8.0, 0.0, 0.8, smoothing_seconds=1.0),
    _m(
        "grad_norm_discriminator",
        "visual.samples.scanlines",
        0.0,
        200.0,
        0.1,
        0.7,
        curve="logarithmic",
        smoothing_seconds=1.0,
    ),
    _m("class_perplexity", "visual.data.density", 1.0, 9.0, 0.1, 0.9, smoothing_seconds=2.0),
    _m("update_ratio_generator", "visual.data.speed", 0.0, 0.02, 0.05, 1.5, smoothing_seconds=2.0),
    _m("d_accuracy_fake", "visual.data.flicker", 0.5, 1.0, 0.0, 0.6, smoothing_seconds=1.0),
    _m("grad_norm_generator", "visual.inside.flow", 0.0, 100.0, 0.05, 1.2, curve="logarithmic", smoothing_seconds=2.0),
    _m("loss_discriminator", "visual.inside.warp", 0.0, 1.4, 0.0, 0.8, invert=True, smoothing_seconds=2.0),
    _m("classifier_confidence", "visual.inside.contrast", 0.1, 0.85, 0.6, 2.5, smoothing_seconds=2.0),
]


class InstallationConfig(Section):
    installation: Installation = Field(default_factory=Installation)
    data: Data = Field(default_factory=Data)
    compute: Compute = Field(default_factory=Compute)
    streams: Streams = Field(default_factory=Streams)
    logging: Logging = Field(default_factory=Logging)
    supervision: Supervision = Field(default_factory=Supervision)
    watch: Watch = Field(default_factory=Watch)
    power: Power = Field(default_factory=Power)
    hours: Hours = Field(default_factory=Hours)
    http: Http = Field(default_factory=Http)
    control: Control = Field(default_factory=Control)
    osc: Osc = Field(default_factory=Osc)
    cycle: Cycle = Field(default_factory=Cycle)
    runs: dict[str, RunPreset] = Field(default_factory=lambda: dict(DEFAULT_PRESETS), min_length=1)
    audio: Audio = Field(default_factory=Audio)
    space: Space = Field(default_factory=Space)
    digits: Digits = Field(default_factory=Digits)
    video: Video = Field(default_factory=Video)
    mapping: list[MappingEntry] = Field(default_factory=lambda: list(DEFAULT_MAPPING))

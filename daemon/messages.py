"""Every message between the supervisor and its children, and every control request and reply, as typed data.

Between processes a message travels as one byte naming its class (its place in MESSAGES) and its
pickle: `kind_of(raw)` reads that byte alone, so the supervisor routes a picture frame from the
trainer to the image child without unpickling it, and a stream frame to both senses without
pickling it again. Control requests arrive as JSON from anyone who may open the socket and are
validated here (pydantic, strict types, no unknown fields) before anything acts on them.
"""

from __future__ import annotations

import io
import json
import math
import pickle
import types
from dataclasses import dataclass, field, fields
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

__all__ = [
    "COMMANDS",
    "MESSAGES",
    "BadMessage",
    "ControlReply",
    "ControlRequest",
    "Crossfade",
    "Fade",
    "Heartbeat",
    "Idle",
    "Message",
    "OverrideRequest",
    "Pause",
    "PauseRequest",
    "PictureFrame",
    "Play",
    "ProjectorsRequest",
    "Quit",
    "Ready",
    "Rejoin",
    "ReloadRequest",
    "RequestInvalid",
    "RestartChildRequest",
    "Resume",
    "ResumeRequest",
    "RunEnded",
    "RunStarted",
    "RunStatus",
    "SkipRequest",
    "StatusRequest",
    "Stop",
    "StopRun",
    "StreamFrame",
    "Trim",
    "Unavailable",
    "VolumeRequest",
    "decode",
    "encode",
    "json_data",
    "kind_of",
    "parse_request",
]

RunStatus = Literal["completed", "stopped", "failed"]


# Frames: one training step, split at the source into what every sense reads and what only the image shows.


@dataclass(frozen=True)
class StreamFrame:
    """One training step's scalar streams (a few hundred bytes): what sound, image, OSC and /status read.

    `step` is steps completed (1-based) of `steps_total`; `time_unix_seconds` the wall clock when
    the step ended; `elapsed_seconds` since the run began; `streams` every stream by name as
    mappings see them (NaN where not measured yet); `class_histogram` the fraction 0–1 of samples
    the classifier put in each digit 0–9 (empty before it first ran).
    """

    run_id: str
    preset: str
    step: int
    steps_total: int
    time_unix_seconds: float
    elapsed_seconds: float
    streams: dict[str, float]
    class_histogram: tuple[float, ...] = ()

    @property
    def progress(self) -> float:
        """Fraction 0–1 of the run done."""
        return self.step / self.steps_total if self.steps_total else 0.0


@dataclass(frozen=True)
class PictureFrame:
    """The pictures of one step, only on steps that made them, only for the image.

    `grid`: the sample grid, uint8 (H, W) greyscale; `insides`: the first sample's feature maps as a
    uint8 mosaic. Either may be None.
    """

    run_id: str
    step: int
    grid: np.ndarray | None = field(default=None, repr=False, compare=False)
    insides: np.ndarray | None = field(default=None, repr=False, compare=False)


# The supervisor → the trainer.


@dataclass(frozen=True)
class Play:
    """Train `preset`, paced to last `seconds`."""

    preset: str
    seconds: float


@dataclass(frozen=True)
class StopRun:
    """End the current run (recorded as stopped); the trainer then reports Idle."""


@dataclass(frozen=True)
class Pause:
    """Hold the training between two steps until Resume."""


@dataclass(frozen=True)
class Resume:
    """Carry on after Pause."""


# The supervisor → the senses (and, for Stop, every child).


@dataclass(frozen=True)
class Fade:
    """Glide the sense's overall level to `level` (0 = silence and black, 1 = full) over `seconds`."""

    level: float
    seconds: float


@dataclass(frozen=True)
class Rejoin:
    """A (re)started sense joins the programme at its level: `level` over `seconds` (short)."""

    level: float
    seconds: float


@dataclass(frozen=True)
class Crossfade:
    """The next run follows without a fade: the sense glides from this run into it over `seconds`."""

    seconds: float


@dataclass(frozen=True)
class Stop:
    """End the process: a sense fades out over `fade_seconds` first; the trainer closes its run."""

    fade_seconds: float


@dataclass(frozen=True)
class Trim:
    """The technician's volume: one linear gain per speaker, glided to within a second (the sound only)."""

    gains: tuple[float, ...]


# The children → the supervisor.


@dataclass(frozen=True)
class Ready:
    """The child plays; `details` (route, channels, projectors…) go into the log line."""

    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Heartbeat:
    """Sent each second while the child's work advances; `status` is shown under /status."""

    status: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Unavailable:
    """The child's device is missing (`reason` says which and how to fix it); it exits to be retried later."""

    reason: str


@dataclass(frozen=True)
class Quit:
    """The installation is to end (a preview window closed by hand): `reason` for the log."""

    reason: str


@dataclass(frozen=True)
class Idle:
    """The trainer plays nothing and waits for Play."""


@dataclass(frozen=True)
class RunStarted:
    """The trainer began a run of `preset`, paced to `seconds`."""

    run_id: str
    preset: str
    seconds: float


@dataclass(frozen=True)
class RunEnded:
    """The trainer's run ended, and how."""

    run_id: str
    status: RunStatus


Message = (
    StreamFrame
    | PictureFrame
    | Play
    | StopRun
    | Pause
    | Resume
    | Fade
    | Rejoin
    | Crossfade
    | Stop
    | Ready
    | Heartbeat
    | Unavailable
    | Quit
    | Idle
    | RunStarted
    | RunEnded
    | Trim
)
# The wire's class byte is the place in this tuple: append new messages, never reorder (children and
# supervisor always run the same code, so this is only about reading the code, not old peers).
MESSAGES: tuple[type, ...] = (
    StreamFrame,
    PictureFrame,
    Play,
    StopRun,
    Pause,
    Resume,
    Fade,
    Rejoin,
    Crossfade,
    Stop,
    Ready,
    Heartbeat,
    Unavailable,
    Quit,
    Idle,
    RunStarted,
    RunEnded,
    Trim,
)
_KIND = {kind: index for index, kind in enumerate(MESSAGES)}


class BadMessage(ValueError):
    """Bytes on a link that are not one of MESSAGES."""


def encode(message: Message) -> bytes:
    return bytes((_KIND[type(message)],)) + pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)


def kind_of(raw: bytes) -> type:
    """The class of an encoded message, from its first byte (nothing is unpickled)."""
    if not raw or raw[0] >= len(MESSAGES):
        raise BadMessage(f"unknown message class byte {raw[:1]!r}")
    return MESSAGES[raw[0]]


def decode(raw: bytes) -> Message:
    """The message in `raw`, of the class its first byte names, every field of its declared type; else BadMessage."""
    kind = kind_of(raw)
    try:
        message = _MessageUnpickler(io.BytesIO(raw[1:])).load()
    except Exception as exc:  # truncated or corrupt bytes: whatever pickle raises, it is a bad message
        raise BadMessage(f"cannot read a {kind.__name__}: {exc}") from None
    if type(message) is not kind or not isinstance(message, Message):
        raise BadMessage(f"a {type(message).__name__} sent as a {kind.__name__}")
    for name, hint in _FIELD_TYPES[kind]:
        value = getattr(message, name, _MISSING)
        if not _conforms(value, hint, depth=0):
            shown = "missing" if value is _MISSING else f"{type(value).__name__} {repr(value)[:60]}"
            raise BadMessage(f"{kind.__name__}.{name} is {shown}, not {hint}")
    return message


def json_data(value: dict[str, Any]) -> dict[str, Any]:
    """`value` as plain JSON data (numpy numbers made Python numbers, keys text): what Heartbeat and Ready carry."""
    return json.loads(json.dumps(value, default=_plain_number))


def _plain_number(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON data")


# What may be inside a message's pickle: the message classes and numpy's arrays, nothing else.
_PICKLE_GLOBALS = {("daemon.messages", kind.__name__) for kind in MESSAGES} | {
    ("numpy", "dtype"),
    ("numpy", "ndarray"),
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "_reconstruct"),
}
_FIELD_TYPES = {kind: [(f.name, get_type_hints(kind)[f.name]) for f in fields(kind)] for kind in MESSAGES}
_MISSING = object()
_MOST_ITEMS = 10_000  # no message holds more keys or streams than this…
_LONGEST_TEXT = 65_536  # …or longer text (a projector's thumbnail, base64, is at most about 12 KB)
_DEEPEST = 4  # Heartbeat and Ready carry small JSON-like dicts


class _MessageUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _PICKLE_GLOBALS:
            raise pickle.UnpicklingError(f"{module}.{name} is not part of a message")
        return super().find_class(module, name)


def _conforms(value: Any, hint: Any, depth: int) -> bool:
    """Whether `value` is of the declared type `hint` (the few kinds of field messages have)."""
    origin, args = get_origin(hint), get_args(hint)
    if hint is Any:
        return _json_like(value, depth)
    if origin is Literal:
        return any(type(value) is type(arg) and value == arg for arg in args)
    if origin in (Union, types.UnionType):
        return any(_conforms(value, arg, depth) for arg in args)
    if hint is type(None):
        return value is None
    if hint is str:
        return type(value) is str and len(value) <= _LONGEST_TEXT
    if hint is int:
        return type(value) is int
    if hint is float:
        return type(value) in (float, int)
    if hint is np.ndarray:  # a picture: greyscale bytes
        return type(value) is np.ndarray and value.dtype == np.uint8 and value.ndim == 2
    if origin is dict:
        return (
            type(value) is dict
            and len(value) <= _MOST_ITEMS
            and _all_conform(value.keys(), args[0], depth)
            and _all_conform(value.values(), args[1], depth)
        )
    if origin is tuple:
        return type(value) is tuple and len(value) <= _MOST_ITEMS and _all_conform(value, args[0], depth)
    return False


# Element types checked by their type alone (the streams of every frame: fast).
_PLAIN: dict[type, set[type]] = {str: {str}, int: {int}, float: {float, int}}


def _all_conform(items: Any, hint: Any, depth: int) -> bool:
    if hint in _PLAIN:
        allowed = _PLAIN[hint]
        return all(type(item) in allowed for item in items) and (
            hint is not str or all(len(item) <= _LONGEST_TEXT for item in items)
        )
    return all(_conforms(item, hint, depth + 1) for item in items)


def _json_like(value: Any, depth: int) -> bool:
    """What /status can show as it is: None, bool, numbers, text, and lists and dicts of them, a few levels deep."""
    if value is None or type(value) in (bool, int, float):
        return True
    if type(value) is str:
        return len(value) <= _LONGEST_TEXT
    if depth >= _DEEPEST:
        return False
    if type(value) in (list, tuple):
        return len(value) <= _MOST_ITEMS and all(_json_like(item, depth + 1) for item in value)
    if type(value) is dict:
        return len(value) <= _MOST_ITEMS and all(type(k) is str and _json_like(v, depth + 1) for k, v in value.items())
    return False


# Control requests (the Unix socket): JSON in, validated into one of these, a ControlReply out.


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class StatusRequest(_Request):
    """What plays, the children, restarts, recent runs."""

    command: Literal["status"]


class OverrideRequest(_Request):
    """Play `preset` now for `minutes` (more than 0, at most a day), then resume the schedule."""

    command: Literal["override"]
    preset: str = Field(min_length=1, max_length=100)
    minutes: float = Field(default=10.0, gt=0, le=24 * 60, allow_inf_nan=False)


class SkipRequest(_Request):
    """End the current run; the cycle's next preset plays for the rest of its time."""

    command: Literal["skip"]


class PauseRequest(_Request):
    """Hold the training where it is."""

    command: Literal["pause"]


class ResumeRequest(_Request):
    """Carry on after pause."""

    command: Literal["resume"]


class ReloadRequest(_Request):
    """Re-read installation.toml; an invalid file is refused and the running config stays."""

    command: Literal["reload"]


class RestartChildRequest(_Request):
    """Restart `role` now: a running child is stopped and started, a given-up one is tried again at once."""

    command: Literal["restart-child"]
    role: Literal["trainer", "sound", "image"]


class VolumeRequest(_Request):
    """Trim the output by `db` (absolute, 0 = as composed), or one `speaker` (1-based); no `db`: just say the trims."""

    command: Literal["volume"]
    db: float | None = Field(default=None, ge=-200, le=200, allow_inf_nan=False)
    speaker: int | None = Field(default=None, ge=1, le=1024)


class ProjectorsRequest(_Request):
    """The projectors' power over PJLink: `power` on or off by hand (held until the hours next change), or just say."""

    command: Literal["projectors"]
    power: Literal["on", "off"] | None = None


ControlRequest = (
    StatusRequest
    | OverrideRequest
    | SkipRequest
    | PauseRequest
    | ResumeRequest
    | ReloadRequest
    | RestartChildRequest
    | VolumeRequest
    | ProjectorsRequest
)
_BY_COMMAND: dict[str, type[_Request]] = {
    get_args(model.model_fields["command"].annotation)[0]: model  # each request's command is a Literal
    for model in get_args(ControlRequest)
}
COMMANDS = tuple(_BY_COMMAND)
_REQUESTS: TypeAdapter[ControlRequest] = TypeAdapter(Annotated[ControlRequest, Field(discriminator="command")])


class RequestInvalid(ValueError):
    """A control request that cannot be acted on; the message says what to send instead."""


def parse_request(data: bytes) -> ControlRequest:
    """One JSON object → a typed request; RequestInvalid names each wrong field, with what it should be."""
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise RequestInvalid('not a JSON request: send one line like {"command": "status"}') from None
    if not isinstance(body, dict) or not isinstance(body.get("command"), str):
        raise RequestInvalid(f'a request is a JSON object with a "command" string, one of: {", ".join(COMMANDS)}')
    if body["command"] not in COMMANDS:
        from daemon.config.errors import did_you_mean

        command = body["command"][:100]
        raise RequestInvalid(
            f"unknown command {command!r}.{did_you_mean(command, list(COMMANDS))} Commands: {', '.join(COMMANDS)}"
        )
    try:
        return _REQUESTS.validate_python(body)
    except ValidationError as exc:
        raise RequestInvalid("; ".join(_explain(error) for error in exc.errors())) from None


def _explain(error: Any) -> str:
    where = ".".join(str(part) for part in error["loc"][1:]) or "request"
    given = error.get("input")
    shown = repr(given) if len(repr(given)) <= 60 else repr(given)[:57] + "..."
    if error["type"] == "extra_forbidden":
        return (
            f"{where}: unknown field (got {shown}); the fields of {error['loc'][0]!r} are: "
            f"{', '.join(_fields(error['loc'][0]))}"
        )
    if isinstance(given, float) and not math.isfinite(given):
        return f"{where}: must be a finite number (got {shown})"
    return f"{where}: {error['msg'].lower()} (got {type(given).__name__} {shown})"


def _fields(command: str) -> list[str]:
    return list(_BY_COMMAND[command].model_fields)


@dataclass(frozen=True)
class ControlReply:
    """The one line the socket answers: ok and what was done (`body`), or not ok and why (`error`)."""

    ok: bool
    body: dict[str, Any] = field(default_factory=dict)
    error: str = ""

    def to_json(self) -> bytes:
        content = {"ok": True, **self.body} if self.ok else {"ok": False, "error": self.error}
        return json.dumps(content, default=str).encode() + b"\n"

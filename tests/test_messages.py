"""The message language: typed messages on the links, control requests validated at the door, no tags elsewhere."""

from __future__ import annotations

import ast
import json
import math
import pickle
import random
from pathlib import Path

import numpy as np
import pytest

from daemon.messages import (
    MESSAGES,
    BadMessage,
    Crossfade,
    Fade,
    Heartbeat,
    OverrideRequest,
    PictureFrame,
    Play,
    ProjectorsRequest,
    Quit,
    Ready,
    RequestInvalid,
    RunEnded,
    RunStarted,
    StatusRequest,
    StreamFrame,
    Trim,
    Unavailable,
    VolumeRequest,
    decode,
    encode,
    kind_of,
    parse_request,
)
from daemon.metrics import MetricFrame

PACKAGE = Path(__file__).resolve().parents[1] / "daemon"
# The string tags the processes used to dispatch on, before daemon.messages typed them.
OLD_TAGS = {
    "frame",
    "fade",
    "crossfade",
    "rejoin",
    "stop",
    "stop_run",
    "ready",
    "heartbeat",
    "play",
    "pause",
    "resume",
    "idle",
    "run_started",
    "run_ended",
    "unavailable",
    "quit",
    "status",
    "override",
    "skip",
    "reload",
}


def a_frame(step: int = 3, grid: bool = True) -> MetricFrame:
    return MetricFrame(
        "run-1",
        "healthy",
        step,
        10,
        1.7e9,
        0.5,
        1.2,
        0.7,
        0.9,
        0.8,
        3.0,
        2.0,
        1e-3,
        2e-3,
        samples={"pixel_entropy": 1.5},
        samples_step=step,
        class_histogram=(0.1,) * 10,
        grid=np.arange(224 * 224, dtype=np.uint8).reshape(224, 224) if grid else None,
        insides=np.ones((56, 56), np.uint8) if grid else None,
    )


def test_every_message_crosses_the_wire_as_itself():
    streams, pictures = a_frame().split()
    assert pictures is not None
    for message in (streams, Play("healthy", 240.0), Fade(0.0, 30.0), Crossfade(8.0), RunEnded("run-1", "stopped")):
        raw = encode(message)
        assert kind_of(raw) is type(message) and decode(raw) == message
    raw = encode(pictures)
    assert kind_of(raw) is PictureFrame  # known from the first byte alone: the supervisor routes it unread
    assert np.array_equal(decode(raw).grid, pictures.grid)  # type: ignore[union-attr]


def test_a_frame_splits_into_small_streams_and_the_pictures():
    frame = a_frame()
    streams, pictures = frame.split()
    assert streams.streams == frame.streams() and streams.progress == frame.progress == 0.3
    assert len(encode(streams)) < 2_000 < len(pickle.dumps(frame))  # the senses' common part stays small
    assert pictures is not None and pictures.step == 3 and pictures.grid is frame.grid
    assert a_frame(grid=False).split()[1] is None  # most steps carry no pictures at all


@pytest.mark.parametrize(
    "raw", [b"", bytes([len(MESSAGES)]) + b"x", bytes([0]) + b"not a pickle", bytes([0]) + pickle.dumps(Fade(1.0, 1.0))]
)
def test_garbage_on_a_link_is_a_bad_message(raw):
    with pytest.raises(BadMessage):
        decode(raw)


def _link_garbage(count: int) -> list[bytes]:
    """What a broken or hostile child might put on a link: random bytes, and real messages under the wrong class."""
    draw = random.Random(5)
    found = [bytes(draw.randrange(256) for _ in range(draw.randrange(0, 200))) for _ in range(count)]
    found += [
        bytes([draw.randrange(256)]) + pickle.dumps(draw.choice([None, 1.5, "x", [1], {"a": 2}, Fade(1.0, 2.0)]))
        for _ in range(count)
    ]
    encoded = [encode(Play("healthy", 1.0)), encode(a_frame().split()[0]), encode(RunEnded("r", "stopped"))]
    found += [raw[: draw.randrange(1, len(raw))] for raw in draw.choices(encoded, k=count)]  # cut short
    return found


@pytest.mark.parametrize("raw", _link_garbage(300), ids=lambda raw: raw[:8].hex() or "empty")
def test_whatever_a_child_sends_is_a_message_of_its_class_or_a_bad_message(raw):
    try:
        message = decode(raw)
    except BadMessage:
        return
    assert raw and isinstance(message, MESSAGES[raw[0]])  # only a whole message of the class its byte names


# What each field of a message a child sends may hold, written out independently of the decoder.
def _number(v) -> bool:
    return type(v) in (int, float)


def _picture(v) -> bool:
    return v is None or (type(v) is np.ndarray and v.dtype == np.uint8 and v.ndim == 2)


def _json_ready(v, depth: int = 0) -> bool:
    """Plain Python JSON data a few levels deep: what /status shows as it is."""
    if v is None or type(v) in (bool, int, float, str):
        return True
    if type(v) in (list, tuple):
        return depth < 4 and all(_json_ready(x, depth + 1) for x in v)
    if type(v) is dict:
        return depth < 4 and all(type(k) is str and _json_ready(x, depth + 1) for k, x in v.items())
    return False


FROM_A_CHILD = [
    (
        StreamFrame("r", "healthy", 1, 10, 1.7e9, 0.5, {"a": 1.0}, (0.1,) * 10),
        {
            "run_id": lambda v: type(v) is str,
            "preset": lambda v: type(v) is str,
            "step": lambda v: type(v) is int,
            "steps_total": lambda v: type(v) is int,
            "time_unix_seconds": _number,
            "elapsed_seconds": _number,
            "streams": lambda v: type(v) is dict and all(type(k) is str and _number(x) for k, x in v.items()),
            "class_histogram": lambda v: type(v) is tuple and all(_number(x) for x in v),
        },
    ),
    (
        PictureFrame("r", 1, np.zeros((4, 4), np.uint8), None),
        {
            "run_id": lambda v: type(v) is str,
            "step": lambda v: type(v) is int,
            "grid": _picture,
            "insides": _picture,
        },
    ),
    (
        Ready({"route": "jack"}),
        {"details": lambda v: type(v) is dict and all(type(k) is str for k in v) and _json_ready(v)},
    ),
    (
        Heartbeat({"step": 3}),
        {"status": lambda v: type(v) is dict and all(type(k) is str for k in v) and _json_ready(v)},
    ),
    (Unavailable("no JACK"), {"reason": lambda v: type(v) is str}),
    (Quit("closed"), {"reason": lambda v: type(v) is str}),
    (
        RunStarted("r", "healthy", 240.0),
        {
            "run_id": lambda v: type(v) is str,
            "preset": lambda v: type(v) is str,
            "seconds": _number,
        },
    ),
    (
        RunEnded("r", "stopped"),
        {
            "run_id": lambda v: type(v) is str,
            "status": lambda v: type(v) is str and v in ("completed", "stopped", "failed"),
        },
    ),
]


class _Odd:
    """Something no message holds."""


def _field_values(draw: random.Random) -> list:
    pool = [
        None,
        True,
        False,
        0,
        -1,
        7,
        1.5,
        math.nan,
        -math.inf,
        "",
        "healthy",
        "x" * 300,
        b"bytes",
        [],
        [1.0],
        (),
        (0.5, 0.5),
        ("a",),
        {},
        {"a": 1.0},
        {"a": "b"},
        {1: 2.0},
        {"a": {"b": [1, {"c": None}]}},
        {"deep": {"deeper": {"deepest": {"too": {"far": 1}}}}},
        {"a": _Odd()},
        _Odd(),
        2**70,
        1j,
        np.float32(1.0),
        np.int64(3),
        np.zeros((4, 4), np.uint8),
        np.zeros((4, 4), np.float32),
        np.zeros(16, np.uint8),
        {"a": np.float64(1.0)},
        "completed",
        "stopped",
        "failed",
        "finished",
    ]
    return pool + [draw.choice(pool) for _ in range(10)]


def _mutations():
    draw = random.Random(11)
    for message, fields_of in FROM_A_CHILD:
        for name in fields_of:
            for value in _field_values(draw):
                yield message, fields_of, name, value


@pytest.mark.parametrize("message, checks, name, value", list(_mutations()), ids=lambda x: type(x).__name__)
def test_a_field_of_the_wrong_type_from_a_child_is_a_bad_message(message, checks, name, value):
    import dataclasses

    mutated = dataclasses.replace(message, **{name: value})
    try:
        raw = encode(mutated)
    except (pickle.PicklingError, TypeError, AttributeError):
        return  # it cannot even leave the child
    try:
        decoded = decode(raw)
    except BadMessage as exc:
        assert type(message).__name__ in str(exc)
        assert not all(check(getattr(mutated, f)) for f, check in checks.items())
        return
    assert all(check(getattr(decoded, f)) for f, check in checks.items()), (name, value)


def test_a_pickle_that_would_run_code_is_refused_unread(tmp_path):
    import os

    witness = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {witness}",))

    raw = bytes([MESSAGES.index(StreamFrame)]) + pickle.dumps(
        StreamFrame("r", "healthy", 1, 10, 0.0, 0.0, {"a": Evil()})  # type: ignore[dict-item]
    )
    with pytest.raises(BadMessage, match="is not part of a message"):
        decode(raw)
    assert not witness.exists()


VALUES = [None, True, 0, -1, 1.5, math.inf, "", "healthy", "x" * 200, [], ["healthy"], {}, {"a": 1}]


@pytest.mark.parametrize("command", ["status", "override", "skip", "pause", "resume", "reload", "paus", 3, None])
@pytest.mark.parametrize("field", ["command", "preset", "minutes", "extra"])
@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_a_request_of_any_shape_is_typed_or_refused_with_a_reason(command, field, value):
    body = {"command": command, "preset": "healthy", "minutes": 5.0} if command == "override" else {"command": command}
    body[field] = value
    try:
        request = parse_request(json.dumps(body).encode())
    except RequestInvalid as exc:
        assert str(exc) and "Traceback" not in str(exc)
        return
    assert type(request).model_fields["command"].annotation.__args__[0] == body["command"]  # type: ignore[union-attr]
    if isinstance(request, OverrideRequest):
        assert isinstance(request.preset, str) and 0 < request.minutes <= 1440 and math.isfinite(request.minutes)
    assert field != "extra"  # an unknown field is never accepted


@pytest.mark.parametrize("command", ["volume", "projectors"])
@pytest.mark.parametrize("field", ["db", "speaker", "power", "extra"])
@pytest.mark.parametrize("value", [*VALUES, -6.0, 6, 2, "on", "off", "status", -201.0, 1e9, math.nan], ids=repr)
def test_a_volume_or_projectors_request_of_any_shape_is_typed_or_refused_with_a_reason(command, field, value):
    """Generated: every field of the two requests of issue 14, and the other's, given values of every type."""
    try:
        request = parse_request(json.dumps({"command": command, field: value}).encode())
    except RequestInvalid as exc:
        assert field in str(exc), exc  # the wrong field is named
        return
    assert field != "extra"  # an unknown field is never accepted
    if isinstance(request, VolumeRequest):
        assert field in ("db", "speaker")
        assert request.db is None or (
            type(request.db) in (int, float) and math.isfinite(request.db) and -200 <= request.db <= 200
        )
        assert request.speaker is None or (type(request.speaker) is int and request.speaker >= 1)
    else:
        assert isinstance(request, ProjectorsRequest) and field == "power" and request.power in ("on", "off", None)


@pytest.mark.parametrize("seed", range(100))
def test_a_trim_of_any_gains_travels_whole_or_is_refused(seed):
    """Generated: the sound's Trim message with gains of every length and kind, through encode and decode."""
    draw = random.Random(seed)
    gains = tuple(draw.choice([1.0, 0.5, 0.0, 1e-9, 3.98, math.inf, math.nan, -1.0]) for _ in range(draw.randrange(40)))
    assert decode(encode(Trim(gains))) == Trim(gains) or any(g != g for g in gains)
    raw = bytearray(encode(Trim(gains)))
    if len(raw) > 2:
        raw[draw.randrange(1, len(raw))] ^= 0xFF
    try:
        decoded = decode(bytes(raw))
    except BadMessage:
        return
    assert not isinstance(decoded, Trim) or all(type(g) is float for g in decoded.gains)


def test_the_override_that_killed_the_supervisor_is_refused_by_name():
    with pytest.raises(RequestInvalid, match=r"preset: .*string.*minutes: .*greater than 0"):
        parse_request(b'{"command": "override", "preset": {"a": 1}, "minutes": 0}')
    with pytest.raises(RequestInvalid, match="Did you mean 'pause'"):
        parse_request(b'{"command": "paus"}')
    assert parse_request(b'{"command": "status"}') == StatusRequest(command="status")
    assert parse_request(b'{"command": "override", "preset": "random"}') == OverrideRequest(
        command="override", preset="random", minutes=10.0
    )


def _tags_named(tree: ast.AST) -> list[tuple[int, str]]:
    """String literals equal to an old tag where code dispatches or sends: compared, matched, or sent."""
    found = []
    for node in ast.walk(tree):
        candidates: list[ast.expr] = []
        if isinstance(node, ast.Compare):
            candidates = [node.left, *node.comparators]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"send", "forward", "put", "put_nowait", "send_senses", "send_trainer"}
        ):
            candidates = node.args[:1]
        elif isinstance(node, ast.MatchValue):
            candidates = [node.value]
        for candidate in candidates:
            elements = candidate.elts if isinstance(candidate, ast.Tuple | ast.List | ast.Set) else [candidate]
            found += [
                (e.lineno, e.value)
                for e in elements
                if isinstance(e, ast.Constant) and isinstance(e.value, str) and e.value in OLD_TAGS
            ]
    return found


def test_no_module_outside_the_messages_module_dispatches_on_a_string_tag():
    offenders = {
        str(path.relative_to(PACKAGE)): tags
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "messages.py" and (tags := _tags_named(ast.parse(path.read_text())))
    }
    assert offenders == {}


def test_the_tag_check_finds_the_old_style():
    assert _tags_named(ast.parse('if kind == "frame":\n    link.send("fade", 1.0, 2.0)')) == [(1, "frame"), (2, "fade")]

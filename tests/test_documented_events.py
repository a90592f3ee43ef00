"""The events the guide tells a technician about are the events the code logs, and every error is explained there."""

from __future__ import annotations

import ast
import re

from tests.conftest import REPO

LEVELS = {"debug", "info", "warning", "error", "exception", "critical"}
GUIDE = REPO / "docs" / "technician.md"


def logged_events() -> dict[str, set[str]]:
    """{level: event names}, from every log call in daemon/ whose event is a literal; an f-string's
    event (f"{role}_ready") is kept as a regular expression with `.+` for each placeholder."""
    found: dict[str, set[str]] = {level: set() for level in LEVELS}
    for path in (REPO / "daemon").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args):
                continue
            level, first = node.func.attr, node.args[0]
            if level not in LEVELS or not _looks_like_a_logger(node.func.value):
                continue
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found[level].add(re.escape(first.value))
            elif isinstance(first, ast.JoinedStr):
                found[level].add(
                    "".join(re.escape(part.value) if isinstance(part, ast.Constant) else ".+" for part in first.values)
                )
    return found


def event_like_strings() -> set[str]:
    """Every string constant in daemon/: events logged through a variable (`log.error(event, …)`, the
    watch's and the power keeper's tables of events) are in here, if not in logged_events()."""
    return {
        re.escape(node.value)
        for path in (REPO / "daemon").rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and re.fullmatch(r"[a-z][a-z0-9_]+", node.value)
    }


def _looks_like_a_logger(target: ast.expr) -> bool:
    """self.log, log, self._log, logger, get_logger("…"): what the house calls its structlog loggers."""
    if isinstance(target, ast.Call):
        target = target.func
        return isinstance(target, ast.Name) and target.id == "get_logger"
    name = target.attr if isinstance(target, ast.Attribute) else target.id if isinstance(target, ast.Name) else ""
    return name.lstrip("_") in {"log", "logger"}


def _named(event_patterns: set[str], name: str) -> bool:
    return any(re.fullmatch(pattern, name) for pattern in event_patterns)


def test_every_event_the_guide_lists_to_know_is_logged_by_the_code():
    guide = GUIDE.read_text()
    listed = re.split(r"\.\s", guide.split("Events to know:", 1)[1], maxsplit=1)[0]  # to the sentence's end
    names = re.findall(r"`([a-z][a-z0-9_]+)`", listed)
    assert len(names) >= 6, listed
    everything = set().union(*logged_events().values())
    missing = [name for name in names if not _named(everything, name)]
    assert not missing, f"the guide lists events no code logs: {missing}"


def test_every_error_the_code_logs_is_named_in_the_guide():
    guide = GUIDE.read_text()
    named_in_guide = set(re.findall(r"`([a-z][a-z0-9_]+)`", guide))
    errors = logged_events()["error"] | logged_events()["exception"] | logged_events()["critical"]
    unexplained = sorted(
        pattern.replace("\\", "")
        for pattern in errors
        if not any(re.fullmatch(pattern, name) for name in named_in_guide)
    )
    assert not unexplained, f"errors a technician may meet that docs/technician.md never names: {unexplained}"


def test_the_scan_finds_what_it_looks_for():
    """The scanner itself: it sees literal and f-string events at each level (so the tests above can fail)."""
    found = logged_events()
    assert _named(found["error"], "config_reload_rejected")
    assert _named(found["info"], "sound_ready") and _named(found["info"], "image_ready")  # f"{role}_ready"
    assert not _named(found["error"], "no_such_event_anywhere")


def test_every_event_in_the_guides_error_table_is_logged_by_the_code():
    table = GUIDE.read_text().split("## Errors, and what to do", 1)[1].split("\n## ", 1)[0]
    names = [
        name
        for row in table.splitlines()
        if row.startswith("| `")
        for name in re.findall(r"`([a-z_]+)`", row.split("|")[1])
    ]
    assert len(names) >= 20, table
    everything = set().union(*logged_events().values()) | event_like_strings()
    assert [name for name in names if not _named(everything, name)] == []

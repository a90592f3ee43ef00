"""structlog set-up: JSON lines off a terminal, colour on one; every event has time, level, component."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from collections import deque
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import structlog
from structlog.typing import Processor

__all__ = ["RECENT_PROBLEMS", "configure", "get_logger", "rotate_log_file_if_due"]

# This process's latest warnings and errors (the supervisor's: deaths, silences, freezes), for /status.
RECENT_PROBLEMS: deque[dict] = deque(maxlen=30)
_SHOWN_KEYS = ("time", "level", "event", "component", "role", "error", "reason", "speakers", "projectors", "fix")


def _remember_problems(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    if event.get("level") in ("warning", "error", "critical"):
        RECENT_PROBLEMS.append({key: str(event[key])[:300] for key in _SHOWN_KEYS if key in event})
    return event


_SHARED: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
    _remember_problems,
    structlog.processors.StackInfoRenderer(),
    structlog.processors.format_exc_info,
]


def configure(
    level: str = "info",
    format: str = "auto",
    file: Path | None = None,
    file_max_megabytes: int = 10,
    file_backups: int = 5,
    stream=None,
    file_owner: bool = True,
) -> None:
    """Route structlog through stdlib handlers: stdout (journald) and an optional rotating file.

    Several processes may append to one file (the supervisor and its children); only the
    `file_owner` rotates it. The others append through a WatchedFileHandler, which reopens the
    file when the owner has renamed it, so no process writes into a rotated file for long and
    two never rotate at once (RotatingFileHandler in each would rename under the others' feet).
    """
    stream = stream or sys.stdout
    console = format == "console" or (format == "auto" and stream.isatty())
    renderer = structlog.dev.ConsoleRenderer(colors=stream.isatty()) if console else _json_renderer()
    handlers: list[logging.Handler] = [logging.StreamHandler(stream)]
    handlers[0].setFormatter(_formatter(renderer))
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        if file_owner:
            to_file: logging.Handler = logging.handlers.RotatingFileHandler(
                file, maxBytes=file_max_megabytes * 1024 * 1024, backupCount=file_backups, encoding="utf-8"
            )
        else:
            to_file = logging.handlers.WatchedFileHandler(file, encoding="utf-8")
        to_file.setFormatter(_formatter(_json_renderer()))
        handlers.append(to_file)
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
        old.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level.upper())
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def rotate_log_file_if_due() -> None:
    """Rotate the owned log file when the other processes' lines have filled it (it otherwise
    rotates only when its owner writes). Cheap: one seek; the supervisor calls it every second."""
    for handler in logging.getLogger().handlers:
        # (A handler's lock is None only before its __init__ has run createLock; typeshed allows for it.)
        if (
            isinstance(handler, logging.handlers.RotatingFileHandler)
            and handler.stream is not None
            and handler.lock is not None
        ):
            with handler.lock:
                handler.stream.seek(0, 2)
                if handler.stream.tell() >= handler.maxBytes:
                    handler.doRollover()


def _json_renderer():
    return structlog.processors.JSONRenderer(sort_keys=False)


def _formatter(renderer) -> structlog.stdlib.ProcessorFormatter:
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )


def get_logger(component: str, **context) -> structlog.stdlib.BoundLogger:
    """A logger whose every event names its component (trainer, recording, cli, …)."""
    return structlog.get_logger(component).bind(component=component, **context)

"""Config mistakes as a technician reads them: file, key path, line, what is wrong and the fix."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

__all__ = ["ConfigError", "ConfigInvalid", "did_you_mean", "line_of_key"]


@dataclass(frozen=True)
class ConfigError:
    """One mistake in one file; `key` is the dotted path (`runs.healthy.steps`), `line` is 1-based."""

    file: str
    key: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.key or '(file)'}: {self.message}"


class ConfigInvalid(Exception):
    """Raised with every error a file has, never just the first."""

    def __init__(self, errors: list[ConfigError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


def did_you_mean(word: str, choices: list[str]) -> str:
    """' Did you mean 'x'?' for the closest choice, or '' when nothing is close."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" Did you mean '{close[0]}'?" if close else ""


_TABLE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"'.]+)\s*=")


def line_of_key(text: str, key_path: tuple[str, ...]) -> int | None:
    """The line where `key_path` is written, found by reading the TOML as a technician would.

    tomllib gives no positions for values, so this follows table headers and `key =` lines;
    it returns the table's header line when the key itself is absent (a missing key).
    """
    if not key_path:
        return None
    table: tuple[str, ...] = ()
    best: int | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        header = _TABLE.match(raw)
        if header:
            table = tuple(part.strip().strip("\"'") for part in header.group(1).split("."))
            if table == key_path[: len(table)] and best is None and len(table) == len(key_path) - 1:
                best = number
            if table == key_path:
                return number
            continue
        key = _KEY.match(raw)
        if key:
            parts = tuple(p.strip().strip("\"'") for p in key.group(1).split("."))
            if table + parts == key_path or table + parts == key_path[: len(table + parts)]:
                return number
    return best

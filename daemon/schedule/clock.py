"""The gallery's clock: its time zone, and the instant its wall clock first shows a given time of day."""

from __future__ import annotations

import contextlib
import os
from datetime import UTC, date, datetime, time, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

__all__ = ["first_instant_showing", "gallery_zone", "system_zone"]

ZONEINFO_ROOTS = ("/usr/share/zoneinfo/", "/usr/lib/zoneinfo/", "/usr/share/lib/zoneinfo/")


def gallery_zone(name: str) -> tzinfo:
    """`[hours] timezone` (already checked by the schema), or the system's zone when it is ""."""
    return ZoneInfo(name) if name else system_zone()


def system_zone() -> tzinfo:
    """The machine's zone as a full zone (with its DST rules), not today's fixed offset.

    `$TZ` first (as every program on the machine reads it), then where `/etc/localtime` points,
    then `/etc/timezone`, then the rules in `/etc/localtime` itself; UTC when none is there.
    """
    candidates = [os.environ.get("TZ", "").removeprefix(":")]
    localtime = Path("/etc/localtime")
    resolved = str(localtime.resolve()) if localtime.is_symlink() else ""
    candidates += [resolved.split(root, 1)[1] for root in ZONEINFO_ROOTS if root in resolved]
    with contextlib.suppress(OSError):
        candidates.append(Path("/etc/timezone").read_text().strip())
    for name in filter(None, candidates):
        try:
            return ZoneInfo(name)
        except (KeyError, ValueError, OSError):
            continue
    try:
        with localtime.open("rb") as rules:
            return ZoneInfo.from_file(rules, key="localtime")
    except (OSError, ValueError):
        return UTC


def first_instant_showing(day: date, wall: time, zone: tzinfo) -> datetime:
    """The first instant (UTC) at which the clock of `zone` shows `wall` or later on `day`.

    A time the clock shows twice (the night it goes back) is its first showing; a time the clock
    skips (the night it jumps forward) is the moment of the jump, when it passes that time.
    """
    local = datetime.combine(day, wall)
    guess = local.replace(tzinfo=zone).astimezone(UTC)
    if guess.astimezone(zone).replace(tzinfo=None) == local:
        return guess  # fold 0: the earlier of two showings
    # Skipped: a second before the jump the clock is earlier than `wall`, at the jump it is later.
    showings = sorted(int(moment.timestamp()) for moment in (guess, local.replace(tzinfo=zone, fold=1)))
    before, after = showings
    while after - before > 1:
        middle = (before + after) // 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) >= local:
            after = middle
        else:
            before = middle
    return datetime.fromtimestamp(after, UTC)

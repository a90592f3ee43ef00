"""Outputs that stay dead while they should play: silent speakers, frozen projectors, over a time limit."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["DeadOutputs", "Verdict"]


@dataclass(frozen=True)
class Verdict:
    """What one look changed: outputs now found dead (past the limit), outputs alive again."""

    dead: list[str] = field(default_factory=list)
    revived: list[str] = field(default_factory=list)


class DeadOutputs:
    """Speakers (or projectors) seen dead in every look for `seconds`, while output was expected.

    `look(dead, seen, expected, now)` once per observation: `seen` names the outputs judged this
    time (a projector's first look after a start cannot tell change yet: not seen, its state
    kept), `dead` those of them found silent (or frozen). Unexpected quiet — fades, gaps, pauses,
    closed hours — restarts the count and clears what was reported: only output that should play
    is judged.
    """

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.dead_since: dict[str, float] = {}
        self.reported: set[str] = set()

    def look(self, dead: Iterable[str], seen: Iterable[str], expected: bool, now: float) -> Verdict:
        if not expected:  # not judged: what was found is dropped, not declared alive
            self.dead_since, self.reported = {}, set()
            return Verdict()
        dead, seen = set(dead), set(seen) | set(dead)
        alive = seen - dead
        revived = sorted(self.reported & alive)
        self.dead_since = {name: since for name, since in self.dead_since.items() if name not in alive}
        self.dead_since.update({name: now for name in dead if name not in self.dead_since})
        newly = sorted(
            name for name, since in self.dead_since.items() if now - since >= self.seconds and name not in self.reported
        )
        self.reported = (self.reported - alive) | set(newly)  # a new set: /status reads it from another thread
        return Verdict(newly, revived)

    def how_long(self, name: str, now: float) -> float:
        return now - self.dead_since.get(name, now)

"""Volume trims: the technician's dB over the whole output and per speaker, bounded, kept and turned into gains."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from daemon.config.schema import Audio

__all__ = ["Trims", "check_trim", "kept_trims"]


@dataclass(frozen=True)
class Trims:
    """`whole_db` over every speaker, plus `speakers_db[n]` on speaker n (1-based, as the technician counts)."""

    whole_db: float = 0.0
    speakers_db: dict[int, float] = field(default_factory=dict)

    def gains(self, channels: int) -> tuple[float, ...]:
        """One linear gain per speaker, 1.0 where nothing is trimmed."""
        return tuple(10.0 ** ((self.whole_db + self.speakers_db.get(n, 0.0)) / 20.0) for n in range(1, channels + 1))

    def set(self, db: float, speaker: int | None) -> Trims:
        """These trims with the whole output (speaker None) or one speaker set to `db`; 0 on a speaker removes it."""
        if speaker is None:
            return Trims(db, dict(self.speakers_db))
        speakers = {n: v for n, v in self.speakers_db.items() if n != speaker}
        return Trims(self.whole_db, speakers | ({speaker: db} if db != 0.0 else {}))

    def to_json(self) -> dict:
        return {"whole_db": self.whole_db, "speakers_db": {str(n): db for n, db in sorted(self.speakers_db.items())}}

    @classmethod
    def from_json(cls, kept: object, audio: Audio) -> Trims:
        """Trims read back from the state file; anything damaged or outside today's range is left out."""
        if not isinstance(kept, dict):
            return cls()
        whole = kept.get("whole_db", 0.0)
        speakers = kept.get("speakers_db", {})
        whole = float(whole) if _in_range(whole, audio) else 0.0
        if not isinstance(speakers, dict):
            return cls(whole)
        return cls(
            whole,
            {
                int(n): float(db)
                for n, db in speakers.items()
                if isinstance(n, str) and n.isdigit() and 1 <= int(n) <= audio.channels and _in_range(db, audio)
            },
        )


def _in_range(db: object, audio: Audio) -> bool:
    if isinstance(db, bool) or not isinstance(db, int | float):
        return False
    return math.isfinite(db) and audio.trim_min_db <= db <= audio.trim_max_db


def check_trim(db: float, speaker: int | None, audio: Audio) -> None:
    """ValueError, saying the allowed range, for a trim the installation will not set."""
    if not math.isfinite(db) or not audio.trim_min_db <= db <= audio.trim_max_db:
        raise ValueError(
            f"a trim of {db:+g} dB is outside the allowed range, {audio.trim_min_db:+g} to {audio.trim_max_db:+g} dB "
            "([audio] trim_min_db / trim_max_db in installation.toml)"
        )
    if speaker is not None and not 1 <= speaker <= audio.channels:
        raise ValueError(f"no speaker {speaker}: the installation has speakers 1 to {audio.channels} (channels)")


def kept_trims(state_path: Path, audio: Audio) -> Trims:
    """The trims the daemon keeps in its state file (none when it is missing or unreadable): speaker-test plays them."""
    try:
        kept = json.loads(state_path.read_text())
    except (OSError, ValueError):
        return Trims()
    return Trims.from_json(kept.get("volume") if isinstance(kept, dict) else None, audio)

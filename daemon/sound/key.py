"""The drift of the fundamental: each run, or each day, draws its own key near [audio] fundamental_hz."""

from __future__ import annotations

import datetime
import hashlib

from daemon.config.schema import Audio

__all__ = ["key_ratio"]


def key_ratio(audio: Audio, run_id: str, time_unix_seconds: float) -> float:
    """The ratio of this run's key to fundamental_hz: 1 without drift, else within ±drift semitones.

    Drawn from the run's id (or the UTC date) and the sound's seed, so a replay or a render of a
    recording plays in the key it played in, and a day's runs share one.
    """
    if audio.fundamental_drift == "none" or audio.fundamental_drift_semitones == 0:
        return 1.0
    if audio.fundamental_drift == "run":
        basis = run_id
    else:
        basis = datetime.datetime.fromtimestamp(time_unix_seconds, datetime.UTC).date().isoformat()
    digest = hashlib.sha256(f"{audio.seed}:{basis}".encode()).digest()
    unit = int.from_bytes(digest[:8], "big") / 2**64  # 0 ≤ unit < 1
    return 2.0 ** ((2.0 * unit - 1.0) * audio.fundamental_drift_semitones / 12.0)

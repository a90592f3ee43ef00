"""Speaker safety on every channel: DC blocker, capped gain with fades, limiter, hard ceiling."""

from __future__ import annotations

from daemon.config.schema import Audio
from daemon.sound.server import pyo

__all__ = ["Master", "db_to_gain"]

TRIM_GLIDE_SECONDS = 0.3  # a volume change glides: no click, and heard well within a second


def db_to_gain(db: float) -> float:
    return 10.0 ** (db / 20.0)


class Master:
    """`channels` streams in, the same out, no sample above `ceiling_dbfs` whatever comes in.

    `fade` (0–1) carries the start-up ramp and the run fades; `gain` (0–1) is the mapped level;
    `trim` the technician's volume, one gain per speaker. Their product is capped at 1 before
    max_gain_db, so no trim plays louder than max_gain_db allows. The compressor shapes the peaks
    musically; the clip after it is the guarantee.
    """

    def __init__(self, mix, gain, audio: Audio):
        ceiling = db_to_gain(audio.ceiling_dbfs)
        self.fade = pyo.SigTo(0.0, time=audio.startup_ramp_seconds, init=0.0)
        self.fade.value = 1.0
        speakers = len(mix)
        self.trim = pyo.SigTo([1.0] * speakers, time=TRIM_GLIDE_SECONDS, init=[1.0] * speakers)
        level = pyo.Clip(gain * self.fade * self.trim, min=0.0, max=1.0, mul=db_to_gain(audio.max_gain_db))
        blocked = pyo.DCBlock(mix, mul=level)
        limited = pyo.Compress(
            blocked, thresh=audio.ceiling_dbfs - 6.0, ratio=20, risetime=0.002, falltime=0.2, lookahead=5.0, knee=0.5
        )
        self.output = pyo.Clip(limited, min=-ceiling, max=ceiling)

    def set_trim(self, gains: tuple[float, ...]) -> None:
        """The technician's volume, one gain per speaker (missing ones 1), glided over TRIM_GLIDE_SECONDS."""
        speakers = len(self.trim)
        self.trim.value = [float(g) for g in (*gains[:speakers], *[1.0] * (speakers - len(gains)))]

    def fade_to(self, level: float, seconds: float) -> None:
        self.fade.time = max(seconds, 0.001)
        self.fade.value = level

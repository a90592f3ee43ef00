"""The installation's cycle, for now: the trainer plays the configured presets in turn, forever."""

from __future__ import annotations

import itertools
import threading

from daemon.config import LoadedConfig
from daemon.logs import get_logger
from daemon.runs import Instrument

__all__ = ["play_cycle"]

MAX_BACKOFF_SECONDS = 60.0


def play_cycle(loaded: LoadedConfig, stop: threading.Event, runs: int | None = None, flat_out: bool = False,
               sound=None) -> int:
    """Play presets in `[cycle] presets` order until `stop` is set (or `runs` runs); return runs played.

    A run that fails is logged and the cycle moves on to the next preset, waiting longer after
    each failure in a row so a broken machine does not spin.
    """
    log = get_logger("cycle")
    instrument = Instrument(loaded)
    order = loaded.config.cycle.presets
    log.info("cycle_started", presets=order, device=str(instrument.device), config=loaded.source)
    played = failures = 0
    for preset in itertools.cycle(order):
        if stop.is_set() or (runs is not None and played >= runs):
            break
        try:
            _play_one(instrument, preset, stop, flat_out, sound, loaded.config.audio)
            failures = 0
            stop.wait(loaded.config.audio.silence_between_runs_seconds)
        except Exception:
            failures += 1
            wait = min(MAX_BACKOFF_SECONDS, 2.0 ** (failures - 1))
            log.exception("run_failed", preset=preset, failures_in_a_row=failures, next_in_seconds=wait)
            stop.wait(wait)
        played += 1
    log.info("cycle_stopped", runs_played=played)
    return played


def _play_one(instrument: Instrument, preset: str, stop: threading.Event, flat_out: bool, sound, audio) -> None:
    """One run, its frames to the sound (when there is sound), faded in and out."""
    run = iter(instrument.start(preset, flat_out=flat_out))
    if sound is not None:
        sound.fade_to(1.0, audio.run_fade_in_seconds)
    try:
        for frame in run:
            if sound is not None:
                sound.on_frame(frame)
            if stop.is_set():
                run.close()  # records the run as stopped
                return
    finally:
        if sound is not None:
            sound.fade_to(0.0, audio.run_fade_out_seconds)
            stop.wait(audio.run_fade_out_seconds)

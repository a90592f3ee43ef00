"""The installation's cycle, for now: the trainer plays the configured presets in turn, forever."""

from __future__ import annotations

import itertools
import threading

from daemon.config import LoadedConfig
from daemon.logs import get_logger
from daemon.runs import Instrument

__all__ = ["play_cycle"]


def play_cycle(loaded: LoadedConfig, stop: threading.Event, runs: int | None = None, flat_out: bool = False) -> int:
    """Play presets in `[cycle] presets` order until `stop` is set (or `runs` runs); return runs played."""
    log = get_logger("cycle")
    instrument = Instrument(loaded)
    order = loaded.config.cycle.presets
    log.info("cycle_started", presets=order, device=str(instrument.device), config=loaded.source)
    played = 0
    for preset in itertools.cycle(order):
        if stop.is_set() or (runs is not None and played >= runs):
            break
        run = iter(instrument.start(preset, flat_out=flat_out))
        for _ in run:
            if stop.is_set():
                run.close()  # records the run as stopped
                break
        played += 1
    log.info("cycle_stopped", runs_played=played)
    return played

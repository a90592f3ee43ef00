"""Metric → parameter curves: ranges, curve shapes, inversion and smoothing, for sound and image alike.

The targets themselves (names, ranges, defaults) live in daemon/targets.py.
"""

from __future__ import annotations

import math
from collections.abc import Mapping as Dict

from daemon.config.schema import MappingEntry
from daemon.metrics.frame import VECTOR_STREAMS
from daemon.targets import VECTOR_TARGETS

__all__ = ["Mapper", "curve_value", "element_mappings"]


def element_mappings(entries: list[MappingEntry]) -> list[MappingEntry]:
    """Every mapping as scalar mappings: a vector mapping becomes one per element, with the same curve.

    The config loader has checked that a vector stream meets a vector target of its length.
    """
    scalars: list[MappingEntry] = []
    for entry in entries:
        sources, targets = VECTOR_STREAMS.get(entry.source), VECTOR_TARGETS.get(entry.target)
        if sources and targets:
            scalars += [
                entry.model_copy(update={"source": source, "target": target})
                for source, target in zip(sources, targets, strict=True)
            ]
        else:
            scalars.append(entry)
    return scalars


def curve_value(entry: MappingEntry, raw: float) -> float:
    """The target value for one stream value: normalise, shape, invert, scale to the output range."""
    span = entry.input_max - entry.input_min
    x = 0.0 if span == 0 else (raw - entry.input_min) / span
    x = min(1.0, max(0.0, x))
    if entry.invert:
        x = 1.0 - x
    if entry.curve == "exponential":
        x = (math.exp(3.0 * x) - 1.0) / (math.exp(3.0) - 1.0)  # slow start, fast end
    elif entry.curve == "logarithmic":
        x = math.log1p(x * (math.e**3 - 1.0)) / 3.0  # fast start, slow end
    elif entry.curve == "steps":
        x = min(math.floor(x * entry.steps), entry.steps - 1) / max(entry.steps - 1, 1)
    return entry.output_min + x * (entry.output_max - entry.output_min)


class Mapper:
    """Turns stream snapshots into smoothed target values; targets without a mapping hold their default.

    Smoothing is a one-pole low-pass per target with the mapping's time constant (seconds), so
    updates arriving at any rate glide instead of jumping. A NaN stream (not measured yet) holds.
    """

    def __init__(self, entries: list[MappingEntry], defaults: Dict[str, float]):
        self.entries = [e for e in element_mappings(entries) if e.target in defaults]
        self.values: dict[str, float] = dict(defaults)
        self.goals: dict[str, float] = dict(defaults)
        self.drift_seconds: float | None = None
        self.glide_constant = self.glide_left = 0.0

    def glide(self, seconds: float) -> None:
        """A new run follows the last (a crossfade): for `seconds`, values travel no faster than a
        time constant of seconds/3, so they cover 95 % of the way from the old run's state by then."""
        self.glide_constant, self.glide_left = seconds / 3.0, seconds

    def update(self, streams: Dict[str, float]) -> None:
        """New stream values arrived: set each mapped target's goal."""
        self.drift_seconds = None
        for entry in self.entries:
            raw = streams.get(entry.source, math.nan)
            if raw == raw:
                self.goals[entry.target] = curve_value(entry, raw)

    def advance(self, seconds: float) -> dict[str, float]:
        """Move every value toward its goal by `seconds` of smoothing; return all values."""
        glide = self.glide_constant if self.glide_left > 0 else 0.0
        self.glide_left -= seconds
        for entry in self.entries:
            target = entry.target
            smoothing = self.drift_seconds if self.drift_seconds is not None else entry.smoothing_seconds
            smoothing = max(smoothing, glide)
            if smoothing <= 0:
                self.values[target] = self.goals[target]
            else:
                k = 1.0 - math.exp(-seconds / smoothing)
                self.values[target] += (self.goals[target] - self.values[target]) * k
        return self.values

    def drift_to(self, idle: Dict[str, float], seconds: float | None = None) -> None:
        """Set every goal to an idle state (the frame stream has stopped), gliding over ≈`seconds`.

        The glide's time constant is a third of `seconds`, so 95 % of the way is done by then.
        """
        self.goals.update({k: v for k, v in idle.items() if k in self.goals})
        self.drift_seconds = None if seconds is None else seconds / 3.0

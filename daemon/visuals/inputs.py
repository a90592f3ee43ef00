"""What the scenes read, kept on the CPU: the latest grid and insides mosaic, and every stream's history."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping

import numpy as np

from daemon.metrics import VECTOR_STREAMS, stream_names

__all__ = ["PictureInputs", "with_smear"]

BLANK = np.zeros((8, 8), np.uint8)
SMEAR_DECAY = 0.93  # per pixel of the grid: the ink's trail fades over ~40 pixels
_versions = itertools.count(1)  # unique across instances: a canvas may be fed by one director, then another


def with_smear(grid: np.ndarray) -> np.ndarray:
    """(H, W) uint8 → (H, W, 2): the grid, and the grid with its ink running to the right.

    Computed once per grid rather than per pixel: the samples scene mixes the two channels by
    its `smear` uniform with one texture fetch instead of a loop of them (5× cheaper on llvmpipe).
    """
    trail = grid.astype(np.float32)
    for column in range(1, trail.shape[1]):
        np.maximum(trail[:, column], trail[:, column - 1] * SMEAR_DECAY, out=trail[:, column])
    trail[:, -1] = 0  # a black border: the scene relies on clamping to it outside the grid
    return np.stack([grid, trail.astype(np.uint8)], axis=2)


class PictureInputs:
    """Fed with streams and pictures; each picture carries a version so the GPU copy uploads only changes.

    `grid` is (H, W, 2) uint8: the sample grid and its smear (with_smear); `insides` (H, W) uint8.
    `lanes` is float32 (streams, history_steps + 1): columns 0…history−1 hold each stream's values,
    oldest first, normalised 0–1 by the range it has spanned this run (the class histogram's ten
    lanes hold each digit's share as it is); the last column holds the
    latest raw value (the numerals). Streams not measured yet read 0.

    `crossfade(seconds)` blends the pictures shown from the ones of that moment into whatever
    arrives next, as `tick()` advances time (a run that follows another without a fade).
    """

    def __init__(self, history_steps: int):
        self.names = stream_names()
        # The class histogram's lanes show each digit's share as it is (0–1), not stretched to its range.
        self.shares = np.array([name in VECTOR_STREAMS["class_histogram"] for name in self.names])
        self.history_steps = history_steps
        self.grid = self.insides = BLANK
        self.latest = {"samples": BLANK, "inside": BLANK}
        self.blend_from: dict[str, np.ndarray] = {}
        self.blend_seconds = self.blend_done = 0.0
        self.versions = {"samples": next(_versions), "inside": next(_versions), "lanes": next(_versions)}
        self.reset()

    def crossfade(self, seconds: float) -> None:
        self.blend_from = {"samples": self.grid, "inside": self.insides} if seconds > 0 else {}
        self.blend_seconds, self.blend_done = seconds, 0.0

    def tick(self, seconds: float) -> None:
        """Advance a crossfade: the pictures shown are the old ones mixed with the latest."""
        if not self.blend_from:
            return
        self.blend_done += seconds
        mix = min(1.0, self.blend_done / self.blend_seconds)
        for name in ("samples", "inside"):
            old, new = self.blend_from[name], self.latest[name]
            shown = new if mix >= 1.0 or old.shape != new.shape else (old * (1.0 - mix) + new * mix).astype(np.uint8)
            self._show(name, shown)
        if mix >= 1.0:
            self.blend_from = {}

    def _show(self, name: str, picture: np.ndarray) -> None:
        if name == "samples":
            self.grid = picture
        else:
            self.insides = picture
        self.versions[name] = next(_versions)

    def reset(self) -> None:
        """A new run: history and ranges start again; the last pictures stay until new ones come."""
        self.lanes = np.zeros((len(self.names), self.history_steps + 1), np.float32)
        self.low = np.full(len(self.names), np.inf)
        self.high = np.full(len(self.names), -np.inf)
        self.versions["lanes"] = next(_versions)

    def on_pictures(self, grid: np.ndarray | None, insides: np.ndarray | None) -> None:
        """A step's pictures (either may be missing): shown at once, or blended in during a crossfade."""
        for name, picture in (("samples", None if grid is None else with_smear(grid)), ("inside", insides)):
            if picture is not None:
                self.latest[name] = picture
                if not self.blend_from:  # while blending, tick() shows the mix
                    self._show(name, picture)

    def on_streams(self, streams: Mapping[str, float]) -> None:
        """A step's streams: one more column of every lane."""
        raw = np.array([streams.get(name, math.nan) for name in self.names], np.float64)
        known = np.isfinite(raw)
        self.low[known] = np.minimum(self.low[known], raw[known])
        self.high[known] = np.maximum(self.high[known], raw[known])
        span = np.where(self.high > self.low, self.high - self.low, 1.0)
        normalised = np.where(known, (raw - np.where(np.isfinite(self.low), self.low, 0.0)) / span, 0.0)
        normalised[self.shares] = np.where(known[self.shares], raw[self.shares], 0.0)
        self.lanes[:, :-2] = self.lanes[:, 1:-1]
        self.lanes[:, -2] = np.clip(normalised, 0.0, 1.0)
        self.lanes[:, -1] = np.where(known, raw, 0.0)
        self.versions["lanes"] = next(_versions)

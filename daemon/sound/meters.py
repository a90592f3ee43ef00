"""What the sound really sends, per speaker: RMS and peak in dBFS, measured by pyo on the master's output."""

from __future__ import annotations

import math
import threading

from daemon.sound.server import pyo

__all__ = ["FLOOR_DBFS", "OutputMeters", "dbfs"]

FLOOR_DBFS = -150.0  # digital silence, as a number JSON (and a browser) can read


def dbfs(amplitude: float) -> float:
    return round(max(FLOOR_DBFS, 20.0 * math.log10(amplitude)) if amplitude > 0 else FLOOR_DBFS, 1)


class OutputMeters:
    """pyo's RMS and PeakAmp on every output stream (C, inside pyo's own processing: no per-sample Python).

    `sample()` at control rate reads each block's values; `report()` gives the levels since the
    last report (RMS over the blocks sampled, the highest peak) and starts a new period.
    """

    def __init__(self, output):
        self.rms, self.peak = pyo.RMS(output), pyo.PeakAmp(output)
        self.channels = len(output)
        self.lock = threading.Lock()
        self._restart()

    def _restart(self) -> None:
        self.squares, self.peaks, self.samples = [0.0] * self.channels, [0.0] * self.channels, 0

    def sample(self) -> None:
        rms, peak = self.rms.get(all=True), self.peak.get(all=True)
        with self.lock:
            self.samples += 1
            for k in range(self.channels):
                self.squares[k] += rms[k] * rms[k]
                self.peaks[k] = max(self.peaks[k], abs(peak[k]))

    def report(self) -> dict[str, list[float]]:
        """{"levels_dbfs": [per speaker], "peaks_dbfs": [per speaker]}; empty before the first sample."""
        with self.lock:
            if not self.samples:
                return {}
            levels = [dbfs(math.sqrt(total / self.samples)) for total in self.squares]
            peaks = [dbfs(value) for value in self.peaks]
            self._restart()
        return {"levels_dbfs": levels, "peaks_dbfs": peaks}

"""The stereo downmix of the speaker ring: for previews on headphones or a laptop, never above the ceiling."""

from __future__ import annotations

import numpy as np

__all__ = ["downmix_matrix"]


def downmix_matrix(channels: int) -> np.ndarray:
    """(channels, 2) gains for a stereo preview: speaker k equal-power panned at k/(channels−1).

    Each column is divided by its sum, so the downmix never exceeds the ceiling the speakers obey.
    """
    position = np.arange(channels) / max(channels - 1, 1)
    gains = np.stack([np.cos(position * np.pi / 2), np.sin(position * np.pi / 2)], axis=1)
    return (gains / gains.sum(axis=0)).astype(np.float32)

"""A contact sheet: a run's sample grids side by side, labelled by step, as one PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from daemon.recording.reader import Recording

__all__ = ["contact_sheet"]

LABEL_HEIGHT = 16


def contact_sheet(recording: Recording, out: Path, tiles: int = 8) -> Path:
    """Up to `tiles` grids evenly spread over the run (first and last included), labelled."""
    grids = [(f.step, f.grid) for f in recording.frames() if f.grid is not None]
    if not grids:
        raise ValueError(f"{recording.folder} holds no sample grids")
    count = min(tiles, len(grids))
    picks = sorted({round(i * (len(grids) - 1) / max(count - 1, 1)) for i in range(count)})
    chosen = [grids[i] for i in picks]
    height, width = chosen[0][1].shape
    sheet = Image.new("L", (width * len(chosen), height + LABEL_HEIGHT), 0)
    draw = ImageDraw.Draw(sheet)
    for column, (step, grid) in enumerate(chosen):
        sheet.paste(Image.fromarray(np.asarray(grid, dtype=np.uint8)), (column * width, LABEL_HEIGHT))
        draw.text((column * width + 4, 2), f"step {step}", fill=255)
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out)
    return out

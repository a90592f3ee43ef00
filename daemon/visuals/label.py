"""Text for the test pattern, drawn with Pillow's built-in font into a greyscale picture."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw, ImageFont

__all__ = ["label_picture"]


def label_picture(lines: list[str]) -> np.ndarray:
    """White text on black, uint8 (H, W), top row first; big enough to scale up crisply."""
    font = ImageFont.load_default(size=48) if hasattr(ImageFont, "load_default") else ImageFont.load_default()
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    boxes = [probe.textbbox((0, 0), line, font=font) for line in lines]
    width = math.ceil(max(box[2] for box in boxes)) + 24  # Pillow types boxes as floats; Image.new takes ints
    line_height = math.ceil(max(box[3] for box in boxes)) + 12
    image = Image.new("L", (width, line_height * len(lines) + 12), 0)
    draw = ImageDraw.Draw(image)
    for index, line in enumerate(lines):
        draw.text((12, 6 + index * line_height), line, fill=255, font=font)
    return np.asarray(image)

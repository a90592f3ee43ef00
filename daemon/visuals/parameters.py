"""Every image parameter a mapping can drive: `visual.<scene>.<uniform>` → the scene shader's uniform."""

from __future__ import annotations

from daemon.mapping import Parameter

__all__ = ["VISUAL_PARAMETERS", "uniforms_for"]

VISUAL_PARAMETERS: dict[str, Parameter] = {
    "visual.samples.tear": Parameter(0.2, 0.0, 1.0, "0–1", "Blocks of the sample grid torn sideways."),
    "visual.samples.rgb_split": Parameter(0.1, 0.0, 1.0, "0–1", "Red and blue pulled apart (to 2 % of the width)."),
    "visual.samples.scanlines": Parameter(0.3, 0.0, 1.0, "0–1", "Depth of the dark scanlines."),
    "visual.samples.smear": Parameter(0.2, 0.0, 1.0, "0–1", "Horizontal smear: digits run like wet ink."),
    "visual.samples.feedback": Parameter(0.3, 0.0, 0.95, "0–0.95", "How much of the last frame stays: trails."),
    "visual.samples.noise": Parameter(0.1, 0.0, 1.0, "0–1", "Static over the grid."),
    "visual.samples.zoom": Parameter(1.0, 0.5, 8.0, "×", "Magnification of the grid (1 = the whole grid)."),
    "visual.data.speed": Parameter(0.2, 0.0, 2.0, "0.1 widths/s", "How fast the barcodes scroll."),
    "visual.data.density": Parameter(0.5, 0.0, 1.0, "0–1", "Barcode density: sparse bars → dense code."),
    "visual.data.flicker": Parameter(0.1, 0.0, 1.0, "0–1", "Lanes inverting at random: the data's unrest."),
    "visual.inside.flow": Parameter(0.2, 0.0, 2.0, "0–2", "How fast the feature maps drift."),
    "visual.inside.warp": Parameter(0.2, 0.0, 1.0, "0–1", "Distortion of the feature-map tiles."),
    "visual.inside.contrast": Parameter(1.0, 0.2, 4.0, "×", "Contrast of the activations."),
    "visual.master.brightness": Parameter(1.0, 0.0, 1.0, "0–1", "Overall brightness (fades ride on it)."),
}


def uniforms_for(scene: str, values: dict[str, float]) -> dict[str, float]:
    """The uniforms of one scene (`visual.<scene>.*`, prefix removed), clamped to their ranges."""
    prefix = f"visual.{scene}."
    return {name[len(prefix):]: min(p.high, max(p.low, values.get(name, p.default)))
            for name, p in VISUAL_PARAMETERS.items() if name.startswith(prefix)}

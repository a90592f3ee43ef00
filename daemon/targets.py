"""Every parameter a [[mapping]] may drive, with its range: a leaf module (stdlib only, no pyo, no GL)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "DIGITS",
    "SOUND_PARAMETERS",
    "VECTOR_TARGETS",
    "VISUAL_PARAMETERS",
    "Parameter",
    "mapping_targets",
    "uniforms_for",
]

DIGITS = 10  # the classes the judging classifier knows: 0–9


@dataclass(frozen=True)
class Parameter:
    """A mapping target: values are clamped to [low, high]; `default` is the idle state."""

    default: float
    low: float
    high: float
    unit: str
    meaning: str


# Every sound parameter a mapping can drive: name, default, range, unit (docs/sound.md lists them).
SOUND_PARAMETERS: dict[str, Parameter] = {
    "sound.drone.level": Parameter(0.3, 0.0, 1.0, "gain 0–1", "Loudness of the organ drone."),
    "sound.drone.brightness": Parameter(0.3, 0.0, 1.0, "0–1", "Upper drawbars pulled out: dull → bright."),
    "sound.drone.beating_hz": Parameter(0.3, 0.0, 8.0, "Hz", "Detuning between paired pipes: slow beating."),
    "sound.drone.wind": Parameter(0.2, 0.0, 1.0, "0–1", "Breath noise in the pipes."),
    "sound.grains.level": Parameter(0.3, 0.0, 1.0, "gain 0–1", "Loudness of the granular cloud."),
    "sound.grains.density": Parameter(10.0, 0.5, 200.0, "grains/s", "How many grains start each second."),
    "sound.grains.duration_seconds": Parameter(0.12, 0.005, 1.0, "s", "Length of each grain."),
    "sound.grains.position": Parameter(0.5, 0.0, 1.0, "0–1", "Where in the material grains are read."),
    "sound.grains.position_jitter": Parameter(0.3, 0.0, 1.0, "0–1", "Scatter of the read position; 0 = a stuck loop."),
    "sound.grains.pitch_spread": Parameter(0.05, 0.0, 1.0, "octaves", "Random transposition of grains."),
    "sound.glitch.level": Parameter(0.2, 0.0, 1.0, "gain 0–1", "Loudness of clicks and the read head."),
    "sound.glitch.click_rate_hz": Parameter(4.0, 0.0, 200.0, "Hz", "Clicks per second (scanner, read head)."),
    "sound.glitch.stutter": Parameter(0.0, 0.0, 0.98, "feedback 0–0.98", "Buffer repeat: how long a fragment loops."),
    "sound.glitch.crush_bits": Parameter(16.0, 1.0, 16.0, "bits", "Bit depth of the crusher (16 = clean)."),
    "sound.glitch.downsample": Parameter(1.0, 0.01, 1.0, "fraction of the rate", "Sample-rate reduction (1 = clean)."),
    "sound.overdrive.drive": Parameter(0.1, 0.0, 0.99, "0–1", "Distortion of the whole mix."),
    "sound.noise.level": Parameter(0.05, 0.0, 1.0, "gain 0–1", "The overall noise floor."),
    "sound.noise.cutoff_hz": Parameter(2000.0, 50.0, 18000.0, "Hz", "Low-pass on the noise floor: dark → hiss."),
    "sound.master.gain": Parameter(
        1.0, 0.0, 1.0, "gain 0–1", "Overall level before the limiter (run fades ride on it)."
    ),
    "sound.digits.level": Parameter(0.0, 0.0, 1.0, "gain 0–1", "Loudness of the digit layer as a whole."),
    **{
        f"sound.digits.voice_{digit}": Parameter(
            0.0, 0.0, 1.0, "gain 0–1", f"Loudness of the voice of digit {digit} (its pitch: [digits])."
        )
        for digit in range(DIGITS)
    },
}

# Vector targets: a [[mapping]] from a vector stream of the same length drives them element by
# element (a scalar stream may drive one element by its own name).
VECTOR_TARGETS: dict[str, tuple[str, ...]] = {
    "sound.digits.voices": tuple(f"sound.digits.voice_{digit}" for digit in range(DIGITS)),
}

# Every image parameter a mapping can drive: `visual.<scene>.<uniform>` → the scene shader's uniform
# (docs/visuals.md lists them).
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
    return {
        name[len(prefix) :]: min(p.high, max(p.low, values.get(name, p.default)))
        for name, p in VISUAL_PARAMETERS.items()
        if name.startswith(prefix)
    }


def mapping_targets() -> dict[str, Parameter]:
    """Every parameter a [[mapping]] may drive: sound.* (docs/sound.md) and visual.* (docs/visuals.md)."""
    return {**SOUND_PARAMETERS, **VISUAL_PARAMETERS}

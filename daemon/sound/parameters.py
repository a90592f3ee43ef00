"""Every sound parameter a mapping can drive: name, default, range, unit (no pyo import here)."""

from __future__ import annotations

from daemon.mapping import Parameter

__all__ = ["SOUND_PARAMETERS"]

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
    "sound.master.gain": Parameter(1.0, 0.0, 1.0, "gain 0–1", "Overall level before the limiter (run fades ride on it)."),
}

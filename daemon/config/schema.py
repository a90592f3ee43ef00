"""The schema of installation.toml: every section, key, type, range and default in one place."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Compute",
    "Cycle",
    "Data",
    "Installation",
    "InstallationConfig",
    "Logging",
    "RunPreset",
    "Streams",
    "DEFAULT_PRESETS",
]


class Section(BaseModel):
    """A table of installation.toml: unknown keys are errors, values are checked strictly."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _float(default: float, ge: float, le: float, description: str) -> float:
    # Strict mode still accepts an int for a float: `gain = 1` is as good as `gain = 1.0`.
    return Field(default, ge=ge, le=le, description=description)


class Installation(Section):
    name: str = Field("Twos and Sevens", min_length=1, description="Name shown in logs and status.")


class Data(Section):
    mnist_path: str = Field(
        "var/mnist", min_length=1, description="Folder holding MNIST/raw/ (torchvision's layout)."
    )
    download: bool = Field(True, description="Download MNIST with torchvision when missing.")
    recordings_path: str = Field("var/recordings", min_length=1, description="Where runs are recorded.")
    classifier_path: str = Field(
        "var/classifier.pt", min_length=1, description="Cached weights of the judging classifier."
    )
    keep_recordings_megabytes: int = Field(2000, ge=1, le=10_000_000, description="Disk budget.")
    keep_recordings_count: int = Field(500, ge=1, le=1_000_000, description="Most runs kept.")


class Compute(Section):
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto = CUDA when present.")
    cpu_threads: int = Field(2, ge=0, le=256, description="Training threads; 0 = torch's default.")


class Streams(Section):
    sample_metrics_every_steps: int = Field(10, ge=1, le=10_000, description="Sample measures cadence.")
    classifier_every_steps: int = Field(25, ge=1, le=10_000, description="Classifier cadence.")
    grid_every_steps: int = Field(25, ge=1, le=10_000, description="Sample grid cadence.")
    grid_samples: int = Field(64, ge=1, le=256, description="Samples in the grid.")


class Logging(Section):
    level: Literal["debug", "info", "warning", "error"] = Field("info")
    format: Literal["auto", "console", "json"] = Field("auto")
    file: str = Field("", description="Also write JSON lines here; empty = no file.")
    file_max_megabytes: int = Field(10, ge=1, le=10_000)
    file_backups: int = Field(5, ge=0, le=1000)
    streams_every_seconds: float = _float(10.0, 0.0, 3600.0, "Log a stream snapshot this often; 0 = never.")


class RunPreset(Section):
    """One training regime: the same knobs for every preset, so a new regime is a copied table."""

    description: str = Field("", description="What the visitor should see.")
    duration_seconds: float = _float(300.0, 1.0, 86_400.0, "How long the arc unfolds.")
    steps: int = Field(..., ge=1, le=1_000_000, description="Training steps in the run.")
    batch_size: int = Field(64, ge=2, le=4096)
    latent_size: int = Field(100, ge=1, le=4096)
    generator_width: int = Field(32, ge=1, le=1024)
    discriminator_width: int = Field(32, ge=1, le=1024)
    generator_batchnorm: bool = True
    discriminator_batchnorm: bool = True
    lr_generator: float = _float(2e-4, 0.0, 1.0, "Adam learning rate of G.")
    lr_discriminator: float = _float(2e-4, 0.0, 1.0, "Adam learning rate of D.")
    adam_beta1: float = _float(0.5, 0.0, 0.999, "Adam beta1.")
    discriminator_steps: int = Field(1, ge=1, le=100)
    generator_steps: int = Field(1, ge=1, le=100)
    real_label: float = _float(1.0, 0.5, 1.0, "Label smoothing: target for real images.")
    output_blur_sigma_pixels: float = _float(0.0, 0.0, 10.0, "Fixed Gaussian blur on G's output.")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="0 = a new seed every run.")


class Cycle(Section):
    presets: list[str] = Field(
        default_factory=lambda: ["healthy", "collapsed", "underfit", "random"], min_length=1
    )


DEFAULT_PRESETS: dict[str, RunPreset] = {
    "healthy": RunPreset(
        description="Noise becomes varied, legible digits.", duration_seconds=240.0, steps=2000
    ),
    "collapsed": RunPreset(
        description="Digit-like shapes, but only one to three of them, hopping.",
        duration_seconds=240.0,
        steps=2000,
        latent_size=1,
        discriminator_batchnorm=False,
        lr_generator=1e-3,
        lr_discriminator=1e-4,
    ),
    "underfit": RunPreset(
        description="Never leaves a grey smear.",
        duration_seconds=240.0,
        steps=2000,
        real_label=0.9,
        output_blur_sigma_pixels=1.5,
    ),
    "random": RunPreset(
        description="The generator never learns: static noise.",
        duration_seconds=120.0,
        steps=1000,
        lr_generator=0.0,
    ),
}


class InstallationConfig(Section):
    installation: Installation = Field(default_factory=Installation)
    data: Data = Field(default_factory=Data)
    compute: Compute = Field(default_factory=Compute)
    streams: Streams = Field(default_factory=Streams)
    logging: Logging = Field(default_factory=Logging)
    cycle: Cycle = Field(default_factory=Cycle)
    runs: dict[str, RunPreset] = Field(default_factory=lambda: dict(DEFAULT_PRESETS), min_length=1)

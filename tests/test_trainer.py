"""Real training steps: frames are complete and honest, regimes differ in their mechanics."""

from __future__ import annotations

import math

import torch
from structlog.testing import capture_logs

from daemon.gan.device import select_device
from daemon.metrics import MEASURES, TRAINING_STREAMS
from daemon.testing import train_frames


def test_every_step_yields_a_complete_frame(loaded, classifier):
    frames, _ = train_frames(loaded, "healthy", 12, classifier=classifier)
    assert [f.step for f in frames] == list(range(1, 13))
    last = frames[-1]
    for name in TRAINING_STREAMS:
        assert math.isfinite(getattr(last, name)), name
    assert 0 <= last.d_accuracy_real <= 1 and 0 <= last.d_accuracy_fake <= 1
    assert last.update_ratio_generator > 0 and last.update_ratio_discriminator > 0
    assert set(MEASURES) <= set(last.samples)
    assert math.isclose(sum(last.class_histogram), 1.0, rel_tol=1e-5)
    assert last.samples_step == 10  # every 5 steps, classifier every 10
    grids = [f.step for f in frames if f.grid is not None]
    assert grids == [1, 12] and last.grid.dtype.name == "uint8" and last.grid.shape == (242, 242)
    # The insides: 64 feature maps of 14×14 in an 8×8 mosaic, each map scaled to its own peak.
    assert [f.step for f in frames if f.insides is not None] == grids
    assert last.insides.shape == (8 * 15 + 1, 8 * 15 + 1) and last.insides.max() == 255


def test_insides_are_the_feature_maps_the_grid_is_painted_from(loaded):
    _, trainer = train_frames(loaded, "healthy", 3)
    import torch

    with torch.no_grad():
        images, features = trainer.generator.forward_with_features(trainer.grid_latent)
        assert torch.equal(images, trainer.generator(trainer.grid_latent))
    assert features.shape == (len(trainer.grid_latent), 64, 14, 14) and (features >= 0).all()  # after ReLU


def test_same_seed_same_losses(loaded):
    first, _ = train_frames(loaded, "healthy", 4, seed=7)
    second, _ = train_frames(loaded, "healthy", 4, seed=7)
    other, _ = train_frames(loaded, "healthy", 4, seed=8)
    assert [f.loss_generator for f in first] == [f.loss_generator for f in second]
    assert [f.loss_generator for f in first] != [f.loss_generator for f in other]


def test_random_regime_never_moves_the_generator(loaded):
    frames, trainer = train_frames(loaded, "random", 6)
    before = trainer.sample(trainer.grid_latent)
    assert all(f.update_ratio_generator == 0.0 for f in frames)
    assert all(f.update_ratio_discriminator > 0 for f in frames)
    trainer.step()
    assert torch.equal(trainer.sample(trainer.grid_latent), before)


def test_underfit_regime_blurs_its_output(loaded):
    _, healthy = train_frames(loaded, "healthy", 1)
    _, underfit = train_frames(loaded, "underfit", 1)
    assert isinstance(underfit.generator.blur, torch.nn.Module) and underfit.generator.blur.radius == 5
    assert isinstance(healthy.generator.blur, torch.nn.Identity)


def test_device_auto_is_cuda_exactly_when_present_and_missing_cuda_falls_back():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert select_device("auto").type == expected
    assert select_device("cpu").type == "cpu"
    if not torch.cuda.is_available():
        with capture_logs() as events:
            assert select_device("cuda").type == "cpu"
        assert events[0]["event"] == "cuda_unavailable" and events[0]["log_level"] == "warning"

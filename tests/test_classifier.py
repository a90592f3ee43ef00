"""The judging classifier: trained for real, accurate, unimpressed by noise, loaded weights-only."""

from __future__ import annotations

import pickle

import pytest
import torch

from daemon.gan.classifier import evaluate, load_classifier, not_digits
from daemon.gan.dataset import load_images
from tests.conftest import CLOSED_NETWORK, run_cli


def test_test_accuracy_is_at_least_98_5_percent(classifier_file, mnist_root):
    model, recorded = load_classifier(classifier_file)
    measured = evaluate(model, load_images(mnist_root, train=False))
    assert measured == pytest.approx(recorded)
    assert measured >= 0.985


def test_non_digits_get_a_flat_answer_and_digits_a_confident_one(classifier, mnist_root):
    noise = not_digits(256, torch.Generator().manual_seed(99), "cpu")
    digits = load_images(mnist_root, train=False).images[:256].float() / 255
    with torch.no_grad():
        confidence_noise = torch.softmax(classifier(noise), 1).max(1).values.mean()
        confidence_digits = torch.softmax(classifier(digits), 1).max(1).values.mean()
    assert confidence_noise < 0.3 < 0.9 < confidence_digits


def test_a_cache_holding_code_is_refused(tmp_path):
    evil = tmp_path / "classifier.pt"
    torch.save({"version": 1, "test_accuracy": 1.0, "state_dict": {}, "payload": pickle.loads}, evil)
    with pytest.raises(pickle.UnpicklingError):
        load_classifier(evil)


def test_fetch_data_without_a_network_says_what_to_do(tmp_path):
    config = tmp_path / "installation.toml"
    config.write_text('[data]\nmnist_path = "mnist"\n')
    result = run_cli("fetch-data", "--config", str(config), env=CLOSED_NETWORK, timeout=300)
    assert result.returncode == 3
    assert "could not download MNIST" in result.stderr and "copy the four uncompressed files" in result.stderr
    assert "Traceback" not in result.stderr

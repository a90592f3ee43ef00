"""The four regimes, short (one seed, a few hundred steps): the separations that already hold that early.

The full acceptance run (3 seeds × 3000 steps) is `benchmarks/regimes.py`; its table is in docs/regimes.md.
"""

from __future__ import annotations

import pytest

from daemon.gan.judge import judge, verdict


@pytest.fixture(scope="module")
def judged(short_runs):
    return {preset: judge(run.trainer, samples=500) for preset, run in short_runs.items()}


@pytest.mark.slow
def test_healthy_makes_varied_digits(judged):
    # Varied: most of the ten digits appear; digits: the classifier is fairly sure of them.
    assert judged["healthy"]["class_perplexity"] >= 7.0
    assert judged["healthy"]["classifier_confidence"] >= 0.6


@pytest.mark.slow
def test_collapsed_repeats_a_few_digit_like_shapes(judged):
    collapsed, healthy = judged["collapsed"], judged["healthy"]
    assert collapsed["class_perplexity"] <= 5.0
    assert collapsed["similarity"] >= healthy["similarity"] + 0.1
    assert collapsed["pixel_entropy"] < 2.5 and collapsed["rms"] > 0.15  # strokes, not blank, not a smear


@pytest.mark.slow
def test_underfit_stays_a_smear(judged):
    underfit, healthy = judged["underfit"], judged["healthy"]
    assert underfit["sharpness"] < 0.05 < healthy["sharpness"]
    assert underfit["pixel_entropy"] > healthy["pixel_entropy"] + 1.0


@pytest.mark.slow
def test_random_stays_noise(judged):
    assert judged["random"]["classifier_confidence"] < 0.3
    assert judged["random"]["sharpness"] > 0.1  # noise is sharp: it is not the smear


@pytest.mark.slow
def test_the_verdict_names_each_regime(judged):
    assert {preset: verdict(m) for preset, m in judged.items()} == {
        "healthy": "healthy",
        "collapsed": "collapsed",
        "underfit": "underfit",
        "random": "random",
    }

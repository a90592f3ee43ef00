"""Shared fixtures: real MNIST, a classifier trained once per session, configs in temp folders."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from daemon.config.loader import MNIST_ENV
from daemon.gan.classifier import load_classifier, train_classifier
from daemon.gan.dataset import check_files, load_images
from daemon.testing import config_for

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def mnist_root() -> Path:
    """Real MNIST: $TWOS_AND_SEVENS_MNIST, else ../shared/data/mnist beside the repository."""
    root = Path(os.environ.get(MNIST_ENV) or REPO.parent / "shared" / "data" / "mnist")
    try:
        check_files(root)
    except Exception as exc:  # a missing data set fails the tests loudly, never skips them
        pytest.fail(f"the tests need real MNIST: {exc}", pytrace=False)
    return root


@pytest.fixture(scope="session")
def classifier_file(mnist_root, tmp_path_factory) -> Path:
    """The judging classifier, trained for real once per test session (about 80 s on 2 cores).

    $TWOS_AND_SEVENS_TEST_CLASSIFIER names weights to reuse while iterating; CI never sets it.
    """
    reuse = os.environ.get("TWOS_AND_SEVENS_TEST_CLASSIFIER")
    if reuse:
        return Path(reuse)
    path = tmp_path_factory.mktemp("classifier") / "classifier.pt"
    train_classifier(load_images(mnist_root, True), load_images(mnist_root, False), path)
    return path


@pytest.fixture(scope="session")
def classifier(classifier_file):
    return load_classifier(classifier_file)[0]


@pytest.fixture
def loaded(tmp_path, mnist_root, classifier_file):
    """The embedded defaults with data in a temp folder and the session's classifier."""
    return config_for(tmp_path, mnist_root, classifier_file)


# Proxies on a closed local port: a real download fails at once, the same way on any machine.
CLOSED_NETWORK = {"http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9", "no_proxy": ""}


def run_cli(*args: str, env: dict | None = None, cwd: Path | None = None, timeout: float = 600):
    """The real `twos-and-sevens` command in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "daemon", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd or REPO,
        env={**os.environ, **(env or {})},
    )


# Steps at which each regime already shows itself on seed 1 (see docs/regimes.md for the curves).
SHORT_STEPS = {"healthy": 500, "collapsed": 400, "underfit": 150, "random": 50}


@pytest.fixture(scope="session")
def short_runs(tmp_path_factory, mnist_root, classifier_file):
    """One real, recorded, flat-out run of each regime (seed 1, SHORT_STEPS): {preset: LiveRun}."""
    from daemon.runs import Instrument

    loaded = config_for(tmp_path_factory.mktemp("short-runs"), mnist_root, classifier_file)
    instrument = Instrument(loaded)
    runs = {}
    for preset, steps in SHORT_STEPS.items():
        run = instrument.start(preset, seed=1, steps=steps, flat_out=True)
        for _ in run:
            pass
        runs[preset] = run
    return runs

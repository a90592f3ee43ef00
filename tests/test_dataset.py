"""MNIST on disk: missing and damaged files give messages that name the file and the fix."""

from __future__ import annotations

import shutil

import pytest

from daemon.gan.dataset import EXPECTED, MnistCorrupt, MnistMissing, check_files, load_images, raw_folder
from tests.conftest import CLOSED_NETWORK, run_cli


def copy_of_mnist(mnist_root, tmp_path):
    raw = raw_folder(tmp_path)
    raw.mkdir(parents=True)
    for name in EXPECTED:
        (raw / name).symlink_to(raw_folder(mnist_root) / name)
    return raw


def test_real_mnist_loads_whole(mnist_root):
    data = load_images(mnist_root, train=True)
    assert tuple(data.images.shape) == (60_000, 1, 28, 28) and data.labels.max() == 9


def test_missing_data_says_where_to_put_it_and_which_key(tmp_path):
    with pytest.raises(MnistMissing) as caught:
        check_files(tmp_path)
    message = str(caught.value)
    assert str(raw_folder(tmp_path)) in message
    assert "mnist_path" in message and "TWOS_AND_SEVENS_MNIST" in message and "fetch-data" in message


def test_truncated_file_is_named(mnist_root, tmp_path):
    raw = copy_of_mnist(mnist_root, tmp_path)
    truncated = raw / "train-images-idx3-ubyte"
    truncated.unlink()
    with (raw_folder(mnist_root) / truncated.name).open("rb") as source:
        truncated.write_bytes(source.read(1_000_000))
    with pytest.raises(MnistCorrupt, match="train-images-idx3-ubyte is 1000000 bytes, expected 47040016"):
        check_files(tmp_path)


def test_garbage_file_is_named(mnist_root, tmp_path):
    raw = copy_of_mnist(mnist_root, tmp_path)
    (raw / "t10k-labels-idx1-ubyte").unlink()
    (raw / "t10k-labels-idx1-ubyte").write_bytes(b"<html>not found</html>" * 100)
    with pytest.raises(MnistCorrupt, match="t10k-labels-idx1-ubyte is not an MNIST idx file"):
        check_files(tmp_path)


def test_commands_without_data_exit_nonzero_with_the_fix_and_no_traceback(tmp_path, classifier_file):
    config = tmp_path / "installation.toml"
    config.write_text(f'[data]\nmnist_path = "empty"\ndownload = false\nclassifier_path = "{classifier_file}"\n')
    for command in (["run"], ["trial", "healthy", "--steps", "2"]):
        result = run_cli(*command, "--config", str(config))
        assert result.returncode == 3, result.stderr
        assert f"MNIST is not in {tmp_path / 'empty' / 'MNIST' / 'raw'}" in result.stderr
        assert "Traceback" not in result.stderr


def test_download_without_a_network_fails_with_the_same_advice(tmp_path, classifier_file):
    config = tmp_path / "installation.toml"
    config.write_text(f'[data]\nmnist_path = "empty"\ndownload = true\nclassifier_path = "{classifier_file}"\n')
    result = run_cli("run", "--config", str(config), env=CLOSED_NETWORK, timeout=300)
    assert result.returncode == 3
    assert "Downloading failed" in result.stderr and "mnist_path" in result.stderr
    shutil.rmtree(tmp_path / "empty", ignore_errors=True)

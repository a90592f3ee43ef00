"""What can be wrong with the training data, as exceptions the command line reports without importing torch."""

__all__ = ["MnistCorrupt", "MnistMissing"]


class MnistMissing(Exception):
    """MNIST is not where the config says; the message says where to put it."""


class MnistCorrupt(Exception):
    """An MNIST file is truncated or is not an idx file; the message names the file."""

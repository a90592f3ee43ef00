"""MNIST from the configured folder: checked byte by byte, loaded whole onto the training device."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from daemon.config import LoadedConfig
from daemon.gan.errors import MnistCorrupt, MnistMissing
from daemon.logs import get_logger

if TYPE_CHECKING:  # torch loads with the images: the supervisor checks the files without it
    import torch

__all__ = [
    "MnistCorrupt",
    "MnistImages",
    "MnistMissing",
    "check_files",
    "ensure_mnist",
    "fetch",
    "load_images",
    "raw_folder",
]

# (file name, idx magic number, item count, bytes per item): the four files torchvision reads.
EXPECTED = {
    "train-images-idx3-ubyte": (2051, 60_000, 28 * 28),
    "train-labels-idx1-ubyte": (2049, 60_000, 1),
    "t10k-images-idx3-ubyte": (2051, 10_000, 28 * 28),
    "t10k-labels-idx1-ubyte": (2049, 10_000, 1),
}


def raw_folder(root: Path) -> Path:
    return Path(root) / "MNIST" / "raw"


def check_files(root: Path, names: tuple[str, ...] = tuple(EXPECTED)) -> None:
    """Raise MnistMissing / MnistCorrupt with the file and the fix, before torchvision sees them."""
    raw = raw_folder(root)
    missing = [n for n in names if not (raw / n).is_file()]
    if missing:
        raise MnistMissing(
            f"MNIST is not in {raw} (missing: {', '.join(missing)}). Either run "
            f"`twos-and-sevens fetch-data` on a machine with a network, copy the four uncompressed "
            f"files ({', '.join(EXPECTED)}) into {raw}, or set [data] mnist_path in installation.toml "
            f"(or $TWOS_AND_SEVENS_MNIST) to the folder that holds MNIST/raw/."
        )
    for name in names:
        magic, count, item_bytes = EXPECTED[name]
        path = raw / name
        with path.open("rb") as handle:
            header = handle.read(8)
        size = path.stat().st_size
        header_bytes = 16 if magic == 2051 else 8
        want = header_bytes + count * item_bytes
        if len(header) < 8 or struct.unpack(">II", header) != (magic, count):
            raise MnistCorrupt(f"{path} is not an MNIST idx file (bad header); delete it and fetch again.")
        if size != want:
            raise MnistCorrupt(
                f"{path} is {size} bytes, expected {want}: the file is truncated or damaged; "
                f"delete it and run `twos-and-sevens fetch-data` or copy it again."
            )


@dataclass(frozen=True)
class MnistImages:
    """All images of a split as uint8 (N, 1, 28, 28) on one device, with their labels."""

    images: torch.Tensor
    labels: torch.Tensor

    def batch(self, size: int, generator: torch.Generator) -> torch.Tensor:
        """A random batch scaled to [-1, 1], the generator's output range."""
        import torch

        index = torch.randint(0, self.images.shape[0], (size,), generator=generator, device="cpu")
        return self.images[index.to(self.images.device)].float().div_(127.5).sub_(1.0)


def load_images(root: Path, train: bool = True, device: torch.device | str = "cpu") -> MnistImages:
    """Check, then load one split through torchvision.datasets.MNIST (download=False)."""
    from torchvision.datasets import MNIST

    prefix = "train" if train else "t10k"
    check_files(root, (f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"))
    dataset = MNIST(str(root), train=train, download=False)
    images = dataset.data.unsqueeze(1).contiguous().to(device)
    return MnistImages(images, dataset.targets.to(device))


def fetch(root: Path) -> None:
    """Download MNIST with torchvision (network needed), then check it."""
    from torchvision.datasets import MNIST

    for train in (True, False):
        MNIST(str(root), train=train, download=True)
    check_files(root)


def ensure_mnist(loaded: LoadedConfig) -> None:
    """MNIST's files are in place (downloaded when missing and allowed), or MnistMissing says where to put them."""
    try:
        check_files(loaded.mnist_path)
    except MnistMissing as missing:
        if not loaded.config.data.download:
            raise
        get_logger("data").info("mnist_downloading", path=str(loaded.mnist_path))
        try:
            fetch(loaded.mnist_path)
        except Exception as exc:  # no network, a proxy, a full disk: all end in the same advice
            raise MnistMissing(f"{missing} (Downloading failed: {exc}.)") from None

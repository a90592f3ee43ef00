"""A DCGAN-style generator and discriminator for 28×28 MNIST, sized by a run preset."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["Discriminator", "GaussianBlur", "Generator"]


class GaussianBlur(nn.Module):
    """A fixed (untrained) Gaussian blur: the underfit regime's generator can never be sharp."""

    kernel_x: torch.Tensor  # buffers, registered in __init__ (so they move with .to(device))
    kernel_y: torch.Tensor

    def __init__(self, sigma_pixels: float):
        super().__init__()
        radius = max(1, math.ceil(3 * sigma_pixels))
        x = torch.arange(-radius, radius + 1, dtype=torch.float32)
        kernel = torch.exp(-(x**2) / (2 * sigma_pixels**2))
        kernel = kernel / kernel.sum()
        self.register_buffer("kernel_x", kernel.view(1, 1, 1, -1))
        self.register_buffer("kernel_y", kernel.view(1, 1, -1, 1))
        self.radius = radius

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        r = self.radius
        padded = F.pad(images, (r, r, r, r), mode="replicate")
        return F.conv2d(F.conv2d(padded, self.kernel_x), self.kernel_y)


class Generator(nn.Module):
    """latent (N, Z) → images (N, 1, 28, 28) in [-1, 1]: 7×7 → 14×14 → 28×28 transposed convolutions."""

    def __init__(self, latent_size: int, width: int, batchnorm: bool, blur_sigma_pixels: float = 0.0):
        super().__init__()
        self.latent_size = latent_size

        def norm(channels: int) -> nn.Module:
            return nn.BatchNorm2d(channels) if batchnorm else nn.Identity()

        self.net = nn.Sequential(
            nn.ConvTranspose2d(latent_size, width * 4, 7, 1, 0, bias=not batchnorm),
            norm(width * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(width * 4, width * 2, 4, 2, 1, bias=not batchnorm),
            norm(width * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(width * 2, 1, 4, 2, 1),
            nn.Tanh(),
        )
        self.blur = GaussianBlur(blur_sigma_pixels) if blur_sigma_pixels > 0 else nn.Identity()

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        return self.blur(self.net(latent.view(latent.shape[0], self.latent_size, 1, 1)))

    def forward_with_features(self, latent: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Images, and the 14×14 feature maps (N, width·2, 14, 14) the last layer paints them from."""
        features = self.net[:6](latent.view(latent.shape[0], self.latent_size, 1, 1))
        return self.blur(self.net[6:](features)), features


class Discriminator(nn.Module):
    """images (N, 1, 28, 28) → logits (N,): real is positive."""

    def __init__(self, width: int, batchnorm: bool):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, width, 4, 2, 1),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(width, width * 2, 4, 2, 1, bias=not batchnorm),
            nn.BatchNorm2d(width * 2) if batchnorm else nn.Identity(),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(width * 2, 1, 7, 1, 0),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images).view(-1)


def init_weights(module: nn.Module) -> None:
    """DCGAN initialisation: N(0, 0.02) for convolutions, N(1, 0.02) for BatchNorm scales."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)

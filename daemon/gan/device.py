"""Choosing where training runs: [compute] device and CPU threads."""

from __future__ import annotations

import torch

from daemon.logs import get_logger

__all__ = ["select_device"]


def select_device(setting: str = "auto", cpu_threads: int = 0) -> torch.device:
    """auto = CUDA when present, else CPU; a missing CUDA falls back to CPU with a warning."""
    if cpu_threads > 0:
        torch.set_num_threads(cpu_threads)
    if setting == "cuda" and not torch.cuda.is_available():
        get_logger("compute").warning("cuda_unavailable", fix='set [compute] device = "auto" or "cpu"', using="cpu")
        return torch.device("cpu")
    if setting == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu")
    return torch.device("cuda")

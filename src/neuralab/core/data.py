"""Tensors and batches shared by the parts: MNIST as float tensors and seeded index batches."""

from __future__ import annotations

import numpy as np
import torch


def images_to_float(x: np.ndarray) -> torch.Tensor:
    """uint8 grey images (..., H, W) -> float32 (..., 1, H, W) in [0, 1]: the one pixel scaling."""
    return torch.from_numpy(np.ascontiguousarray(x)).float().div_(255.0).unsqueeze(-3)


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """A generator fixed by (seed, epoch), so a resumed run reshuffles exactly as the original."""
    return torch.Generator().manual_seed(seed * 100_003 + epoch)


def index_batches(n: int, batch_size: int, *, seed: int | None = None, epoch: int = 0,
                  drop_last: bool = False) -> list[torch.Tensor]:
    """Split range(n) into batches of indices: shuffled by (seed, epoch) when seed is given."""
    order = torch.randperm(n, generator=epoch_generator(seed, epoch)) if seed is not None else torch.arange(n)
    batches = list(order.split(batch_size))
    if drop_last and batches and len(batches[-1]) < batch_size:
        batches.pop()
    return batches

"""ONNX export of a symbolic calculator: the digit reader, plus the arithmetic ONNX can hold.

The exported graph takes numbers as a block of digit images and gives each digit's
probabilities and the running totals:

    images  (B, K, N, 1, 28, 28) float32 in [0, 1]   K numbers of N digits (left-pad with a 0 image
                                                      read as 0, or use leading zeros)
    probs   (B, K, N, 10)        float32              per-digit probabilities
    running (B, K)               int64                running totals of the numbers as read

Reading is argmax per digit and the sum is exact integer arithmetic (place values, cumsum), as
`calc predict` does. int64 holds totals below 9.2e18, so N <= 17 for K up to 10. The training
loss (the carry dynamic program) is not exported: inference does not need it.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from torch import nn

from neuralab.calc.models import SymbolicCalc
from neuralab.calc.reading import digit_view
from neuralab.core.errors import UserError
from neuralab.core.io import atomic_path

log = logging.getLogger(__name__)
MAX_EXPORT_DIGITS = 17


class ReadAndAdd(nn.Module):
    """(B, K, N, 1, 28, 28) digit images -> (probs (B, K, N, 10), running totals (B, K) int64)."""

    def __init__(self, calc: SymbolicCalc, digits: int):
        super().__init__()
        self.calc = calc
        self.register_buffer("place", 10 ** torch.arange(digits - 1, -1, -1, dtype=torch.int64))  # (N,)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        B, K, N = images.shape[:3]
        probs = digit_view(self.calc.read(images.reshape(B * K * N, 1, 28, 28))).reshape(B, K, N, 10)
        numbers = (probs.argmax(-1) * self.place).sum(-1)                        # (B, K)
        return probs, numbers.cumsum(-1)


def export_onnx(model: nn.Module, digits: int, path: Path | str) -> Path:
    """Write the ONNX graph for numbers of `digits` digits (batch and number count are dynamic)."""
    if not isinstance(model, SymbolicCalc):
        raise UserError("export: only a symbolic calc checkpoint can be exported (the seed model reads no digits)")
    if not 1 <= digits <= MAX_EXPORT_DIGITS:
        raise UserError(f"--digits: must be 1..{MAX_EXPORT_DIGITS} so totals fit in int64, got {digits}")
    wrapper = ReadAndAdd(model, digits).cpu().eval()
    example = torch.rand(2, 2, digits, 1, 28, 28)
    dims = {0: torch.export.Dim("batch"), 1: torch.export.Dim("numbers", max=10)}
    path = Path(path)
    with atomic_path(path) as tmp:
        program = torch.onnx.export(wrapper, (example,), input_names=["images"], output_names=["probs", "running"],
                                    dynamic_shapes=(dims,), dynamo=True, verbose=False)
        program.save(str(tmp))
    log.info("exported %s", path)
    return path

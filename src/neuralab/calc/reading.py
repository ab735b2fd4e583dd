"""The one way to read digit images with a calculator's CNN.

`read_log_probs` reads images in chunks, in eval mode, and returns each image's log-probabilities
over the 12 slot symbols (ten digits, '+', blank): the table the exact sum likelihood is scored on.
`digit_view` is the 10-digit rule on that table ('+' and blank left out, the ten renormalised). The
web page, `calc predict`, the ONNX export and every benchmark's digit accuracy p read digits
through it, so the p a benchmark reports is the rule a user gets.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from neuralab.calc import touching
from neuralab.calc.joined import Judge
from neuralab.calc.models import SymbolicCalc
from neuralab.core.data import images_to_float

READ_CHUNK = 4096   # images per forward pass: ~13 MB of pixels, and the CNN's activations stay well under 1 GB


def digit_view(slot_log_probs: torch.Tensor) -> torch.Tensor:
    """The 10-digit rule: (..., 12) slot log-probabilities -> (..., 10) probabilities over the digits."""
    return slot_log_probs[..., :10].softmax(-1)


@torch.no_grad()
def read_log_probs(model: SymbolicCalc, count: int, batch: Callable[[int, int], torch.Tensor],
                   device: torch.device | str = "cpu") -> torch.Tensor:
    """Slot log-probabilities (count, 12), on the CPU, of the images `batch(start, stop)` gives as
    (stop - start, 1, 28, 28) floats in [0, 1]. In eval mode the CNN reads each image on its own."""
    model.eval()
    return torch.cat([model.read(batch(start, min(start + READ_CHUNK, count)).to(device)).cpu()
                      for start in range(0, count, READ_CHUNK)]) if count else torch.zeros(0, 12)


def _digit_probabilities(model: SymbolicCalc, images: np.ndarray, device: torch.device | str) -> torch.Tensor:
    """Digit images (D, 28, 28) uint8 -> (D, 10) probabilities by the 10-digit rule."""
    return digit_view(read_log_probs(model, len(images), lambda a, b: images_to_float(images[a:b]), device))


def read_digits(model: SymbolicCalc, images: np.ndarray, device: torch.device | str = "cpu") -> tuple[list[int], list[float]]:
    """Digit images (D, 28, 28) uint8 -> each image's digit by the 10-digit rule, and its probability."""
    best, digit = _digit_probabilities(model, images, device).max(-1)
    return digit.tolist(), best.tolist()


def judge(model: SymbolicCalc, device: torch.device | str = "cpu") -> Judge:
    """The reader as `segment` asks it where to cut digits that touch: digit images (N, 28, 28) uint8
    -> (N, 10) each one's probabilities by the 10-digit rule, and (N,) the probability that each holds
    one digit, by the model's one-digit judge (`calc.touching`; 1 for a model without one)."""
    def read(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        net = getattr(model, "touch", None)
        one = np.ones(len(images)) if net is None else 1.0 - touching.several(net, images)
        return _digit_probabilities(model, images, device).numpy(), one
    return read

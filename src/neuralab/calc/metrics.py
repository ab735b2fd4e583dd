"""How good a calculator is, on a set of generated examples.

- `exact_sum_accuracy` (the headline): the fraction of examples whose final total is exactly right.
- `char_accuracy` (the 2017 metric): every reported total is written as its decimal string,
  left-aligned and padded with blanks to `layout.width` characters (6 for two 5-digit numbers),
  as the 2017 targets were; it is the fraction of those character positions, padding included,
  where the predicted string matches. (In `operands` every running total counts; else the sum.)
- `digit_accuracy` p (symbolic model only): over the digit images, the fraction whose most probable
  of the 12 symbols is their true digit. `ceiling` is the mean over examples of p ** (digit images
  in the example): the exact-sum accuracy that independent reading errors would allow.
- `running_accuracy` (`operands` only): per running total, the fraction exactly right.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn

from neuralab.calc.data import Bank, Examples, Layout
from neuralab.calc.models import SeedNet, chars_to_totals, reported_totals, totals_to_chars


def batches(bank: Bank, examples: Examples, batch_size: int, order: np.ndarray | None = None):
    """Yield (images (B, T, 1, 28, 28), numbers (B, K), rows) in order (default: as stored)."""
    order = np.arange(len(examples)) if order is None else order
    for start in range(0, len(order), batch_size):
        rows = order[start:start + batch_size]
        yield bank.render(examples.image[rows]), torch.from_numpy(examples.numbers[rows]), rows


class Batches:
    """The batches (images, numbers, layout) of one epoch, rendered lazily (sized, for progress bars)."""

    def __init__(self, bank: Bank, examples: Examples, batch_size: int, order: np.ndarray, layout: Layout,
                 deadline: float | None = None):
        self.bank, self.examples, self.batch_size, self.order = bank, examples, batch_size, order
        self.layout, self.deadline = layout, deadline   # stop yielding once time.perf_counter() passes it

    def __len__(self) -> int:
        return -(-len(self.order) // self.batch_size)

    def __iter__(self):
        for images, numbers, _ in batches(self.bank, self.examples, self.batch_size, self.order):
            if self.deadline is not None and time.perf_counter() > self.deadline:
                return
            yield images, numbers, self.layout


@torch.no_grad()
def score(model: nn.Module, layout: Layout, bank: Bank, examples: Examples,
          device: torch.device, batch_size: int = 256) -> dict:
    """All metrics of `model` on `examples` (see the module docstring)."""
    model.eval()
    hits, chars, digit_hits, digit_count = [], 0.0, 0, 0
    slots_right = []
    for images, numbers, rows in batches(bank, examples, batch_size):
        truth = reported_totals(numbers, layout)
        if isinstance(model, SeedNet):       # its own answer string, compared as is
            pred_chars = model(images.to(device)).argmax(-1).view(*truth.shape, layout.width).cpu()
            pred, logp = chars_to_totals(pred_chars), None
        else:
            pred, logp = model.predict(images.to(device))
            pred = pred.cpu()
            pred_chars = totals_to_chars(pred, layout.width)
        hits.append((pred == truth).numpy())
        chars += (pred_chars == totals_to_chars(truth, layout.width)).float().sum().item()
        if logp is not None:
            symbol = torch.from_numpy(examples.symbol[rows])
            is_digit = symbol < 10
            right = (logp.argmax(-1).cpu() == symbol) & is_digit
            digit_hits += int(right.sum())
            digit_count += int(is_digit.sum())
            slots_right.append(is_digit.sum(-1).numpy())
    hits = np.concatenate(hits)                                       # (n, totals)
    n = len(hits)
    out = {"count": n, "exact_sum_accuracy": float(hits[:, -1].mean()),
           "char_accuracy": chars / (n * hits.shape[1] * layout.width),
           "digit_accuracy": None, "ceiling": None}
    if digit_count:
        p = digit_hits / digit_count
        out["digit_accuracy"] = p
        out["ceiling"] = float(np.mean(p ** np.concatenate(slots_right)))
    if layout.format == "operands":
        out["running_accuracy"] = [float(a) for a in hits.mean(0)]
        out["all_running_accuracy"] = float(hits.all(1).mean())
    return out

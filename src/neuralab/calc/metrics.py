"""How good a calculator is, on a set of generated examples.

- `exact_sum_accuracy` (the headline): the fraction of examples whose final total is exactly right
  (for the seed model: whose answer string is exactly the total's string).
- `char_accuracy` (the 2017 metric): every reported total is written as its decimal string,
  left-aligned and padded with blanks to `layout.width` characters (6 for two 5-digit numbers),
  as the 2017 targets were; it is the fraction of those character positions, padding included,
  where the predicted string matches. (In `operands` every running total counts; else the sum.)
- `digit_accuracy` p (symbolic model only): over the digit images, the fraction read as their true digit
  by the 10-digit rule (`reading.digit_view`: '+' and blank left out), the rule the page and `calc
  predict` read by. `ceiling` is the mean over examples of p ** (digit images
  in the example): the exact-sum accuracy that independent reading errors would allow.
- `running_accuracy` (`operands` only): per running total, the fraction exactly right.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from neuralab.calc import arith
from neuralab.calc.data import Bank, Examples
from neuralab.calc.digits import answer_digits, digits_to_chars, reported_digits
from neuralab.calc.layout import Layout
from neuralab.calc.models import SeedNet, SymbolicCalc
from neuralab.calc.reading import digit_view, read_log_probs


@torch.no_grad()
def read_images(model: SymbolicCalc, bank: Bank, index: np.ndarray, device: torch.device) -> torch.Tensor:
    """Slot log-probs (len(index), 12) of the bank's images at `index` (`reading.read_log_probs`): scoring
    sums costs one read of each distinct image, whatever the number of digits per sum."""
    return read_log_probs(model, len(index), lambda a, b: bank.render(index[a:b]), device)


@torch.no_grad()
def score(model: nn.Module, layout: Layout, bank: Bank, examples: Examples,
          device: torch.device, batch_size: int = 256) -> dict:
    """All metrics of `model` on `examples` (see the module docstring)."""
    model.eval()
    table = None
    if not isinstance(model, SeedNet):
        distinct, where = np.unique(examples.image, return_inverse=True)
        table, where = read_images(model, bank, distinct, device), where.reshape(examples.image.shape)
    hits, chars, digit_hits, digit_count = [], 0, 0, 0
    slots_right = []
    for start in range(0, len(examples), batch_size):
        rows = np.arange(start, min(start + batch_size, len(examples)))
        truth = digits_to_chars(answer_digits(examples.targets(layout, rows), layout))   # (B, totals, width)
        if table is None:                    # the seed model: its own answer string, compared as is
            images = bank.render(examples.image[rows]).to(device)
            pred = model(images).argmax(-1).view(truth.shape).cpu()
        else:
            logp = table[where[rows]]                                                 # (B, T, 12)
            pred = digits_to_chars(reported_digits(arith.decode_digits(logp, layout), layout))
            symbol = torch.from_numpy(examples.symbol[rows])
            is_digit = symbol < 10
            digit_hits += int(((digit_view(logp).argmax(-1) == symbol) & is_digit).sum())   # the 10-digit rule
            digit_count += int(is_digit.sum())
            slots_right.append(is_digit.sum(-1).numpy())
        hits.append((pred == truth).all(-1).numpy())
        chars += int((pred == truth).sum())
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

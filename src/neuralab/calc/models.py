"""The two calculators. Both read a row of image slots (B, T, 1, 28, 28) and give running totals.

- `symbolic`: a small CNN (84k weights) reads every slot as one of 12 symbols; exact arithmetic
  (`arith`) turns the readings into sums. Trained on the exact log-likelihood of the sum. With
  `touch`, it carries a second small CNN (`calc.touching`) that tells one digit from digits that
  touch, for reading pictures; the sums never use it.
- `seed`: the 2017 architecture: a TimeDistributed CNN, an LSTM encoder, RepeatVector, two LSTM
  decoder layers and a softmax over the 12 characters of the answer string.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from neuralab.calc import arith, touching
from neuralab.calc.digits import (
    answer_digits,
    chars_to_totals,
    digits_to_chars,
    reported_totals,
)
from neuralab.calc.layout import SYMBOLS, Layout
from neuralab.core.reader import SymbolNet, random_shift

MODELS = ("symbolic", "seed")
# `fixed` sums in training are read this many images per reader call: one call over a 1000-digit sum's
# 2,000 images ran about 1.4x slower per image than calls of 250 (a larger working set), and batch norm
# then sees batches the size that the short sums' 256-image steps give it
READ_CHUNK = 256


class SymbolicCalc(nn.Module):
    """Per-slot symbol reading plus exact arithmetic over the layout's readings."""

    def __init__(self, layout: Layout, reader: str = "vgg", shift: int = 0, views: int = 1,
                 precision: str = "fp32", touch: bool = False):
        super().__init__()
        self.layout = layout
        self.reader = SymbolNet(reader, classes=len(SYMBOLS), views=views)
        self.touch = touching.judge_net() if touch else None      # one digit or several (pictures only)
        self.shift = shift     # training only: random shifts of up to this many pixels
        self.precision = precision   # training only: "bf16" runs the reader under bfloat16 autocast

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(B, T, 1, 28, 28) -> slot log-probs (B, T, 12); all slots of the batch in one CNN call.

        Each distinct image is read once: the '+' and blank slots repeat a handful of images, so
        this about halves the CNN's work in the `expression` format without changing any output.
        The `fixed` format has no such slots, and its slots are read as they come (finding the
        distinct ones would sort 2N rows of 784 pixels for nothing).
        """
        B, T = images.shape[:2]
        flat = images.flatten(0, 1)                                          # (B*T, 1, 28, 28)
        if self.layout.format == "fixed":
            distinct, where = flat, None
        else:
            distinct, where = torch.unique(flat.flatten(1), dim=0, return_inverse=True)
            distinct = distinct.view(-1, 1, 28, 28)                          # (U, 1, 28, 28), U <= B*T
        if self.training and self.shift:
            distinct = random_shift(distinct, self.shift)
        read = self.read(distinct)
        return (read if where is None else read[where]).view(B, T, -1)

    def read(self, images: torch.Tensor) -> torch.Tensor:
        """Single images (N, 1, 28, 28) -> symbol log-probs (N, 12). A layout without '+' or blank
        slots (`fixed`) gets its readings over the 10 digits alone. The arithmetic always gets fp32:
        bfloat16's 8-bit mantissa would blur the column sums of long numbers. In training, `fixed`
        slots are read READ_CHUNK at a time, each chunk its own batch for batch norm."""
        parts = images.split(READ_CHUNK) if self.training and self.layout.format == "fixed" else [images]
        with torch.autocast(images.device.type, dtype=torch.bfloat16,
                            enabled=self.training and self.precision == "bf16"):
            logits = torch.cat([self.reader(part) for part in parts])        # (N, 12)
        logits = logits.float()
        if self.layout.format == "fixed":
            logits = torch.cat([logits[:, :10], torch.full_like(logits[:, 10:], -1e4)], 1)
        return logits.log_softmax(-1)

    def loss(self, images: torch.Tensor, target: torch.Tensor, supervise: str = "final",
             layout: Layout | None = None) -> torch.Tensor:
        """Mean negative log-likelihood of the observed final total (or of every running total, or with
        `labels` of each slot's symbol).

        `target` is what `Examples.targets` gives. `layout` defaults to the model's; any other
        layout works too (the CNN reads single images).
        """
        layout = layout or self.layout
        logp = self(images)
        if supervise == "labels":      # the yardstick: each slot's symbol (B, T), no arithmetic
            return F.nll_loss(logp.flatten(0, 1), target.flatten())
        if supervise == "running":
            return -arith.loglik_each(logp, layout, target).mean()
        total = target if layout.format == "fixed" else target.sum(-1)
        return -arith.loglik(logp, layout, total).mean()

    @torch.no_grad()
    def predict(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Reported totals (B, totals) from the most probable valid reading, and the slot log-probs."""
        logp = self(images)
        return reported_totals(arith.decode(logp, self.layout), self.layout), logp


class SeedNet(nn.Module):
    """The 2017 model, layer for layer (Keras defaults: 'valid' convs, pool 2, LSTM tanh/sigmoid)."""

    def __init__(self, layout: Layout, hidden: int = 256):
        super().__init__()
        self.layout = layout
        self.out_len = layout.totals * layout.width   # each reported total as a padded string
        self.cnn = nn.Sequential(
            nn.Conv2d(1, 32, 5, stride=3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.2),   # (N, 32, 4, 4)
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.5),            # (N, 64, 1, 1)
            nn.Flatten(), nn.Linear(64, 256), nn.ReLU(),
        )
        self.encoder = nn.LSTM(256, hidden, batch_first=True)
        self.decoder = nn.LSTM(hidden, hidden, num_layers=2, batch_first=True)
        self.out = nn.Linear(hidden, len(SYMBOLS))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(B, T, 1, 28, 28) -> character logits (B, out_len, 12)."""
        B, T = images.shape[:2]
        feats = self.cnn(images.flatten(0, 1)).view(B, T, -1)        # (B, T, 256)
        _, (h, _) = self.encoder(feats)                               # h: (1, B, hidden)
        repeated = h[-1][:, None].expand(B, self.out_len, h.shape[-1]).contiguous()
        out, _ = self.decoder(repeated)                               # (B, out_len, hidden)
        return self.out(out)

    def loss(self, images: torch.Tensor, target: torch.Tensor, supervise: str = "final",
             layout: Layout | None = None) -> torch.Tensor:
        chars = digits_to_chars(answer_digits(target.cpu(), self.layout))          # (B, totals, width)
        logits = self(images)
        return nn.functional.cross_entropy(logits.flatten(0, 1), chars.flatten().to(logits.device))

    @torch.no_grad()
    def predict(self, images: torch.Tensor) -> tuple[torch.Tensor, None]:
        """Reported totals (B, totals) read from the argmax string; -1 where it is not a number."""
        chars = self(images).argmax(-1).view(images.shape[0], self.layout.totals, self.layout.width)
        return chars_to_totals(chars.cpu()), None


def build(name: str, layout: Layout, reader: str = "vgg", shift: int = 0, views: int = 1,
          precision: str = "fp32", touch: bool = False) -> nn.Module:
    if name == "symbolic":
        return SymbolicCalc(layout, reader, shift, views, precision, touch)
    if name == "seed":
        return SeedNet(layout)
    raise ValueError(f"unknown model {name!r}")

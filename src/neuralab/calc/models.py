"""The two calculators. Both read a row of image slots (B, T, 1, 28, 28) and give running totals.

- `symbolic`: a small LeNet-sized CNN reads every slot as one of 12 symbols; exact arithmetic
  (`arith`) turns the readings into sums. Trained on the exact log-likelihood of the sum.
- `seed`: the 2017 architecture: a TimeDistributed CNN, an LSTM encoder, RepeatVector, two LSTM
  decoder layers and a softmax over the 12 characters of the answer string.
"""

from __future__ import annotations

import torch
from torch import nn

from neuralab.calc import arith
from neuralab.calc.data import SYMBOLS, Layout

MODELS = ("symbolic", "seed")


class SymbolNet(nn.Module):
    """LeNet-sized symbol reader: (N, 1, 28, 28) -> logits (N, 12).

    16 and 32 channels: about 1M multiply-adds per image, a third of the 32/64 version, so a
    2-core CPU reads thousands of slots per second.
    """

    def __init__(self, classes: int = len(SYMBOLS)):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 5), nn.ReLU(), nn.MaxPool2d(2),          # (N, 16, 12, 12)
            nn.Conv2d(16, 32, 5), nn.ReLU(), nn.MaxPool2d(2),         # (N, 32, 4, 4)
            nn.Flatten(),
        )
        self.head = nn.Sequential(nn.Linear(32 * 4 * 4, 128), nn.ReLU(), nn.Dropout(0.25), nn.Linear(128, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class SymbolicCalc(nn.Module):
    """Per-slot symbol reading plus exact arithmetic over the layout's readings."""

    def __init__(self, layout: Layout):
        super().__init__()
        self.layout = layout
        self.reader = SymbolNet()

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(B, T, 1, 28, 28) -> slot log-probs (B, T, 12); all slots of the batch in one CNN call.

        Each distinct image is read once: the '+' and blank slots repeat a handful of images, so
        this about halves the CNN's work in the `expression` format without changing any output.
        """
        B, T = images.shape[:2]
        distinct, where = torch.unique(images.flatten(0, 1).flatten(1), dim=0, return_inverse=True)
        logits = self.reader(distinct.view(-1, 1, 28, 28))                  # (U, 12), U <= B*T
        return logits.log_softmax(-1)[where].view(B, T, -1)

    def loss(self, images: torch.Tensor, numbers: torch.Tensor, supervise: str = "final",
             layout: Layout | None = None) -> torch.Tensor:
        """Mean negative log-likelihood of the observed final total (or of every running total).

        `layout` defaults to the model's; any other layout works too (the CNN reads single images).
        """
        layout = layout or self.layout
        logp = self(images)
        if supervise == "running":
            return -arith.loglik_each(logp, layout, numbers).mean()
        return -arith.loglik(logp, layout, numbers.sum(-1)).mean()

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

    def loss(self, images: torch.Tensor, numbers: torch.Tensor, supervise: str = "final",
             layout: Layout | None = None) -> torch.Tensor:
        target = totals_to_chars(reported_totals(numbers, self.layout), self.layout.width)
        logits = self(images)
        return nn.functional.cross_entropy(logits.flatten(0, 1), target.flatten().to(logits.device))

    @torch.no_grad()
    def predict(self, images: torch.Tensor) -> tuple[torch.Tensor, None]:
        """Reported totals (B, totals) read from the argmax string; -1 where it is not a number."""
        chars = self(images).argmax(-1).view(images.shape[0], self.layout.totals, self.layout.width)
        return chars_to_totals(chars.cpu()), None


def build(name: str, layout: Layout) -> nn.Module:
    if name == "symbolic":
        return SymbolicCalc(layout)
    if name == "seed":
        return SeedNet(layout)
    raise ValueError(f"unknown model {name!r}")


def reported_totals(numbers: torch.Tensor, layout: Layout) -> torch.Tensor:
    """(B, K) operands -> (B, totals): every running total in `operands`, else the final sum."""
    running = numbers.cumsum(-1)
    return running if layout.format == "operands" else running[:, -1:]


def totals_to_chars(totals: torch.Tensor, width: int) -> torch.Tensor:
    """Totals (...) -> left-aligned character indices (..., width), blank-padded as in 2017."""
    digits = torch.full((*totals.shape, width), SYMBOLS.index(" "), dtype=torch.long)
    text = [str(int(t)).ljust(width)[:width] for t in totals.flatten().tolist()]
    flat = digits.view(-1, width)
    for row, s in enumerate(text):
        flat[row] = torch.tensor([SYMBOLS.index(c) for c in s])
    return digits


def chars_to_totals(chars: torch.Tensor) -> torch.Tensor:
    """Character indices (..., width) -> integers (...); -1 where the string is not digits then blanks."""
    out = []
    for row in chars.reshape(-1, chars.shape[-1]).tolist():
        s = "".join(SYMBOLS[c] for c in row).rstrip(" ")
        out.append(int(s) if s.isdigit() else -1)
    return torch.tensor(out, dtype=torch.long).view(chars.shape[:-1])

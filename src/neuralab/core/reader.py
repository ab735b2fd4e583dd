"""The digit reader shared by calc and caption: a small CNN from one 28x28 grayscale image to class
logits, read several ways at evaluation, and the pixel shifts used to train and to read it."""

from __future__ import annotations

import torch
from torch import nn


def _lenet(c1: int, c2: int) -> list[nn.Module]:
    return [nn.Conv2d(1, c1, 5), nn.ReLU(), nn.MaxPool2d(2),                 # (N, c1, 12, 12)
            nn.Conv2d(c1, c2, 5), nn.ReLU(), nn.MaxPool2d(2)]                # (N, c2, 4, 4)


def _vgg(c1: int, c2: int) -> list[nn.Module]:
    def block(cin: int, cout: int) -> list[nn.Module]:
        return [nn.Conv2d(cin, cout, 3), nn.BatchNorm2d(cout)]
    # ReLU after a 2x2 max pool is ReLU before it (ReLU keeps order), on a quarter of the values; the
    # two parameterless layers swap places, so every weight keeps its name and old checkpoints load
    return [*block(1, c1), nn.ReLU(), *block(c1, c1), nn.MaxPool2d(2), nn.ReLU(),       # (N, c1, 12, 12)
            *block(c1, c2), nn.ReLU(), *block(c2, c2), nn.MaxPool2d(2), nn.ReLU()]      # (N, c2, 4, 4)


# name -> (feature layers, channels of the final 4x4 map)
READERS = {
    # the first reader: 2 conv layers, 1.0M multiply-adds per image; reached p = 0.9905 in 600 s
    "lenet": lambda: (_lenet(16, 32), 32),
    # the default: 4 batch-normalised 3x3 convs, 2.5M multiply-adds; p = 0.9947 in the same 600 s
    "vgg": lambda: (_vgg(16, 32), 32),
    # vgg with twice the channels: 9.8M multiply-adds; at N=15 in 600 s it read held-out digits no better
    "vgg-wide": lambda: (_vgg(32, 64), 64),
}


VIEW_SHIFTS = ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1))   # (dy, dx): as is, then one pixel each way
# eval reads this many images per call (each in all its views): on 2 CPU cores a 1000-digit sum's
# 2,000 images in 5 views took 4x as long in one call as in calls of 128, whose working set stays in cache
EVAL_CHUNK = 128


class SymbolNet(nn.Module):
    """The reader: (N, 1, 28, 28) -> logits (N, classes).

    In eval mode with `views` > 1 it reads each image as is and shifted by one pixel (up to 4 ways)
    and returns the mean of the views' log-probabilities: a steadier reading of the same image.
    """

    def __init__(self, reader: str = "vgg", classes: int = 10, views: int = 1):
        super().__init__()
        if not 1 <= views <= len(VIEW_SHIFTS):
            raise ValueError(f"views must be 1..{len(VIEW_SHIFTS)}")
        layers, channels = READERS[reader]()
        self.views = views
        self.features = nn.Sequential(*layers, nn.Flatten())
        self.head = nn.Sequential(nn.Linear(channels * 4 * 4, 128), nn.ReLU(), nn.Dropout(0.25),
                                  nn.Linear(128, classes))
        self.to(memory_format=torch.channels_last)   # NHWC weights and inputs: ~1.8x faster on CPU

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training or torch.compiler.is_compiling():     # an exported graph reads its batch in one call
            return self.read(x)
        return torch.cat([self.read(part) for part in x.split(EVAL_CHUNK)])

    def read(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 1, 28, 28) -> logits (N, classes), or in eval with views > 1 the views' mean log-probs."""
        one_view = self.training or self.views == 1
        if not one_view:
            x = torch.cat([shift(x, dy, dx) for dy, dx in VIEW_SHIFTS[:self.views]])   # (V * N, 1, 28, 28)
        logits = self.head(self.features(x.contiguous(memory_format=torch.channels_last)))
        return logits if one_view else logits.log_softmax(-1).view(self.views, -1, logits.shape[-1]).mean(0)


class SlidingReader(nn.Module):
    """The reader with its dense layers as convolutions (a 4x4 and a 1x1), the same function on a 28x28
    digit and a sliding window on anything larger: for every 28x28 window of an (N, 1, H, W) image at a
    stride of 4, `hidden` gives the 128 hidden features and `digits` of those the logits."""

    def __init__(self, reader: str = "vgg", classes: int = 10, hidden: int = 128):
        super().__init__()
        layers, channels = READERS[reader]()
        self.features = nn.Sequential(*layers)                                 # (N, channels, H/4 - 3, W/4 - 3)
        # Dropout2d: on a 1x1 map the reader's dropout, on a larger one a whole window map at a time (cheap)
        self.dense = nn.Sequential(nn.Conv2d(channels, hidden, 4), nn.ReLU(), nn.Dropout2d(0.25))
        self.digits = nn.Conv2d(hidden, classes, 1)
        self.to(memory_format=torch.channels_last)

    def hidden(self, images: torch.Tensor) -> torch.Tensor:
        """Images (N, 1, H, W) -> the hidden features (N, 128, h, w) of every window, h = H/4 - 6."""
        return self.dense(self.features(images.contiguous(memory_format=torch.channels_last)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Digits (N, 1, 28, 28) -> logits (N, classes)."""
        return self.digits(self.hidden(x)).flatten(1)


def shift(images: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """Images (N, 1, H, W) moved down dy and right dx pixels (|dy|, |dx| <= 1), zero-filled."""
    if dy == 0 and dx == 0:
        return images
    h, w = images.shape[-2:]
    padded = nn.functional.pad(images, (1, 1, 1, 1))
    return padded[..., 1 - dy:1 - dy + h, 1 - dx:1 - dx + w]


def random_shift(images: torch.Tensor, pixels: int) -> torch.Tensor:
    """Shift each image (N, 1, 28, 28) by its own random offset of up to `pixels`, zero-filled."""
    n, _, h, w = images.shape
    padded = nn.functional.pad(images, (pixels,) * 4)
    dy, dx = torch.randint(0, 2 * pixels + 1, (2, n, 1, 1), device=images.device)
    rows = torch.arange(h, device=images.device)[None, :, None] + dy          # (N, h, 1)
    cols = torch.arange(w, device=images.device)[None, None, :] + dx          # (N, 1, w)
    return padded[torch.arange(n, device=images.device)[:, None, None], 0, rows, cols][:, None]

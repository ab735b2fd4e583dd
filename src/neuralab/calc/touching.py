"""One digit, or digits that touch: a small judge that tells them apart.

A fast writer runs one digit into the next, and the reader, which learnt single digits, reads a
joined "16" as a 6 as surely as a real 6: the chain `calc.joined` picks for a wide shape then keeps
it whole. This judge adds what the reader cannot say: whether a framed shape holds one digit.

It is a small `core.reader` CNN (vgg, two classes) trained on shapes made from MNIST-train images
alone, without their labels: one digit (half of them), or two or three run into each other, their ink
meeting, as a fast hand writes them. Each shape is drawn at a random size, blurred or thickened, and
framed by `segment.frame` as a shape cut from a picture is, so the judge cannot tell the two kinds
apart by how they were resampled. The generator's own count of digits is the only label.
"""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage
from skimage.transform import rescale
from torch import nn

from neuralab.calc.segment import frame
from neuralab.core.reader import SymbolNet
from neuralab.core.train import Cosine, Loop, evaluate, train_one_epoch

SEVERAL = 0.5      # half the shapes are digits that touch: the judge starts with no side taken
THREE = 0.2        # ... and a fifth of those are three digits run together (a fast hand's "111")
SIZE = (1.0, 3.0)  # drawn at 1-3x MNIST's size before framing: pictures' shapes are scaled down to 20 px
SCALE = 0.15       # a digit run into another is up to 15% larger or smaller than the first
OVERLAP = 2        # digits that touch run up to 2 pixels into each other beyond the first meeting
EPOCHS = 4         # passes over 20,000 shapes: 99.0% of held-out shapes judged right (lenet: 97.8%; local runs)
BATCH = 128
LR = 3e-3          # Adam, annealed to 0 by a cosine over the 4 epochs
VAL = 0.1          # a tenth more shapes, from other images, measure the judge: never trained on


def judge_net() -> SymbolNet:
    """The judge: (N, 1, 28, 28) -> logits (N, 2), class 1 for several digits."""
    return SymbolNet("vgg", classes=2, views=1)


def shapes(images: np.ndarray, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """MNIST digits (M, 28, 28) uint8 -> `count` framed shapes (count, 28, 28) uint8 and whether each
    holds several digits that touch (count,) int64."""
    x, several = np.zeros((count, 28, 28), np.uint8), np.zeros(count, np.int64)
    for i in range(count):
        size = rng.uniform(*SIZE)
        shape = _drawn(images[rng.integers(len(images))], size)
        if rng.random() < SEVERAL:
            several[i] = 1
            for _ in range(2 if rng.random() < THREE else 1):
                other = _drawn(images[rng.integers(len(images))], size * rng.uniform(1 - SCALE, 1 + SCALE))
                shape = _joined(shape, other, rng)
        x[i] = frame(_styled(shape, rng))
    return x, several


def _drawn(image: np.ndarray, size: float) -> np.ndarray:
    """An MNIST digit (28, 28) -> its ink (h, w) coverage in [0, 1], cropped, `size` times as large."""
    rows, cols = np.nonzero(image > 20)
    ink = image[rows.min():rows.max() + 1, cols.min():cols.max() + 1] / 255.0
    return np.clip(rescale(ink, size, order=1), 0.0, 1.0)


def _joined(left: np.ndarray, right: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """`right` written after `left`, their feet level within a pixel, moved left until their inks meet
    and then up to `OVERLAP` pixels further -> the shape (h, w) they make."""
    h = max(left.shape[0], right.shape[0]) + 2
    a, b = np.zeros((h, left.shape[1])), np.zeros((h, right.shape[1]))
    a[h - 1 - left.shape[0] - rng.integers(0, 2):][:left.shape[0]] = left
    b[h - 1 - right.shape[0] - rng.integers(0, 2):][:right.shape[0]] = right
    both = (a > 0.5).any(1) & (b > 0.5).any(1)                           # rows where both have ink
    last = np.where((a > 0.5)[both], np.arange(a.shape[1]), -1).max(1)   # (rows,) left's rightmost ink
    first = np.where((b > 0.5)[both], np.arange(b.shape[1]), b.shape[1]).min(1)   # right's leftmost ink
    x = int((last - first).max()) if both.any() else a.shape[1]
    x = min(max(0, x - int(rng.integers(0, OVERLAP + 1))), a.shape[1])
    out = np.zeros((h, max(a.shape[1], x + b.shape[1])))
    out[:, :a.shape[1]] = a
    out[:, x:x + b.shape[1]] = np.maximum(out[:, x:x + b.shape[1]], b)
    return out


def _styled(shape: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Half the shapes blurred (a photo's focus); half of them thicker, or their ink's contrast changed."""
    if rng.random() < 0.5:
        shape = ndimage.gaussian_filter(shape, rng.uniform(0.3, 1.5))
        shape = shape / max(shape.max(), 1e-6)
    if rng.random() < 0.5:
        shape = ndimage.grey_dilation(shape, size=(3, 3)) if rng.random() < 0.5 else shape ** rng.uniform(0.5, 2.0)
    return shape


def train(net: SymbolNet, images: np.ndarray, count: int, seed: int) -> dict:
    """Train the judge on `count` shapes made from `images` (M, 28, 28) uint8, MNIST-train's, by the one
    training loop, its rate annealed to 0; score it on `VAL` * count more shapes made from the last
    tenth of the images, which it was not trained on. -> its figures."""
    started = time.perf_counter()
    rng = np.random.default_rng([seed, 2])
    kept = len(images) - len(images) // 10
    x, y = (torch.from_numpy(a) for a in shapes(images[:kept], count, rng))
    val = [tuple(torch.from_numpy(a) for a in shapes(images[kept:], max(1, int(VAL * count)), rng))]
    device = next(net.parameters()).device

    def step(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, dict]:
        shapes_, several_ = (t.to(device) for t in batch)                  # (B, 28, 28) uint8, (B,)
        logits = model(shapes_[:, None].float() / 255)                     # (B, 2)
        return F.cross_entropy(logits, several_), {"count": len(several_),
                                                   "correct": (logits.argmax(1) == several_).sum()}

    order = torch.Generator().manual_seed(seed)
    loop = Loop(epochs=EPOCHS, batches=lambda epoch: [], step=step, evaluate=lambda model: {},
                schedule=Cosine(LR, EPOCHS * -(-count // BATCH)))
    optimizer = torch.optim.Adam(net.parameters(), lr=LR)
    steps = 0
    for epoch in range(1, EPOCHS + 1):
        batches = [(x[idx], y[idx]) for idx in torch.randperm(count, generator=order).split(BATCH)]
        steps += train_one_epoch(net, batches, optimizer, loop, f"one digit or several {epoch}/{EPOCHS}", steps)[1]
    net.requires_grad_(False)
    return {"touch_val_accuracy": evaluate(net, val, step)["accuracy"], "touch_shapes": count,
            "touch_seconds": time.perf_counter() - started}


@torch.no_grad()
def several(net: SymbolNet, images: np.ndarray) -> np.ndarray:
    """Framed shapes (N, 28, 28) uint8 -> (N,) the judge's probability that each holds several digits."""
    net.eval()
    device = next(net.parameters()).device
    x = torch.from_numpy(np.ascontiguousarray(images)).to(device)[:, None].float() / 255
    return net(x).softmax(-1)[:, 1].cpu().numpy() if len(images) else np.zeros(0)

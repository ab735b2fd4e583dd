"""Sums of handwritten numbers, generated on the fly and fixed by a seed.

An example is a row of T image slots. We store, per slot, an index into a `Bank` (the MNIST images
of one split followed by a few special images for '+' and blank) and the true symbol, plus the
operands as integers. Images are looked up only when a batch is rendered, so a 500k-example epoch
costs a few megabytes instead of gigabytes.

Formats (N = `digits`, K = `operands`):
- `expression`: the 2017 layout, K*N + K-1 slots: the digits of each operand with '+' between them,
  then blanks. Operand lengths are uniform on 1..N and a number of two or more digits starts with
  1-9. (The 2017 generator drew the length uniformly, but then passed the digit string through
  int(), which drops leading zeros, so its lengths were not quite uniform.)
- `operands`: K groups of N slots; each number is written left-aligned in its group, then blanks.
- `fixed`: the MNIST-addition protocol: two numbers of exactly N digits (leading zeros allowed),
  the split's images permuted and cut so that each image is used once: floor(n / 2N) sums.
Training examples use only MNIST-train images and evaluation examples only MNIST-test images:
the `Bank` of a split holds that split's images and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch

from neuralab.calc.digits import add_digits
from neuralab.calc.layout import BLANK, MAX_DIGITS, PLUS, Layout
from neuralab.core.augment import Augment, augment
from neuralab.core.data import images_to_float
from neuralab.core.errors import UserError
from neuralab.core.mnist import MNIST

GLYPH_VARIANTS = 64          # jittered '+' and square drawings per split
NOISE_SEED = 2017            # the fixed noise images are the same for every run and split


def special_images(specials: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    """(plus images, blank images), each (V, 28, 28) uint8.

    `noise`: one fixed uniform-noise image each, shared by both splits, as in 2017.
    `glyph`: a drawn '+' and an empty square, jittered in size, place and stroke; the two splits
    draw different variants.
    """
    if specials == "noise":
        rng = np.random.default_rng(NOISE_SEED)
        return rng.integers(0, 256, (1, 28, 28), dtype=np.uint8), rng.integers(0, 256, (1, 28, 28), dtype=np.uint8)
    rng = np.random.default_rng({"train": 11, "test": 12}[split])
    plus = np.zeros((GLYPH_VARIANTS, 28, 28), np.uint8)
    square = np.zeros((GLYPH_VARIANTS, 28, 28), np.uint8)
    for v in range(GLYPH_VARIANTS):
        half, stroke = rng.integers(6, 10), rng.integers(1, 4)
        cy, cx = 14 + rng.integers(-2, 3), 14 + rng.integers(-2, 3)
        value = rng.integers(180, 256)
        plus[v, cy - half:cy + half, cx - stroke // 2 - 1:cx + stroke - stroke // 2] = value
        plus[v, cy - stroke // 2 - 1:cy + stroke - stroke // 2, cx - half:cx + half] = value
        box = square[v, cy - half:cy + half, cx - half:cx + half]
        box[:stroke, :] = box[-stroke:, :] = box[:, :stroke] = box[:, -stroke:] = value
    return plus, square


class Bank:
    """The images of one MNIST split followed by its special images; examples index into it."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, split: str, specials: str):
        plus, blank = special_images(specials, split)
        self.split, self.n_digits = split, len(images)
        self.images = np.concatenate([images, plus, blank])          # (M, 28, 28) uint8
        self.labels = labels
        self.plus_index = self.n_digits + np.arange(len(plus))
        self.blank_index = self.n_digits + len(plus) + np.arange(len(blank))

    @classmethod
    def from_mnist(cls, data: MNIST, split: str, specials: str, rows: slice = slice(None)) -> "Bank":
        """The split's images `rows` (default all), e.g. MNIST-train without its held-out tail."""
        if split == "train":
            return cls(data.x_train[rows], data.y_train[rows], "train", specials)
        return cls(data.x_test[rows], data.y_test[rows], "test", specials)

    @classmethod
    def train_and_val(cls, data: MNIST, specials: str, holdout: int) -> tuple["Bank", "Bank"]:
        """(training bank, validation bank): with `holdout` > 0 the last `holdout` MNIST-train images
        make the validation bank and the training bank lacks them; with 0 both are all of MNIST-train."""
        if holdout == 0:
            bank = cls.from_mnist(data, "train", specials)
            return bank, bank
        kept = len(data.x_train) - holdout
        if kept < holdout:
            raise UserError(f"--holdout: {holdout} of the {len(data.x_train)} MNIST-train images would leave "
                            "fewer for training than for validation")
        return (cls.from_mnist(data, "train", specials, slice(0, kept)),
                cls.from_mnist(data, "train", specials, slice(kept, None)))

    @cached_property
    def _by_class(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        order = np.argsort(self.labels, kind="stable")
        counts = np.bincount(self.labels, minlength=10)
        if (counts == 0).any():
            raise UserError(f"MNIST-{self.split} has no image of digit {int(np.argmin(counts))}")
        return order, np.concatenate([[0], np.cumsum(counts)[:-1]]), counts

    def draw(self, symbols: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """An image index for every symbol: a random image of that digit, or a special image."""
        order, starts, counts = self._by_class
        digit = np.clip(symbols, 0, 9)
        pick = order[starts[digit] + (rng.random(symbols.shape) * counts[digit]).astype(np.int64)]
        plus = rng.choice(self.plus_index, symbols.shape)
        blank = rng.choice(self.blank_index, symbols.shape)
        return np.where(symbols == PLUS, plus, np.where(symbols == BLANK, blank, pick))

    def render(self, index: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Image indices (...) -> float images (..., 1, 28, 28) in [0, 1]."""
        return images_to_float(self.images[np.asarray(index)])


@dataclass
class Examples:
    """n examples: image indices and true symbols per slot, and the operands."""

    image: np.ndarray            # (n, T) int64 index into the Bank
    symbol: np.ndarray           # (n, T) int64 true symbol, for perception accuracy only
    numbers: np.ndarray | None   # (n, K) int64 operands; None for `fixed` sums past MAX_DIGITS

    def __len__(self) -> int:
        return len(self.image)

    @property
    def running(self) -> np.ndarray:
        """(n, K) running totals."""
        return np.cumsum(self.numbers, axis=1)

    def subset(self, rows) -> "Examples":
        return Examples(self.image[rows], self.symbol[rows], None if self.numbers is None else self.numbers[rows])

    def targets(self, layout: Layout, rows) -> torch.Tensor:
        """What a model learns from: the operands (B, K), or in `fixed` the little-endian digits of
        the sum (B, N + 1), which any N allows (computed by column addition of the true digits)."""
        if layout.format != "fixed":
            return torch.from_numpy(self.numbers[rows])
        operands = torch.from_numpy(self.symbol[rows]).view(len(rows), 2, layout.digits)
        return add_digits(operands.flip(-1))                              # (B, N + 1)


class Labelled(Examples):
    """Examples whose target is every slot's symbol (B, T), not the sum: the yardstick reader is told
    every digit (`--supervise labels`), where a calculator learns from sums alone."""

    def targets(self, layout: Layout, rows) -> torch.Tensor:
        return torch.from_numpy(self.symbol[rows])


def _value(digits: np.ndarray, lengths: np.ndarray) -> np.ndarray | None:
    """Big-endian digits (n, K, N) of which the first `lengths` (n, K) count -> numbers (n, K);
    None past int64 (only `fixed` sums get there, and they are learned from digit columns)."""
    N = digits.shape[-1]
    if N > MAX_DIGITS:
        return None
    power = lengths[..., None] - 1 - np.arange(N)                   # (n, K, N)
    return np.where(power >= 0, digits * 10 ** np.maximum(power, 0), 0).sum(-1)


def _symbols(layout: Layout, digits: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Lay the numbers out in slots: (n, T) symbols."""
    n, K, N = digits.shape
    out = np.full((n, layout.slots), BLANK, np.int64)
    rows = np.arange(n)
    start = np.zeros(n, np.int64)
    for k in range(K):
        if layout.format != "expression":
            start = np.full(n, k * N)
        for j in range(N):
            used = j < lengths[:, k]
            out[rows[used], (start + j)[used]] = digits[used, k, j]
        if layout.format == "expression":
            start = start + lengths[:, k]
            if k < K - 1:
                out[rows, start] = PLUS
                start = start + 1
    return out


def random_examples(layout: Layout, bank: Bank, count: int, seed: int) -> Examples:
    """`count` examples with uniform operand lengths (exactly N digits in `fixed`), by seed."""
    rng = np.random.default_rng([seed, 7])
    n, K, N = count, layout.operands, layout.digits
    digits = rng.integers(0, 10, (n, K, N))
    if layout.format == "fixed":
        lengths = np.full((n, K), N)
    else:
        lengths = rng.integers(1, N + 1, (n, K))
        digits[..., 0] = np.where(lengths > 1, rng.integers(1, 10, (n, K)), digits[..., 0])
    symbol = _symbols(layout, digits, lengths)
    return Examples(bank.draw(symbol, rng), symbol, _value(digits, lengths))


def protocol_examples(layout: Layout, bank: Bank, seed: int) -> Examples:
    """The `fixed` protocol: permute the split, cut it into floor(n / 2N) sums of N-digit numbers."""
    rng = np.random.default_rng([seed, 8])
    per_sum = 2 * layout.digits
    n = bank.n_digits // per_sum
    if n == 0:
        raise UserError(f"MNIST-{bank.split} has too few images for {layout.digits}-digit sums")
    image = rng.permutation(bank.n_digits)[: n * per_sum].reshape(n, per_sum)
    symbol = bank.labels[image].astype(np.int64)
    numbers = _value(symbol.reshape(n, 2, layout.digits), np.full((n, 2), layout.digits))
    return Examples(image, symbol, numbers)


def make_examples(layout: Layout, bank: Bank, count: int | None, seed: int) -> Examples:
    """Examples for one epoch or one evaluation.

    `fixed` with count=None follows the protocol (each image once); any other count resamples.
    """
    if layout.format == "fixed" and count is None:
        return protocol_examples(layout, bank, seed)
    layout.check_set(count, "--count")
    return random_examples(layout, bank, count, seed)


def batches(bank: Bank, examples: Examples, layout: Layout, batch_size: int, order: np.ndarray | None = None):
    """Yield (images (B, T, 1, 28, 28), targets (see `Examples.targets`), rows) in order (default: as stored)."""
    order = np.arange(len(examples)) if order is None else order
    for start in range(0, len(order), batch_size):
        rows = order[start:start + batch_size]
        yield bank.render(examples.image[rows]), examples.targets(layout, rows), rows


class Batches:
    """The batches (images, targets, layout) of one epoch, rendered lazily (sized, for progress bars).

    With `distort`, every digit image (not the '+' and blank images) is distorted by `augment`.
    """

    def __init__(self, bank: Bank, examples: Examples, batch_size: int, order: np.ndarray, layout: Layout,
                 distort: Augment | None = None, generator: torch.Generator | None = None):
        self.bank, self.examples, self.batch_size, self.order = bank, examples, batch_size, order
        self.layout, self.distort, self.generator = layout, distort, generator

    def __len__(self) -> int:
        return -(-len(self.order) // self.batch_size)

    def __iter__(self):
        for images, targets, rows in batches(self.bank, self.examples, self.layout, self.batch_size, self.order):
            if self.distort is not None:
                digit = torch.from_numpy(self.examples.image[rows] < self.bank.n_digits)   # (B, T)
                images[digit] = augment(images[digit], self.distort, self.generator)
            yield images, targets, self.layout

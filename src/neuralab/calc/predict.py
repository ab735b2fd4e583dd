"""Read handwritten numbers with a trained calculator and give their running sum.

The symbolic model knows where the digits are (each number is its own group of images), so its
rule is the simplest one: every image is read as its most probable digit, the numbers are formed
and added with exact integer arithmetic. It reads numbers of any length and any count.
The seed model only reads the slot layout it was trained on: its numbers are laid out with its
'+' and blank images, and its answer string is parsed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from neuralab.calc.data import Layout, special_images
from neuralab.calc.models import SeedNet, SymbolicCalc
from neuralab.core.errors import UserError
from neuralab.core.mnist import MNIST

COMPOSE = re.compile(r"^\d+(\+\d+)*$")


@dataclass
class Answer:
    numbers: list[int] | None   # the numbers as read (None for the seed model, which reads no digits)
    running: list[int]          # running totals (the seed model gives only what it was trained to report)
    sum: int
    readings: list[str]         # per number, the digits as read ("?" for the seed model)


def compose(expression: str, seed: int, data: MNIST) -> list[np.ndarray]:
    """'294+61' -> one (D, 28, 28) uint8 array per number, digits drawn from MNIST-test by seed."""
    text = expression.replace(" ", "")
    if not COMPOSE.match(text):
        raise UserError(f"--compose: {expression!r} is not numbers joined by '+', e.g. \"294+61\"")
    rng = np.random.default_rng(seed)
    groups = []
    for number in text.split("+"):
        picks = [rng.choice(np.flatnonzero(data.y_test == int(d))) for d in number]
        groups.append(data.x_test[picks])
    return groups


def _as_tensor(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images).float().div(255.0).unsqueeze(-3)   # (..., 1, 28, 28)


@torch.no_grad()
def read_symbolic(model: SymbolicCalc, groups: list[np.ndarray], device: torch.device) -> Answer:
    model.eval()
    x = _as_tensor(np.concatenate(groups)).to(device)                 # (D, 1, 28, 28)
    digits = model.reader(x)[:, :10].argmax(-1).tolist()              # most probable digit per image
    readings, start = [], 0
    for g in groups:
        readings.append("".join(map(str, digits[start:start + len(g)])))
        start += len(g)
    numbers = [int(r) for r in readings]
    running = np.cumsum(numbers, dtype=object).tolist()
    return Answer(numbers, running, running[-1], readings)


def seed_slots(layout: Layout, groups: list[np.ndarray]) -> np.ndarray:
    """Lay numbers out as the seed model was trained: (T, 28, 28) uint8."""
    N, K = layout.digits, layout.operands
    if len(groups) != K:
        raise UserError(f"the seed model adds exactly {K} numbers, got {len(groups)}")
    too_long = [len(g) for g in groups if len(g) > N or (layout.format == "fixed" and len(g) != N)]
    if too_long:
        raise UserError(f"a number has {too_long[0]} digits; this model supports "
                        f"{'exactly' if layout.format == 'fixed' else 'at most'} {N}")
    plus, blank = (imgs[0] for imgs in special_images(layout.specials, "test"))
    slots = []
    for k, g in enumerate(groups):
        slots.extend(g)
        if layout.format == "operands":
            slots.extend([blank] * (N - len(g)))
        elif layout.format == "expression" and k < K - 1:
            slots.append(plus)
    slots.extend([blank] * (layout.slots - len(slots)))
    return np.stack(slots)


@torch.no_grad()
def read_seed(model: SeedNet, groups: list[np.ndarray], device: torch.device) -> Answer:
    model.eval()
    x = _as_tensor(seed_slots(model.layout, groups))[None].to(device)  # (1, T, 1, 28, 28)
    totals = model.predict(x)[0][0].tolist()
    return Answer(None, totals, totals[-1], ["?" * len(g) for g in groups])


def read(model: nn.Module, groups: list[np.ndarray], device: torch.device) -> Answer:
    if any(len(g) == 0 for g in groups):
        raise UserError("empty group: every number needs at least one digit image")
    if isinstance(model, SymbolicCalc):
        return read_symbolic(model, groups, device)
    return read_seed(model, groups, device)


def show(groups: list[np.ndarray], answer: Answer, path) -> None:
    """Draw the digit images with the model's reading above each, then '= sum'."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells = []
    for k, (g, reading) in enumerate(zip(groups, answer.readings)):
        if k:
            cells.append(("+", None))
        cells.extend(zip(reading, g))
    cells.append((f"= {answer.sum}", None))
    fig, axes = plt.subplots(1, len(cells), figsize=(0.9 * len(cells) + 1, 1.6))
    for ax, (title, image) in zip(np.atleast_1d(axes), cells):
        ax.axis("off")
        if image is None:
            ax.text(0.5, 0.5, title, ha="center", va="center", fontsize=16)
        else:
            ax.imshow(image, cmap="gray")
            ax.set_title(title)
    fig.savefig(path, bbox_inches="tight", dpi=100)
    plt.close(fig)

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

from neuralab.calc.data import special_images
from neuralab.calc.layout import Layout
from neuralab.calc.models import SeedNet, SymbolicCalc
from neuralab.core.data import images_to_float
from neuralab.core.errors import UserError
from neuralab.core.io import save_figure
from neuralab.core.mnist import MNIST
from neuralab.calc.reading import read_digits

COMPOSE = re.compile(r"^[0-9]+(\+[0-9]+)*$")   # ASCII digits only: str.isdigit() takes "١" too
MAX_NUMBER_DIGITS = 1000   # digits in one number: Python prints integers of up to 4,300 digits
MAX_NUMBERS = 1000         # numbers added in one reading
DOUBT = 0.9                # a digit read with a probability under 0.9 is doubtful: worth a second look
UNTRUSTED = 0.25           # a picture with over a quarter of its marks doubtful (3 or more) gets no sum


@dataclass
class Answer:
    numbers: list[int] | None   # the numbers as read (None for the seed model, which reads no digits)
    running: list[int]          # running totals (the seed model gives only what it was trained to report)
    sum: int
    readings: list[str]         # per number, the digits as read ("?" for the seed model)
    probabilities: list[list[float]] | None = None   # per number, per digit: the probability of its reading

    def doubtful(self, doubt: float = DOUBT) -> list[list[bool]]:
        """Per number, per digit: was it read with a probability under `doubt`? (None: not known.)"""
        return [[p < doubt for p in ps] for ps in self.probabilities] if self.probabilities else []

    def doubts(self, doubt: float = DOUBT) -> int:
        """How many digits were read with a probability under `doubt`."""
        return sum(flag for row in self.doubtful(doubt) for flag in row)

    def marked(self, doubt: float = DOUBT) -> list[str]:
        """The readings with a '?' after each doubtful digit, e.g. "29?4"."""
        if not self.probabilities:
            return self.readings
        return ["".join(d + "?" * flag for d, flag in zip(r, flags))
                for r, flags in zip(self.readings, self.doubtful(doubt))]

    def check_trusted(self, where: str, doubt: float = DOUBT) -> None:
        """Refuse to give a sum when every mark (of two or more), or over a quarter of them and at least
        3, were read as digits the reader does not trust: a picture of something else (a face, text, a
        texture) yields marks, but no sum of them. A lone doubtful digit, or a doubtful digit or two in
        a sum, is marked, not refused."""
        marks, doubts = sum(len(row) for row in self.doubtful(doubt)), self.doubts(doubt)
        if (marks >= 2 and doubts == marks) or (doubts >= 3 and doubts > UNTRUSTED * marks):
            raise UserError(f"{where}: no sum: {doubts} of the {marks} marks found are not digits the "
                            f"reader trusts (probability under {doubt}); is it a picture of numbers?")


def compose(expression: str, seed: int, data: MNIST) -> list[np.ndarray]:
    """'294+61' -> one (D, 28, 28) uint8 array per number, digits drawn from MNIST-test by seed."""
    text = expression.replace(" ", "")
    if not COMPOSE.match(text):
        raise UserError(f"--compose: {expression[:40]!r} is not numbers joined by '+', e.g. \"294+61\"")
    check_sizes([len(number) for number in text.split("+")], "--compose")
    rng = np.random.default_rng(seed)
    groups = []
    for number in text.split("+"):
        picks = [rng.choice(np.flatnonzero(data.y_test == int(d))) for d in number]
        groups.append(data.x_test[picks])
    return groups


def read_symbolic(model: SymbolicCalc, groups: list[np.ndarray], device: torch.device,
                  ceilings: list[list[float] | None] | None = None) -> Answer:
    digits, probabilities = read_digits(model, np.concatenate(groups), device)
    ceilings = ceilings or [None] * len(groups)
    readings, per_number, start = [], [], 0
    for g, ceiling in zip(groups, ceilings):
        readings.append("".join(map(str, digits[start:start + len(g)])))
        trusted = zip(probabilities[start:start + len(g)], ceiling or [1.0] * len(g))
        per_number.append([round(min(p, most), 4) for p, most in trusted])
        start += len(g)
    numbers = [int(r) for r in readings]
    running = np.cumsum(numbers, dtype=object).tolist()
    return Answer(numbers, running, running[-1], readings, per_number)


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
    x = images_to_float(seed_slots(model.layout, groups))[None].to(device)  # (1, T, 1, 28, 28)
    totals = model.predict(x)[0][0].tolist()
    return Answer(None, totals, totals[-1], ["?" * len(g) for g in groups])


def check_sizes(lengths: list[int], where: str) -> None:
    """Refuse, in one line, more numbers or longer numbers than a reading handles."""
    if len(lengths) > MAX_NUMBERS:
        raise UserError(f"{where}: {len(lengths)} numbers, at most {MAX_NUMBERS}")
    if lengths and max(lengths) > MAX_NUMBER_DIGITS:
        raise UserError(f"{where}: a number of {max(lengths)} digits, at most {MAX_NUMBER_DIGITS}")


def read_groups(model: nn.Module, groups: list, device: torch.device | str = "cpu") -> Answer:
    """`read_numbers` for the numbers found in pictures (`calc.inputs.Group`), each digit trusted no
    more than its finding allows."""
    return read_numbers(model, [g.images for g in groups], device, [g.ceilings for g in groups])


def read_numbers(model: nn.Module, groups: list[np.ndarray], device: torch.device | str = "cpu",
                 ceilings: list[list[float] | None] | None = None) -> Answer:
    """The one way to read numbers with a calculator: each number a (D, 28, 28) uint8 digit stack.
    `ceilings`: per number (None: no limit), per digit, the most its reading is trusted (`calc.inputs.Group`:
    a digit cut from a shape of touching digits is no surer than the shape read whole)."""
    check_sizes([len(g) for g in groups], "numbers")
    if any(len(g) == 0 for g in groups):
        raise UserError("empty group: every number needs at least one digit image")
    if isinstance(model, SymbolicCalc):
        return read_symbolic(model, groups, device, ceilings)
    return read_seed(model, groups, device)


def show(groups: list[np.ndarray], answer: Answer, path, pictures: list[Picture] = ()) -> None:
    """Draw each picture with a box and the reading over every digit found, then the digit images as
    the model saw them with their readings, then '= sum'."""
    from matplotlib.figure import Figure        # here, not above: it costs a second of every start-up that draws nothing
    from matplotlib.patches import Rectangle

    cells = []
    for k, (g, reading) in enumerate(zip(groups, answer.readings)):
        if k:
            cells.append(("+", None))
        cells.extend(zip(reading, g))
    cells.append((f"= {answer.sum}", None))
    rows = len(pictures) + 1
    fig = Figure(figsize=(max(0.9 * len(cells) + 1, 6), 1.6 + 4 * len(pictures)))
    grid = fig.add_gridspec(rows, len(cells), height_ratios=[4] * len(pictures) + [1])
    for r, picture in enumerate(pictures):
        ax = fig.add_subplot(grid[r, :])
        width, height = picture.size or picture.gray.shape[::-1]
        ax.imshow(picture.gray, cmap="gray", vmin=0, vmax=1, extent=(0, width, height, 0))   # boxes are in these pixels
        ax.set_title(picture.source, fontsize=9)
        ax.axis("off")
        for (x0, y0, x1, y1), text in picture.labels:
            ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor="tab:red", linewidth=1.2))
            ax.text(x0, y0, text, color="tab:red", fontsize=8, va="bottom")
    for c, (title, image) in enumerate(cells):
        ax = fig.add_subplot(grid[rows - 1, c])
        ax.axis("off")
        if image is None:
            ax.text(0.5, 0.5, title, ha="center", va="center", fontsize=16)
        else:
            ax.imshow(image, cmap="gray")
            ax.set_title(title)
    save_figure(fig, path, dpi=100, bbox_inches="tight")


@dataclass
class Picture:
    """A picture as read, for `show`: its grey pixels and a (box, text) per digit found."""
    source: str
    gray: np.ndarray
    labels: list[tuple[tuple[int, int, int, int], str]]
    size: tuple[int, int] | None = None   # the picture's own (width, height), if `gray` is reduced

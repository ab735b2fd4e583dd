"""Realistic pictures of handwritten numbers, made from MNIST digits, with the truth of every digit.

They stand in for the pictures people have, so that reading them can be measured
(`bench/calc_real.py`) and tested: every page knows its numbers and each digit's box.

- `write_page`: dark pen ink on white paper, at a given digit height, one number per line (a column
  sum, optionally with a '+' before the last number and a rule under it) or all on one line
  joined by '+' signs.
- `photograph`: the page as a phone sees it: grey paper, uneven light, a slight rotation, blur,
  sensor noise and JPEG.
- `scan`: the page as a flatbed scanner gives it: near-white paper, a small skew, light blur and noise.
- `pen_strokes`: a digit's centre lines as pen strokes, to be replayed with a mouse on the web page.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage
from skimage.morphology import skeletonize
from skimage.transform import ProjectiveTransform, rescale, rotate, warp

from neuralab.calc.printed import lean

PEN = 0.1          # ink reflects ~10% of the light: a ballpoint or felt pen
PAPER = 0.97       # printer paper under even light
KEPT = 0.78        # a digit redrawn along its centre lines in its own pen matches 78% of its shape (IoU): ~6% do not
LOOP = 0.08        # a loop (a hole in the ink over half coverage) at least 0.08 heights across is one a reader sees


@dataclass
class Page:
    image: np.ndarray                                 # (H, W) float grey or (H, W, 3) float RGB in [0, 1], or (H, W, 3) uint8
    numbers: list[int]                                # the numbers written, top to bottom / left to right
    boxes: list[list[tuple[int, int, int, int]]]      # per number, per digit: (x0, y0, x1, y1)


def _pen(image: np.ndarray, height: int) -> np.ndarray:
    """A 28x28 MNIST digit -> its ink cropped and scaled to `height` pixels (coverage in [0, 1])."""
    rows, cols = np.nonzero(image > 20)
    crop = image[rows.min():rows.max() + 1, cols.min():cols.max() + 1] / 255.0
    return np.clip(rescale(crop, height / crop.shape[0], order=1, anti_aliasing=False), 0.0, 1.0)


def _length(lines: np.ndarray) -> float:
    """The length in pixels of thin lines (h, w): a step to a side 1, a diagonal step √2."""
    axial = (lines[1:] & lines[:-1]).sum() + (lines[:, 1:] & lines[:, :-1]).sum()
    diagonal = (lines[1:, 1:] & lines[:-1, :-1]).sum() + (lines[1:, :-1] & lines[:-1, 1:]).sum()
    return float(axial + np.sqrt(2) * diagonal)


def _loops(ink: np.ndarray, height: int) -> int:
    """How many loops the ink mask (h, w) closes: holes at least `LOOP` heights across (by area)."""
    background, count = ndimage.label(~np.pad(ink, 1))
    areas = np.bincount(background.ravel(), minlength=count + 1)[2:]   # label 1: the outside, from the padding
    return int((areas >= (LOOP * height) ** 2).sum())


def _smaller(hand: Hand, rng: np.random.Generator) -> float:
    """1, or the fraction a small digit is written at (drawn only for a hand that writes small ones)."""
    return rng.uniform(*hand.smaller) if hand.small and rng.random() < hand.small else 1.0


def _plus_side(fraction: float, height: int) -> int:
    return max(5, int(fraction * height))


def _centred(sign: np.ndarray, height: int) -> int:
    """How far down a '+' of another size than the tidy hand's goes, to keep the same middle."""
    return (_plus_side(Hand().plus[0], height) - sign.shape[0]) // 2


def _plus(height: int, hand: Hand, rng: np.random.Generator) -> np.ndarray:
    lo, hi = hand.plus
    size, stroke = _plus_side(lo if lo == hi else rng.uniform(lo, hi), height), max(2, height // 12)
    out = np.zeros((size, size))
    middle = size // 2
    out[middle - stroke // 2:middle - stroke // 2 + stroke, :] = 1.0
    out[:, middle - stroke // 2:middle - stroke // 2 + stroke] = 1.0
    return out


def _touching(before: np.ndarray, box: tuple[int, int, int, int], glyph: np.ndarray, y: int) -> int:
    """The column to write `glyph` at (its top at row `y`) so that its ink just meets the ink of the
    digit `before` it, written in `box`: the furthest right it can stand and still touch."""
    rows = range(max(box[1], y), min(box[3], y + glyph.shape[0]))
    xs = [box[0] + np.flatnonzero(before[r - box[1]] > 0.5).max() - np.flatnonzero(glyph[r - y] > 0.5).min()
          for r in rows if (before[r - box[1]] > 0.5).any() and (glyph[r - y] > 0.5).any()]
    return int(max(xs)) if xs else box[2]


@dataclass(frozen=True)
class Hand:
    """How a person spaces and sizes what they write, in digit heights. The default is the tidy
    hand every kind is written in; `HANDS` is looser."""
    spacing: tuple[float, float] = (0.1, 0.3)    # the gap between two digits of a number
    small: float = 0.0                           # the chance that a digit is written small ...
    smaller: tuple[float, float] = (0.5, 0.7)    # ... this much of the height, and raised up to a third of it
    plus: tuple[float, float] = (0.55, 0.55)     # the '+' sign's size
    touch: float = 0.0                           # the chance that a digit touches the one before it
    slant: float = 0.0                           # degrees: each digit leans within ±slant (0: as MNIST wrote it)
    pen: tuple[float, float] | None = None       # stroke width in heights, each digit redrawn (None: MNIST's stroke)


HANDS = Hand(spacing=(0.1, 0.6), small=0.15, plus=(0.45, 0.7))
JOINED = Hand(spacing=(0.05, 0.25), touch=0.4)  # a fast writer: two digits in five run into the one before
# other pens and slants: a fine ballpoint (MNIST's strokes are ~0.12 heights) to a broad felt-tip, leaning
# as far as the issue's ±30 degrees
PENS = Hand(slant=30.0, pen=(0.04, 0.2))


def restroke(ink: np.ndarray, width: float, slant: float) -> np.ndarray:
    """A digit's ink (h, w) coverage in [0, 1] redrawn by another hand: leaning `slant` degrees (its
    top to the right for a positive slant), and its centre lines drawn with a pen `width` pixels wide,
    edges anti-aliased -> (h', w') coverage, cropped to its ink. A digit whose centre lines, drawn in
    its own pen, do not give its shape back (a 6 or an 8 whose loop MNIST's writer filled in) keeps
    its own strokes, leaning, as does one whose centre lines lose a loop its ink closes (an 8 whose
    loops MNIST's writer drew lightly)."""
    pad = int(np.ceil(width / 2)) + 1                                   # room for the pen around the ink
    leaning = lean(np.pad(ink, pad), np.tan(np.deg2rad(slant)))         # (H, W')
    H = leaning.shape[0]
    # the centre lines of the smoothed ink: MNIST's ragged edges at this size would branch into spurs
    shape = ndimage.gaussian_filter(leaning, 0.02 * H) > 0.3
    centre = skeletonize(shape)
    distance = ndimage.distance_transform_edt(~centre)                 # px to the nearest centre line
    own = distance <= shape.sum() / max(_length(centre), 1.0) / 2       # the centre lines in the digit's own pen
    filled = (shape & own).sum() < KEPT * (shape | own).sum()          # a loop its writer filled in: no line gives it
    if filled or _loops(centre, H) < _loops(leaning > 0.5, H):
        ink = leaning
    else:
        ink = np.clip(width / 2 + 0.5 - distance, 0.0, 1.0)
    rows, cols = np.nonzero(ink > 0)
    return ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1]


def write_page(digits: list[np.ndarray], labels: list[list[int]], rng: np.random.Generator, *,
               height: int = 56, layout: str = "column", plus: bool = True, rule: bool = True,
               hand: Hand = Hand()) -> Page:
    """Write numbers with MNIST digits: `digits[k]` (D_k, 28, 28) uint8 shows the number `labels[k]`.

    `layout` "column": one number per line, right-aligned (a '+' before the last, a rule under
    it when asked); "row": one line, numbers joined by '+' signs. The default `hand` draws nothing
    more from `rng` than the tidy hand always did, so every kind's pictures stay as they were.
    """
    gap = lambda: int(rng.uniform(*hand.spacing) * height)         # noqa: E731 - between digits
    margin = height
    sizes = [[height * rng.uniform(0.9, 1.1) * _smaller(hand, rng) for _ in number] for number in digits]
    inks = [[_pen(d, int(size)) for d, size in zip(number, row)] for number, row in zip(digits, sizes)]
    if hand.pen is not None:                  # one pen and one slant per page, each digit a little off them
        pen, slant = rng.uniform(*hand.pen), rng.uniform(-hand.slant, hand.slant)
        inks = [[restroke(glyph, pen * rng.uniform(0.9, 1.1) * glyph.shape[0], slant + rng.uniform(-5.0, 5.0))
                 for glyph in number] for number in inks]
    widths = [sum(i.shape[1] for i in ink) + gap() * (len(ink) - 1) for ink in inks]
    # each gap is drawn again as the digits are placed: a looser hand needs room for wider ones
    slack = 0 if hand == Hand() else int((hand.spacing[1] - hand.spacing[0]) * height) * sum(map(len, inks))
    if layout == "column":
        line_h = int(1.5 * height)
        W = 2 * margin + max(widths) + 2 * height + slack
        H = 2 * margin + line_h * len(inks) + height
    else:
        W = 2 * margin + sum(widths) + (len(inks) - 1) * 2 * height + slack
        H = 2 * margin + 2 * height
    coverage = np.zeros((H, W))
    boxes = []

    def put(ink: np.ndarray, x: int, y: int) -> tuple[int, int, int, int]:
        h, w = ink.shape
        coverage[y:y + h, x:x + w] = np.maximum(coverage[y:y + h, x:x + w], ink)
        return x, y, x + w, y + h

    for k, ink in enumerate(inks):
        if layout == "column":
            x = margin + 2 * height + max(widths) - widths[k]
            base = margin + k * int(1.5 * height) + height
        else:
            x = margin + sum(widths[:k]) + k * 2 * height
            base = margin + int(1.5 * height)
        number_boxes = []
        for d, (glyph, size) in enumerate(zip(ink, sizes[k])):
            y = base - glyph.shape[0] + int(rng.integers(-height // 12, height // 12 + 1))
            if size < 0.8 * height:                                  # a small digit, written a little high
                y -= int(rng.uniform(0, 1 / 3) * (height - glyph.shape[0]))
            if d and hand.touch and rng.random() < hand.touch:
                x = _touching(ink[d - 1], number_boxes[-1], glyph, y)
            number_boxes.append(put(glyph, x, y))
            x += glyph.shape[1] + gap()
        boxes.append(number_boxes)
        if plus and layout == "column" and k == len(inks) - 1 and k > 0:
            sign = _plus(height, hand, rng)
            put(sign, margin + height // 3, base - int(0.75 * height) + _centred(sign, height))
        if layout == "row" and k < len(inks) - 1:
            sign = _plus(height, hand, rng)
            put(sign, x - gap() + int(0.7 * height), base - int(0.78 * height) + _centred(sign, height))
    if rule and layout == "column":
        y = margin + len(inks) * int(1.5 * height) + height // 5
        coverage[y:y + max(2, height // 14), margin:W - margin] = 1.0
    numbers = [int("".join(map(str, n))) for n in labels]
    return Page(PAPER - (PAPER - PEN) * coverage, numbers, boxes)


def _jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=quality)
    return np.asarray(Image.open(buffer).convert("RGB"))


def photograph(page: Page, rng: np.random.Generator, *, turn: float = 3.0, shadow: bool = False,
               tilt: float = 0.0) -> Page:
    """A phone photo of the page (grey, or RGB float from `paper.on_paper`): RGB uint8, boxes moved by
    the rotation (approximately). `turn`: the most degrees it is turned; `shadow`: a soft-edged shadow
    over part of it; `tilt`: the most degrees the page leans away from the camera (keystone)."""
    image = page.image
    H, W = image.shape[:2]
    angle = rng.uniform(-turn, turn)
    turned = rotate(image, angle, resize=False, mode="constant", cval=PAPER, order=1)
    ys, xs = np.mgrid[0:H, 0:W] / max(H, W)
    direction = rng.uniform(0, 2 * np.pi)
    light = 1.0 - rng.uniform(0.15, 0.4) * (np.cos(direction) * xs + np.sin(direction) * ys)
    light *= 1.0 - rng.uniform(0.1, 0.25) * ((xs - xs.mean()) ** 2 + (ys - ys.mean()) ** 2) * 4
    shade = rng.uniform(0.7, 0.9)                                         # grey paper, dim room
    tint = np.array([1.0, rng.uniform(0.95, 1.0), rng.uniform(0.85, 0.97)])   # warm indoor light
    blur = rng.uniform(0.8, 2.0)
    if shadow:                                                            # a hand or a phone over the page
        edge = rng.uniform(0, 2 * np.pi)
        across = np.cos(edge) * (xs - xs.mean()) + np.sin(edge) * (ys - ys.mean())
        light *= 1.0 - rng.uniform(0.35, 0.55) / (1.0 + np.exp(-(across - rng.uniform(-0.2, 0.2)) / 0.03))
    if image.ndim == 3:
        seen = ndimage.gaussian_filter(turned, (blur, blur, 0)) * (light * shade)[:, :, None] * tint
    else:
        seen = (ndimage.gaussian_filter(turned, blur) * light * shade)[:, :, None] * tint
    rgb = seen + rng.normal(0, rng.uniform(0.015, 0.04), (H, W, 3))
    boxes = _rotate_boxes(page.boxes, angle, H, W)
    if tilt:
        rgb, boxes = _keystone(rgb, boxes, rng.uniform(-tilt, tilt))
    rgb = _jpeg((np.clip(rgb, 0, 1) * 255).astype(np.uint8), int(rng.integers(60, 86)))
    return Page(rgb, page.numbers, boxes)


def _keystone(rgb: np.ndarray, boxes, degrees: float):
    """The page leaning `degrees` away from the camera (negative: towards it): its far edge shrinks as
    a camera 1.5 page-heights away sees it. Boxes are the bounds of their moved corners."""
    H, W = rgb.shape[:2]
    shrink = 1.5 * H / (1.5 * H + H * np.sin(np.deg2rad(abs(degrees))))   # far edge / near edge
    inset = (1 - shrink) * W / 2
    far = 0 if degrees > 0 else H - 1                                     # the top edge leans away
    src = np.array([[0, 0], [W - 1, 0], [W - 1, H - 1], [0, H - 1]], dtype=float)
    dst = src.copy()
    for k in (0, 1) if far == 0 else (2, 3):
        dst[k, 0] += inset if dst[k, 0] == 0 else -inset
    transform = ProjectiveTransform.from_estimate(src, dst)
    warped = warp(rgb, transform.inverse, mode="constant", cval=PAPER * 0.8, order=1)
    moved = []
    for number in boxes:
        out = []
        for x0, y0, x1, y1 in number:
            corners = transform(np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=float))
            out.append((int(corners[:, 0].min()), int(corners[:, 1].min()),
                        int(np.ceil(corners[:, 0].max())), int(np.ceil(corners[:, 1].max()))))
        moved.append(out)
    return warped, moved


def scan(page: Page, rng: np.random.Generator) -> Page:
    """A flatbed scan: grey, near-white paper, skew within a degree, light blur and noise, 8-bit PNG."""
    gray = page.image
    H, W = gray.shape
    angle = rng.uniform(-1, 1)
    turned = rotate(gray, angle, resize=False, mode="constant", cval=PAPER, order=1)
    seen = ndimage.gaussian_filter(turned, rng.uniform(0.3, 0.8)) + rng.normal(0, 0.01, (H, W))
    return Page((np.clip(seen, 0, 1) * 255).astype(np.uint8), page.numbers,
                _rotate_boxes(page.boxes, angle, H, W))


def _rotate_boxes(boxes, angle: float, H: int, W: int):
    """Boxes moved with their centres by skimage's rotation (counter-clockwise about the centre)."""
    a = np.deg2rad(angle)
    cy, cx = (H - 1) / 2, (W - 1) / 2
    out = []
    for number in boxes:
        moved = []
        for x0, y0, x1, y1 in number:
            mx, my = (x0 + x1) / 2 - cx, (y0 + y1) / 2 - cy
            nx, ny = cx + mx * np.cos(a) + my * np.sin(a), cy - mx * np.sin(a) + my * np.cos(a)
            dx, dy = nx - (x0 + x1) / 2, ny - (y0 + y1) / 2
            moved.append((int(x0 + dx), int(y0 + dy), int(x1 + dx), int(y1 + dy)))
        out.append(moved)
    return out


def pen_strokes(image: np.ndarray, upscale: int = 4) -> list[list[tuple[float, float]]]:
    """A 28x28 MNIST digit -> its skeleton as strokes of (x, y) points in [0, 1] of the 28x28 frame.

    The skeleton (at 4x, so that it follows the stroke's middle) is walked from its ends: each
    walk follows unvisited neighbours until none is left, and becomes one pen stroke.
    """
    big = rescale(image / 255.0, upscale, order=1) > 0.35
    skeleton = skeletonize(big)
    points = {(int(y), int(x)) for y, x in zip(*np.nonzero(skeleton))}
    steps = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx]
    neighbours = lambda p: [(p[0] + dy, p[1] + dx) for dy, dx in steps if (p[0] + dy, p[1] + dx) in points]  # noqa: E731
    unvisited, strokes = set(points), []
    while unvisited:
        ends = [p for p in unvisited if len([q for q in neighbours(p) if q in unvisited]) <= 1]
        point = min(ends or unvisited)
        stroke = [point]
        unvisited.discard(point)
        while True:
            ahead = [q for q in neighbours(point) if q in unvisited]
            if not ahead:
                break
            point = min(ahead, key=lambda q: abs(q[0] - point[0]) + abs(q[1] - point[1]))   # straight on first
            unvisited.discard(point)
            stroke.append(point)
        if len(stroke) >= 3:
            strokes.append([((x + 0.5) / (28 * upscale), (y + 0.5) / (28 * upscale)) for y, x in stroke[::2]])
    return strokes

"""Digits that touch: a fast writer runs one digit into the next, and their ink is one shape.

A shape wider than 0.6 digit heights is offered to the reader cut in every way its ink allows: along
paths that start where its ink is thinnest and bend around ink to cross as little of it as they can
(`cuts`). Each piece between two cuts, no wider than a digit, is framed and read, and the shape
becomes the chain of pieces likeliest to be its digits (`best_chain`), the shape read whole among
them: the readings, each piece's width against the widths of the digit it is read as, and how many
strokes each cut crosses (digits that touch meet in one). A shape kept whole is trusted no more than
its width allows (`trust`), and a digit cut from a shape that the reader read as a digit of a typical
width is no surer than that reading (`ceiling`): cutting is a second guess, and it must not make a
picture of letters look like one of digits.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy import ndimage

# (N, 28, 28) uint8 shapes -> (N, 10) the reader's probabilities, (N,) the probability each is one digit
Judge = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]

WIDE = 0.6          # a shape wider than 0.6 digit heights may be digits that touch (a "1" and a "7")
WIDEST = 1.25       # a piece wider than 1.25 heights is no single digit (few MNIST digits are)
NARROWEST = 0.12    # a piece narrower than 0.12 heights is a sliver, not a digit (a '1' is wider)
EDGE = 0.1          # cuts stand at least 0.1 heights from the shape's ends ...
APART = 0.12        # ... and from each other
ASIDE = 0.3         # a cut's step aside costs 0.3 of an inked pixel crossed: it keeps straight where bending
                    # saves no ink
MOST_CUTS = 12      # cuts per shape, the thinnest: at most 14 * 13 / 2 = 91 pieces to read
SPLIT = 0.2         # the log-probability a chain pays per cut: more than a reading of p > 0.82 loses, so a
                    # shape read that surely at a typical width for its digit is never cut
CROSS = 1.0         # ... and 1.0 more per stroke it crosses beyond the first: digits that touch meet in one
                    # stroke, and a cut through one digit (a '0' halved) crosses two or more
TYPICAL = 2.0       # a piece's width within 2 spreads of its digit's mean costs nothing; beyond, a normal tail
LENIENT = 1.5       # the shape read whole is one digit up to 1.5 spreads, beyond a normal tail: two digits that
                    # touch make a wide '8'; a wide single digit is kept whole by what cutting it crosses
UNSURE = 0.9        # a piece read less surely than this is a digit of its own only where the shape is too wide
                    # to be one digit and nothing surer fits
JUDGED = 0.5        # the one-digit judge's log-probability counts half: it learnt on generated shapes, not pages,
                    # and at full weight it cut a few more single digits on squared paper (train renderings)
SHORT = 0.7         # a piece whose ink is under 0.7 of the shape's height is part of a digit (a 5's bowl), not one
# each digit's shape: the mean and spread of log(width / height) of its ink (above 50 of 255) over
# MNIST-train's 60,000 digits (`shapes` measures them; a test checks these against it). A '1' is narrow,
# a '2' or '5' may be wide: a piece is judged as the digit it is read as
SHAPE_MEAN = np.array([-0.102, -0.912, -0.068, -0.227, -0.234, -0.071, -0.317, -0.256, -0.274, -0.385])
SHAPE_SPREAD = np.array([0.191, 0.453, 0.212, 0.208, 0.208, 0.252, 0.213, 0.211, 0.217, 0.204])


def cuts(own: np.ndarray, height: float) -> list[np.ndarray]:
    """Candidate cuts of a shape's ink mask (h, w), each a path (h,) of one column per row from top to
    bottom that crosses as little ink as it can, bending around it where that pays (`_seams`). They
    are the paths crossing the least ink in their neighbourhood (local minima over the columns they
    pass at mid-height), least first, at most `MOST_CUTS`: digits that lean into each other are parted
    along the slanting gap between them, where every straight column crosses ink."""
    w = own.shape[1]
    through, paths = _seams(own)                                        # (w,) ink crossed, (w, h) paths
    through = ndimage.uniform_filter1d(through, max(1, int(0.05 * height)), mode="nearest")
    lowest = through == ndimage.minimum_filter1d(through, max(3, int(2 * APART * height) | 1), mode="nearest")
    edge = max(1, int(EDGE * height))
    chosen: list[np.ndarray] = []
    for x in sorted(np.flatnonzero(lowest), key=lambda x: through[x]):
        path = paths[x]
        apart = all(abs(path.mean() - c.mean()) >= max(1.0, APART * height) for c in chosen)
        if edge <= path.mean() <= w - edge and apart:
            chosen.append(path)
        if len(chosen) == MOST_CUTS:
            break
    return sorted(chosen, key=lambda path: path.mean())


def _seams(own: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each column x of the ink mask (h, w): the path from top to bottom through x at mid-height
    that crosses the least ink, stepping at most one column per row, a step aside costing `ASIDE` of
    an inked pixel; and what it crosses. -> (w,) cost, (w, h) paths."""
    h, w = own.shape
    middle = h // 2
    down, down_steps = _descend(own[middle:])                           # rows middle.. from the middle
    up, up_steps = _descend(own[:middle + 1][::-1])                     # rows middle..0 from the middle
    paths = np.empty((w, h), int)
    paths[:, middle] = np.arange(w)
    for y in range(middle + 1, h):                                      # each row's column, from the one above
        paths[:, y] = paths[:, y - 1] + down_steps[y - middle][paths[:, y - 1]]
    for y in range(middle - 1, -1, -1):
        paths[:, y] = paths[:, y + 1] + up_steps[middle - y][paths[:, y + 1]]
    return down + up - own[middle], paths


def _descend(own: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """From each column of row 0 of the mask (h, w), down to its last row: the least ink a path
    crosses (w,), and per row the column step (h, w) each path takes into the row below it."""
    h, w = own.shape
    cost = own.astype(float)
    # walked bottom-up: total[x] is the least cost from (y, x) to the last row
    total = cost[-1].copy()
    steps = np.zeros((h, w), np.int8)                                   # steps[y][x]: from (y - 1, x) to row y
    left, right = np.full(w, np.inf), np.full(w, np.inf)                # from the column to the left / right
    for y in range(h - 2, -1, -1):
        left[1:], right[:-1] = total[:-1] + ASIDE, total[1:] + ASIDE
        # the first of equals, as argmin over (left, straight, right) gives: ties keep to the left
        steps[y + 1] = np.where((left <= total) & (left <= right), -1, np.where(total <= right, 0, 1))
        total = cost[y] + np.minimum(np.minimum(left, total), right)
    return total, steps


def pieces(width: int, cut_columns: list[int], height: float) -> list[tuple[int, int]]:
    """The spans (a, b) between two cuts (or an end), named by the cuts' mean columns, that could each
    be one digit; the whole shape (0, width) is always one of them."""
    bounds = [0, *cut_columns, width]
    spans = [(a, b) for i, a in enumerate(bounds) for b in bounds[i + 1:]
             if NARROWEST * height <= b - a <= WIDEST * height]
    return spans if (0, width) in spans else [(0, width), *spans]


def between(left: np.ndarray, right: np.ndarray, width: int) -> np.ndarray:
    """The mask (h, width) of the columns from path `left` (h,) up to, not including, path `right`."""
    columns = np.arange(width)
    return (columns >= left[:, None]) & (columns < right[:, None])


def shapes(images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Digits (N, 28, 28) uint8 and their labels (N,) -> per digit 0-9, the mean and spread of
    log(width / height) of the ink: `SHAPE_MEAN` and `SHAPE_SPREAD` on MNIST-train."""
    ink = images > 50
    rows, cols = ink.any(2), ink.any(1)                                 # (N, 28) each
    height = 28 - rows[:, ::-1].argmax(1) - rows.argmax(1)
    width = 28 - cols[:, ::-1].argmax(1) - cols.argmax(1)
    aspect = np.log(width / height)
    return (np.array([aspect[labels == d].mean() for d in range(10)]),
            np.array([aspect[labels == d].std() for d in range(10)]))


def _spreads(width: float) -> np.ndarray:
    """(10,) how many spreads a shape `width` digit heights wide is from each digit's mean width."""
    return (np.log(max(width, 1e-3)) - SHAPE_MEAN) / SHAPE_SPREAD


def _fits(probabilities: np.ndarray, width: float, typical: float = TYPICAL) -> float:
    """How well a piece `width` digit heights wide fits its reading: the best over the ten digits of the
    reading's log-probability plus the log-prior of that digit's width, flat within `typical` spreads."""
    beyond = np.maximum(np.abs(_spreads(width)) - typical, 0.0)
    return float(np.max(np.log(np.maximum(probabilities, 1e-9)) - 0.5 * beyond ** 2))


def best_chain(width: int, spans: list[tuple[int, int]], probabilities: np.ndarray, tall: np.ndarray,
               height: float, crossed: dict[int, int] | None = None,
               one: np.ndarray | None = None) -> list[tuple[int, int]]:
    """The chain of spans from column 0 to `width` likeliest to be its digits, for a shape in a line of
    digits `height` tall: the largest sum of its pieces' fits (`_fits`: the reading, and the width of
    the digit it is read as; the whole shape is judged `LENIENT`ly) less `SPLIT` per cut and `CROSS`
    per stroke a cut crosses beyond the first (`crossed`: per cut column, see `crossings`), among
    pieces at least `SHORT` of the shape's height and read at least `UNSURE`ly. `probabilities`
    (len(spans), 10) are the reader's and `tall` (len(spans),) each piece's ink height over the
    shape's. The reader is sure of shapes that are no digit too, so a shape three digits wide is not
    one digit however surely it is read: where nothing else is offered, unsure pieces are, and the
    reading says how unsure they are. `one` (len(spans),), the one-digit judge's probability that each
    piece is one digit (`calc.touching`), weighs each reading (to the power `JUDGED`): a joined "16"
    read surely as a 6 is no surer than the judge finds it one digit, and a shape the judge finds
    several digits is, like one too wide for its reading, offered its unsure pieces."""
    read = probabilities[spans.index((0, width))].max()                # the reader's own surety of the whole
    if one is not None:
        probabilities = probabilities * one[:, None] ** JUDGED
    chain = _chain(width, spans, probabilities, tall, height, crossed or {}, UNSURE)
    whole = probabilities[spans.index((0, width))]
    if chain == [(0, width)] and trust(whole, width / height) < UNSURE * read:   # too wide for it, or judged several
        chain = _chain(width, spans, probabilities, tall, height, crossed or {}, 0.0)
    return chain


def _chain(width: int, spans: list[tuple[int, int]], probabilities: np.ndarray, tall: np.ndarray,
           height: float, crossed: dict[int, int], unsure: float) -> list[tuple[int, int]]:
    """`best_chain` among pieces read at least `unsure`ly."""
    score = {0: (0.0, [])}                                              # column -> (best score, its chain)
    for k in sorted(range(len(spans)), key=lambda k: spans[k]):
        a, b = spans[k]
        if a not in score or ((tall[k] < SHORT or probabilities[k].max() < unsure) and (a, b) != (0, width)):
            continue
        typical = LENIENT if (a, b) == (0, width) else TYPICAL
        cost = SPLIT + CROSS * max(crossed.get(b, 1) - 1, 0) if b < width else 0.0
        total = score[a][0] + _fits(probabilities[k], (b - a) / height, typical) - cost
        if b not in score or total > score[b][0]:
            score[b] = (total, score[a][1] + [(a, b)])
    return score[width][1]


def trust(whole: np.ndarray, width: float) -> float:
    """How far a shape `width` digit heights wide, read whole as probabilities (10,), may be trusted
    as one digit: its reading, times how plausible that width is for the digit (`_fits`, `LENIENT`)."""
    return float(np.exp(_fits(whole, width, LENIENT)))


def crossings(own: np.ndarray, path: np.ndarray) -> int:
    """How many strokes of the ink mask (h, w) the path (h,) crosses: its runs of inked rows."""
    inked = own[np.arange(len(path)), path]                             # (h,)
    return int(np.count_nonzero(inked[1:] & ~inked[:-1]) + inked[0])


def ceiling(whole: np.ndarray, width: float) -> float:
    """How far the digits cut from a shape may be trusted, given the reader's probabilities (10,) for
    the shape read whole, `width` digit heights wide. Where that width is typical of the digit it is
    read as, the shape may well be that digit, and cutting it is a second guess: its digits are no
    surer than the whole was read (a letter cut into strokes read as 1s). Where the shape is too wide
    to be that digit, its reading says nothing: no limit."""
    digit = int(whole.argmax())
    return float(whole[digit]) if abs(_spreads(width)[digit]) <= TYPICAL else 1.0

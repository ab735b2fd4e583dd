"""Digits that touch: a fast writer runs one digit into the next, and their ink is one shape.

A shape wider than 0.6 digit heights is offered to the reader cut in every way its ink allows: at
the columns where its ink is thinnest (`cuts`). Each piece between two cuts, no wider than a digit,
is framed and read, and the shape becomes the chain of pieces likeliest to be its digits
(`best_chain`), the shape read whole among them: the readings, and each piece's width against the
widths of the digit it is read as. A digit cut from a shape that the reader read as a digit of a
typical width is no surer than that reading (`ceiling`): cutting is a second guess, and it must not
make a picture of letters look like one of digits.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy import ndimage

Judge = Callable[[np.ndarray], np.ndarray]   # (N, 28, 28) uint8 digits -> (N, 10) the reader's probabilities

WIDE = 0.6          # a shape wider than 0.6 digit heights may be digits that touch (a "1" and a "7")
WIDEST = 1.25       # a piece wider than 1.25 heights is no single digit (few MNIST digits are)
NARROWEST = 0.12    # a piece narrower than 0.12 heights is a sliver, not a digit (a '1' is wider)
EDGE = 0.1          # cuts stand at least 0.1 heights from the shape's ends ...
APART = 0.12        # ... and from each other
MOST_CUTS = 12      # cut columns per shape, the thinnest: at most 14 * 13 / 2 = 91 pieces to read
SPLIT = 0.2         # the log-probability a chain pays per cut: more than a reading of p > 0.82 loses, so a
                    # shape read that surely at a typical width for its digit is never cut
TYPICAL = 2.0       # a piece's width within 2 spreads of its digit's mean costs nothing; beyond, a normal tail
LENIENT = 2.5       # the shape read whole is one digit up to 2.5 spreads: a wide single digit is not cut lightly
UNSURE = 0.9        # a piece read less surely than this is not offered as a digit of its own
SHORT = 0.7         # a piece whose ink is under 0.7 of the shape's height is part of a digit (a 5's bowl), not one
# each digit's shape: the mean and spread of log(width / height) of its ink (above 50 of 255) over
# MNIST-train's 60,000 digits (`shapes` measures them; a test checks these against it). A '1' is narrow,
# a '2' or '5' may be wide: a piece is judged as the digit it is read as
SHAPE_MEAN = np.array([-0.102, -0.912, -0.068, -0.227, -0.234, -0.071, -0.317, -0.256, -0.274, -0.385])
SHAPE_SPREAD = np.array([0.191, 0.453, 0.212, 0.208, 0.208, 0.252, 0.213, 0.211, 0.217, 0.204])


def cuts(own: np.ndarray, height: float) -> list[int]:
    """Candidate cut columns of a shape's ink mask (h, w): the columns whose ink is thinnest in their
    neighbourhood (local minima of the ink per column), thinnest first, at most `MOST_CUTS`."""
    w = own.shape[1]
    ink = ndimage.uniform_filter1d(own.sum(0).astype(float), max(1, int(0.05 * height)), mode="nearest")   # (w,)
    lowest = ink == ndimage.minimum_filter1d(ink, max(3, int(2 * APART * height) | 1), mode="nearest")
    edge = max(1, int(EDGE * height))
    chosen: list[int] = []
    for x in sorted(np.flatnonzero(lowest), key=lambda x: ink[x]):
        if edge <= x <= w - edge and all(abs(x - c) >= APART * height for c in chosen):
            chosen.append(int(x))
        if len(chosen) == MOST_CUTS:
            break
    return sorted(chosen)


def pieces(width: int, cut_columns: list[int], height: float) -> list[tuple[int, int]]:
    """The column spans (a, b) between two cuts (or an end) that could each be one digit; the whole
    shape (0, width) is always one of them."""
    bounds = [0, *cut_columns, width]
    spans = [(a, b) for i, a in enumerate(bounds) for b in bounds[i + 1:]
             if NARROWEST * height <= b - a <= WIDEST * height]
    return spans if (0, width) in spans else [(0, width), *spans]


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
               height: float) -> list[tuple[int, int]]:
    """The chain of spans from column 0 to `width` likeliest to be its digits, for a shape in a line of
    digits `height` tall: the largest sum of its pieces' fits (`_fits`: the reading, and the width of
    the digit it is read as; the whole shape is judged `LENIENT`ly) less `SPLIT` per cut, among pieces at
    least `SHORT` of the shape's height and read at least `UNSURE`ly. `probabilities` (len(spans), 10) are the reader's and `tall`
    (len(spans),) each piece's ink height over the shape's. The reader is sure of shapes that are no
    digit too, so a shape three digits wide is not one digit however surely it is read."""
    score = {0: (0.0, [])}                                              # column -> (best score, its chain)
    order = sorted(range(len(spans)), key=lambda k: spans[k])
    for k in order:
        a, b = spans[k]
        if a not in score or ((tall[k] < SHORT or probabilities[k].max() < UNSURE) and (a, b) != (0, width)):
            continue
        typical = LENIENT if (a, b) == (0, width) else TYPICAL
        total = score[a][0] + _fits(probabilities[k], (b - a) / height, typical) - (SPLIT if b < width else 0.0)
        if b not in score or total > score[b][0]:
            score[b] = (total, score[a][1] + [(a, b)])
    return score[width][1]


def ceiling(whole: np.ndarray, width: float) -> float:
    """How far the digits cut from a shape may be trusted, given the reader's probabilities (10,) for
    the shape read whole, `width` digit heights wide. Where that width is typical of the digit it is
    read as, the shape may well be that digit, and cutting it is a second guess: its digits are no
    surer than the whole was read (a letter cut into strokes read as 1s). Where the shape is too wide
    to be that digit, its reading says nothing: no limit."""
    digit = int(whole.argmax())
    return float(whole[digit]) if abs(_spreads(width)[digit]) <= TYPICAL else 1.0

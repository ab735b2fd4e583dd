"""Where the page ends: a phone photo of an exercise book often shows the desk beside it.

A desk, a table or a dark sleeve beyond the page is no paper: its grain, divided by its little light,
is faint ink everywhere, and the printed lines that run into it would be lost in it. The page's own
edge is a sharp step from its paper to something darker that runs along the whole picture, straight
once the page is turned upright. A shadow's edge is a step too, but a soft one, and a rule, a margin
or a grid line has paper on both sides. `bounds` finds the page's edges, side by side: per column (and
then per row), the step from the plateau on one side to the plateau on the other, taken at most rows
(a low percentile, so that writing and lines do not make one), kept where most of it is made within a
few pixels, the darker side stays darker at its brightest, and it faces the picture's border.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage.transform import rescale

from neuralab.calc.printed import turn

SIDE = 300        # pixels: edges are sought on a copy this long, the scale of paper and light
STEP = 0.14       # the desk is at least 14% darker than the page's paper ...
SHARP = 0.7       # ... and 70% of that step is made within `NEAR` pixels (a shadow's soft edge is not)
NEAR = 2          # pixels at the `SIDE` copy: the photo's blur, either side of the edge
PLATEAU = 15      # the plateaus either side are 1/15 of the copy's width: a shadow's soft edge is
                  # most of its step across them, little of it across `NEAR`
ALONG = 30        # the step holds at 70% of the rows, the 30th percentile: the edge runs along the page
OUTER = 0.45      # a page's edge lies in the outer 45% of the picture on its side: the writing is within


def bounds(gray: np.ndarray, degrees: float, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """The page on a picture (h, w) of light paper, grey in [0, 1], turned upright by `degrees` to
    `shape` (`printed.turn`) -> its box (x0, y0, x1, y1) there: the whole of it where no desk lies
    beyond an edge."""
    factor = min(1.0, SIDE / max(gray.shape))
    small = rescale(gray, factor, order=1, anti_aliasing=factor < 1) if factor < 1 else gray
    darkest = float(small.min())                        # what the turn adds at the corners is no paper
    upright = turn(small - darkest, degrees, order=1)[0] + darkest if degrees else small
    (x0, x1), (y0, y1) = _edges(upright), _edges(upright.T)
    sy, sx = shape[0] / upright.shape[0], shape[1] / upright.shape[1]
    return int(x0 * sx), int(y0 * sy), min(int(np.ceil(x1 * sx)), shape[1]), min(int(np.ceil(y1 * sy)), shape[0])


def _edges(b: np.ndarray) -> tuple[int, int]:
    """The columns (first, last + 1) of the page on `b` (h, w): cut at the innermost edge that is
    darker towards each border, or at the border where there is none."""
    return _left_edge(b), b.shape[1] - _left_edge(b[:, ::-1])


def _left_edge(b: np.ndarray) -> int:
    """The page's first column on `b` (h, w): just inside the innermost edge darker towards the left
    border, or 0 where there is none. The right edge is the left one of the mirrored picture."""
    h, w = b.shape
    k, xs = max(3, w // PLATEAU), np.arange(w)
    total = np.pad(np.cumsum(b, axis=1), ((0, 0), (1, 0)))                # (h, w + 1) running sums per row

    def mean(start: np.ndarray, stop: np.ndarray) -> np.ndarray:       # (h, w): each row's mean of [start, stop)
        start, stop = np.clip(start, 0, w), np.clip(stop, 0, w)
        return (total[:, stop] - total[:, start]) / np.maximum(stop - start, 1)

    right_side, left_side = mean(xs + NEAR + 1, xs + NEAR + 1 + k), mean(xs - NEAR - k, xs - NEAR)
    near = b[:, np.minimum(xs + NEAR, w - 1)] - b[:, np.maximum(xs - NEAR, 0)]
    # the darker side stays darker at its brightest over two plateaus' width: beyond a rule or a
    # margin there is paper again
    brightest = ndimage.maximum_filter1d(b, 2 * k + 1, axis=1, mode="nearest")          # (h, w) over x +- k
    before = brightest[:, np.maximum(xs - NEAR - 1 - k, 0)]                            # (h, w)
    # and the plateaus are flat: a shadow's soft edge still climbs beyond them, and what it climbs
    # there does not count
    ramps = np.abs(mean(xs + NEAR + 1 + k, xs + NEAR + 1 + 2 * k) - right_side) + \
        np.abs(mean(xs - NEAR - 2 * k, xs - NEAR - k) - left_side)
    rises = np.percentile(np.minimum(right_side - left_side, right_side - before) - ramps, ALONG, 0)   # (w,)
    sharp = np.percentile(near, ALONG, axis=0) > SHARP * rises
    paper = float(np.percentile(b, 75))
    left = np.flatnonzero((rises > STEP * paper) & sharp & (xs < OUTER * w) & (xs >= k))
    return int(left.max()) + NEAR + 1 if len(left) else 0

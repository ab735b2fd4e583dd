"""calc.sheet: the page's edges against the desk beside it, and what is no page edge (a shadow's soft
edge, a margin, the writing)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from neuralab.calc import sheet
from neuralab.calc.printed import turn


def photo_of(paper: np.ndarray, seed: int = 0) -> np.ndarray:
    """A grey picture as a phone gives it: blurred a little, with sensor noise."""
    rng = np.random.default_rng(seed)
    return np.clip(ndimage.gaussian_filter(paper, 1.5) + rng.normal(0, 0.03, paper.shape), 0, 1)


def squared(h: int = 600, w: int = 800) -> np.ndarray:
    page = np.full((h, w), 0.9)
    page[::24], page[:, ::24] = 0.7, 0.7                       # a 5 mm grid, lighter than any pen
    page[200:280, 300:306] = 0.15                              # a pen's 1
    return page


def test_a_desk_at_both_sides_of_the_page_is_cut_at_the_pages_edges():
    picture = squared()
    picture[:, :150], picture[:, 680:] = 0.4, 0.5              # a wood desk, seen either side of the page
    x0, y0, x1, y1 = sheet.bounds(photo_of(picture), 0.0, picture.shape)
    assert 150 <= x0 <= 160 and 670 <= x1 <= 680               # at the edges, a few pixels into the page
    assert (y0, y1) == (0, 600)                                # none above or below


def test_a_desk_above_the_page_is_cut_too():
    picture = squared()
    picture[:120] = 0.45
    x0, y0, x1, y1 = sheet.bounds(photo_of(picture), 0.0, picture.shape)
    assert (x0, x1) == (0, 800) and 120 <= y0 <= 130 and y1 == 600


def test_a_shadows_soft_edge_a_margin_and_the_writing_are_no_page_edge():
    picture = squared()
    picture[:, 100:103] = 0.55                                 # a red margin, dark on neither side
    across = np.arange(800) - 600.0
    picture *= 1.0 - 0.5 / (1.0 + np.exp(-across / 24.0))     # a shadow over the right side, its edge soft
    picture[300:380, 60:75] = 0.1                              # a broad stroke near the border
    assert sheet.bounds(photo_of(picture), 0.0, picture.shape) == (0, 0, 800, 600)


def test_the_bounds_are_given_on_the_upright_picture_of_the_callers_size():
    picture, desk = squared(), np.zeros((600, 800), np.float32)
    desk[:, :150] = 1.0
    picture[desk > 0] = 0.4
    turned = turn(picture - 0.9, 4.0, order=1)[0] + 0.9                             # the page turned 4 degrees
    upright = turn(turn(desk, 4.0, order=0)[0], -4.0, order=0)[0]                     # where the desk ends, upright
    edge = 2 * np.median([np.flatnonzero(row > 0.5).max() for row in upright if (row > 0.5).any()])
    x0, _, x1, _ = sheet.bounds(photo_of(turned), -4.0, (2 * upright.shape[0], 2 * upright.shape[1]))
    assert edge <= x0 <= edge + 40 and x1 == 2 * upright.shape[1]                    # upright, twice the size

"""Exercise-book paper and pens: a written page (`pages.write_page`) put on squared or lined paper,
in a given ink, with the truth of every digit kept.

- `squared`: a school notebook's 5 mm grid, each square about 0.6-0.8 of a digit's height, in
  light blue or grey, with a red margin;
- `lined`: ruled lines in light blue or grey under every line of writing (the digits sit on them),
  with a red margin;
- `plain`: white paper, nothing printed.
Inks: `black` (felt-tip: dark and wide), `blue` (ballpoint), `pencil` (grey, lighter).
The printed lines are drawn a little bowed, as a page that does not lie flat shows them.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from neuralab.calc.pages import PAPER, PEN, Page

PAPERS = ("plain", "squared", "lined")
INKS = {"black": (0.08, 0.08, 0.1), "blue": (0.12, 0.18, 0.55), "pencil": (0.42, 0.42, 0.44)}
RULE_COLOURS = ((0.62, 0.75, 0.92), (0.7, 0.7, 0.72), (0.55, 0.7, 0.85))   # light blue, grey, blue
MARGIN_COLOUR = (0.9, 0.45, 0.45)


def _bowed(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A smooth vertical displacement (H, W) in pixels: the page bulging by up to 0.5% of its width."""
    H, W = shape
    xs = np.linspace(-1, 1, W)[None, :]
    ys = np.linspace(-1, 1, H)[:, None]
    return rng.uniform(-0.005, 0.005) * W * (1 - xs**2) * (1 + 0.3 * ys)


def _rules(shape: tuple[int, int], paper: str, height: int, first: float, rng: np.random.Generator) -> np.ndarray:
    """The printed lines' coverage (H, W) in [0, 1]."""
    H, W = shape
    if paper == "plain":
        return np.zeros(shape)
    width = max(1.0, height / 40)                                     # a printed line: ~0.2 mm
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float64)
    ys = ys + _bowed(shape, rng)
    pitch = 1.5 * height if paper == "lined" else height * rng.uniform(0.6, 0.8)
    offset = first % pitch if paper == "lined" else rng.uniform(0, pitch)
    coverage = _line_coverage(ys - offset, pitch, width)
    if paper == "squared":
        coverage = np.maximum(coverage, _line_coverage(xs - rng.uniform(0, pitch), pitch, width))
    return coverage


def _line_coverage(distance: np.ndarray, pitch: float, width: float) -> np.ndarray:
    """Coverage of lines every `pitch` pixels, `width` wide, soft-edged."""
    d = np.abs((distance + pitch / 2) % pitch - pitch / 2)           # distance to the nearest line
    return np.clip(width / 2 + 0.5 - d, 0.0, 1.0)


def on_paper(page: Page, rng: np.random.Generator, *, paper: str = "squared", ink: str = "blue",
             height: int = 56, margin: bool = True) -> Page:
    """The written page (grey, from `write_page` at digit height `height`) on printed paper in
    `ink`: (H, W, 3) float RGB in [0, 1], the same numbers and boxes."""
    if paper not in PAPERS:
        raise ValueError(f"paper {paper!r}: choose from {', '.join(PAPERS)}")
    coverage = np.clip((PAPER - page.image) / (PAPER - PEN), 0.0, 1.0)            # (H, W) the pen's ink
    if ink == "pencil":                                                          # graphite: grainy, lighter
        coverage = coverage * rng.uniform(0.75, 1.0, coverage.shape)
    elif ink == "black":                                                         # felt-tip: wider strokes
        coverage = ndimage.grey_dilation(coverage, size=(2, 2))
    H, W = coverage.shape
    bases = [max(b[3] for b in number) for number in page.boxes]
    first = min(bases) + rng.uniform(0, 0.08) * height if bases else 0.0
    printed = _rules((H, W), paper, height, first, rng)
    colour = np.array(RULE_COLOURS[int(rng.integers(len(RULE_COLOURS)))])
    rgb = np.full((H, W, 3), PAPER)
    rgb = rgb * (1 - printed[..., None]) + colour * PAPER * printed[..., None]
    if margin and paper != "plain":
        x = int(min(min(b[0] for b in number) for number in page.boxes) * rng.uniform(0.15, 0.35))   # left of a "+"
        band = _line_coverage(np.arange(W, dtype=np.float64)[None, :] - x, 10 * W, max(1.5, height / 25))
        rgb = rgb * (1 - band[..., None]) + np.array(MARGIN_COLOUR) * band[..., None]
    rgb = rgb * (1 - coverage[..., None]) + np.array(INKS[ink]) * coverage[..., None]
    return Page(np.clip(rgb, 0.0, 1.0), page.numbers, page.boxes)

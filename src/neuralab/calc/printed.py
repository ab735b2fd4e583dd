"""What the paper brings, told apart from what was written: the page's turn, and the printed rules,
grids and margins of exercise books.

- `skew`: the angle that makes the lines of writing (and printed rules) horizontal, from the
  sharpness of the ink's row profile over candidate angles, on a small copy of the ink mask.
- `turn`: rotate an array about its centre, keeping all of it, with the matrix that maps its
  pixels back, so that boxes found on the upright page can be given in the picture's pixels;
  `lean`: shear one (a digit's slant), keeping all of it.
- `without_printed_lines`: ink that lies on long straight lines (morphological openings with line-shaped
  structuring elements, a few slants each way so that bowed and keystoned lines are found), kept
  only when the line is printed: unbroken (digits lined up in a column leave gaps), and lighter
  than the pen's ink, one of a regularly spaced family (a ruling or a grid), or a vertical line
  across most of the page (a margin). A single dark horizontal line is a rule the writer drew
  under a sum, and stays. One run of line-like ink may hold several lines (a digit's strokes join
  two grid lines): each is found in turn. The border of a dark area (the table beside the page, a
  shadow) is no printed line. Taking a line out keeps the strokes of the pen: those that cross it,
  and those that run along it, darker than the line's own strength there. Pieces of the line's
  blurred edge left just beside it (where it bows away from its fitted curve) go with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from skimage.measure import label, regionprops
from skimage.transform import rescale

from neuralab.core.parallel import each

MAX_SKEW = 12.0        # degrees: the 10 degree turn, and some slack
LIGHT = 0.6            # a line under 60% of the pen's ink strength is printed, not written
LONG = 0.25            # a printed line spans at least a quarter of the page's side
THIN = 25.0            # ... and is at least 25 times longer than it is thick (a pen's '1' is ~8x)
DARKER = 1.5           # a line 1.5x as dark as its ruling is a rule drawn over it, not printed
OVER = 1.3             # a pixel 1.3x as dark as the printed line under it is a pen stroke over the line
UNBROKEN = 0.85        # a printed line is seen along 85% of its span; digits lined up in a column leave gaps
RULED = 0.5            # a ruling's lines cross half the page (the aligned tops of written digits do not)
PAGE_WIDE = 0.85       # a vertical line across 85% of the page is a margin, however dark
STRETCH = 0.3          # a line's own strength is its median over 30% of its length: a digit's side is less
NEAR_LINE = 6          # pixels: a printed line at the working size is thinner, with its blur
REMNANT = 3            # pixels: ink wholly this close to a line taken out, and no darker, is its edge
LINES_PER_RUN = 4      # printed lines told apart within one run of joined ink
GRAIN = 5              # pixels: a line's strength is averaged over 2 * 5 + 1 along it
BORDER = 0.5           # ink beside half of a line's length, on one side: the border of the table or a shadow
FAINT = 0.08           # a printed line is at least 8% darker than its paper (the pen's floor is 12%)
SLANTS = {"horizontal": (-2.0, 0.0, 2.0), "vertical": (-9.0, -6.0, -3.0, 0.0, 3.0, 6.0, 9.0)}


def turn(x: np.ndarray, degrees: float, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Rotate (h, w) counter-clockwise by `degrees`, enlarged to hold all of it -> (the rotated array,
    the 3x3 matrix taking its (col, row) back to the input's)."""
    h, w = x.shape
    a = np.deg2rad(degrees)
    c, s = np.cos(a), np.sin(a)
    H, W = int(np.ceil(abs(h * c) + abs(w * s))), int(np.ceil(abs(w * c) + abs(h * s)))
    to_centre = np.array([[1, 0, -(W - 1) / 2], [0, 1, -(H - 1) / 2], [0, 0, 1]])
    rotation = np.array([[c, s, 0], [-s, c, 0], [0, 0, 1]])
    from_centre = np.array([[1, 0, (w - 1) / 2], [0, 1, (h - 1) / 2], [0, 0, 1]])
    back = from_centre @ rotation @ to_centre
    swap = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 1]])                 # (col, row) <-> (row, col)
    out = ndimage.affine_transform(x, swap @ back @ swap, output_shape=(H, W), order=order, cval=0.0)
    return out.astype(x.dtype), back


def lean(x: np.ndarray, slope: float) -> np.ndarray:
    """Shear (h, w) so that each row stands `slope` columns further right than the row below it (a
    positive slope leans the top to the right), widened to keep all of it."""
    h, w = x.shape
    start = -slope * (h - 1) if slope < 0 else 0.0                     # the bottom row's first column
    # out (row, col) -> in (row, col - slope * (h - 1 - row) - start)
    return ndimage.affine_transform(x, np.array([[1.0, 0.0], [slope, 1.0]]), offset=(0.0, -slope * (h - 1) - start),
                                    output_shape=(h, w + int(np.ceil(abs(slope) * (h - 1)))), order=1)


def skew(mask: np.ndarray) -> float:
    """The turn (degrees) that makes the ink's lines horizontal: coarse then fine search."""
    small = rescale(mask.astype(np.float32), min(1.0, 240 / max(mask.shape)), order=1, anti_aliasing=True)
    if small.sum() == 0:
        return 0.0

    def sharpness(degrees: float) -> float:
        rows = turn(small, degrees, order=1)[0].sum(1)
        return float(np.square(np.diff(rows)).sum())

    def sharpest(degrees: np.ndarray) -> float:                         # the first of equals, as max() gives
        return float(degrees[int(np.argmax(each(sharpness, degrees)))])

    coarse = sharpest(np.arange(-MAX_SKEW, MAX_SKEW + 0.1, 1.0))
    return sharpest(np.arange(coarse - 0.8, coarse + 0.9, 0.2))


def _runs(f: np.ndarray, length: int, slant: float) -> np.ndarray:
    """Pixels on straight runs of faint-or-darker ink at least `length` long along the rows, slanted
    by `slant` degrees. The ink strength `f` is sheared so that such lines run along the rows and
    averaged along them first: a thin printed line, which thresholds into dashes, is found whole,
    and paper grain averages away."""
    h, w = f.shape
    shift = np.round(np.arange(w) * np.tan(np.deg2rad(slant))).astype(int)
    shift -= shift.min()                                               # (w,) each column's first row when sheared
    starts = np.flatnonzero(np.diff(shift, prepend=-1))                # columns sharing a shift are copied as one block
    blocks = [(a, b, shift[a]) for a, b in zip(starts, [*starts[1:], w])]
    sheared = np.zeros((h + shift.max(), w), np.float32)
    for a, b, down in blocks:
        sheared[down:down + h, a:b] = f[:, a:b]
    faint = ndimage.uniform_filter1d(sheared, 2 * GRAIN + 1, axis=1) > FAINT
    opened = ndimage.maximum_filter1d(ndimage.minimum_filter1d(faint, length, axis=1), length, axis=1)
    out = np.empty((h, w), bool)
    for a, b, down in blocks:
        out[:, a:b] = opened[down:down + h, a:b]
    return out


def _areas(runs: np.ndarray, length: int) -> np.ndarray:
    """Where runs lie side by side as an area as wide as a run is long (the table beyond the page, the
    dark side of a shadow; a pen's stroke is far thinner), and 2 px around it: a printed line that
    runs into one is found up to it, not taken for part of a blob."""
    area = ndimage.maximum_filter(ndimage.minimum_filter(runs, length), length)
    return ndimage.maximum_filter(area, 5)


def without_printed_lines(flat: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ink `mask` (h, w) of strength `flat` on an upright page, with its printed lines taken out;
    and where those lines ran (h, w), as light as the lines themselves."""
    length = max(15, min(mask.shape) // 12)
    # vertical lines are found as horizontal ones of the transposed arrays (views: `out` is written)
    arrays = {"horizontal": (flat, mask), "vertical": (flat.T, mask.T)}
    slanted = [(orientation, slant) for orientation, slants in SLANTS.items() for slant in slants]
    runs = each(lambda task: _runs(arrays[task[0]][0], length, task[1]), slanted)

    def printed(orientation: str) -> list[_Line]:
        lines = np.logical_or.reduce([r for (o, _), r in zip(slanted, runs) if o == orientation])
        return _printed(lines & ~_areas(lines, length), *arrays[orientation], vertical=orientation == "vertical")

    out = mask.copy()
    bands = []
    for orientation, found in zip(arrays, each(printed, list(arrays))):
        f, m = arrays[orientation]
        band = np.zeros_like(m)
        for line in found:
            line.take_out(out if orientation == "horizontal" else out.T, m, f, band)
        bands.append(band if orientation == "horizontal" else band.T)
    out &= ~(bands[0] & bands[1])                   # where a grid's lines cross, each saw the other as a stroke
    return _without_remnants(out, flat, bands[0] | bands[1]), bands[0] | bands[1]


def _without_remnants(out: np.ndarray, flat: np.ndarray, band: np.ndarray) -> np.ndarray:
    """`out` without its pieces that lie wholly within `REMNANT` px of a line taken out (`band`) and
    are no darker than that line (`OVER`): the line's blurred edge, left where the line bows away
    from its fitted curve (a margin's end, a grid line in a shadow). A pen's stroke along a line is
    darker, and a stroke across it reaches beyond."""
    if not band.any():
        return out
    near = ndimage.maximum_filter(band, 2 * REMNANT + 1)
    labels, count = ndimage.label(out, structure=np.ones((3, 3)))
    index = np.arange(1, count + 1)
    inside = np.flatnonzero(ndimage.minimum(near, labels, index) > 0) + 1       # labels wholly near a line
    strength = ndimage.mean(flat, labels, inside)
    places = ndimage.find_objects(labels)
    edge = []
    for k, ink in zip(inside, np.atleast_1d(strength)):
        grown = tuple(slice(max(s.start - REMNANT, 0), s.stop + REMNANT) for s in places[k - 1])
        line = flat[grown][band[grown]]                                 # the line's pixels around the piece
        if line.size and ink <= OVER * float(np.percentile(line, 90)):     # the line's core, not its edge
            edge.append(k)
    return out & ~np.isin(labels, edge)


@dataclass
class _Line:
    """A long straight line along the rows: its centre curve, span and thickness."""
    fit: np.ndarray          # quadratic coefficients: row over column
    span: np.ndarray         # the columns it covers, and a little beyond (a faint end breaks into dashes)
    half: float              # half its thickness, and 2 px
    dark: float = 0.0        # its ink strength along its centre
    pen: float = 0.0         # the pen's ink strength on the page

    @property
    def centre(self) -> np.ndarray:
        return np.polyval(self.fit, self.span)                          # (n,) its row per column

    def take_out(self, out: np.ndarray, mask: np.ndarray, flat: np.ndarray, band: np.ndarray) -> None:
        """Clear the line's band from `out`. Where ink lies on both sides of the band a stroke crosses
        the line, and that column is kept, so the stroke stays whole; where ink touches it from one
        side, pixels darker than the line (`OVER`) stay, in a run that a stroke touches: a stroke
        along a light line (a 0's side or a '+' drawn on a grid line). The line's own strength is
        taken along a stretch of it (`STRETCH`) longer than any stroke along it, so a stretch of line
        darker than the rest (a shadow's edge, heavier print) is still line. The band's pixels as
        light as the line are marked in `band`."""
        h = out.shape[0]
        centre, span = self.centre, self.span
        above, below = _ink_beside(mask, centre, span, -self.half), _ink_beside(mask, centre, span, self.half)
        if max(above.mean(), below.mean()) > BORDER:                  # the border of a dark area, not a line
            return
        crossed, touched = above & below, above | below
        stretch = max(3, int(STRETCH * len(span)))
        own = np.maximum(ndimage.median_filter(_strength(self.fit, flat, span), stretch, mode="nearest"), self.dark)
        cut = np.where(self.pen > OVER * own, OVER * own, np.inf)      # (n,) per column
        offsets = np.arange(-np.floor(self.half), np.floor(self.half) + 1)
        rows = np.round(centre[None, :] + offsets[:, None]).astype(int)   # (k, n) the band, row by row
        cols = np.broadcast_to(span, rows.shape)
        within = (rows >= 0) & (rows < h)
        light = np.ones_like(within)
        light[within] = flat[rows[within], cols[within]] < np.broadcast_to(cut, rows.shape)[within]
        stroke = _runs_touching(~light.all(0), touched, stretch // 2)
        gone = within & ~crossed & (light | ~stroke)
        band[rows[within & light], cols[within & light]] = True
        out[rows[gone], cols[gone]] = False


def _printed(lines: np.ndarray, flat: np.ndarray, mask: np.ndarray, vertical: bool) -> list[_Line]:
    """Of the straight runs `lines` along the rows, the printed lines (see the module doc); the
    arrays are transposed when the page's `vertical` lines are sought."""
    written = mask & ~lines
    pen = float(np.percentile(flat[written], 90)) if written.any() else 0.0
    bridge = max(3, min(lines.shape) // 12)                            # dashes of one line join across gaps this long
    # a dilation by a (1, bridge) line, as a running maximum: its cost does not grow with `bridge`
    joined = ndimage.maximum_filter1d(lines, bridge, axis=1, mode="constant", origin=bridge % 2 - 1)
    labels = label(joined, connectivity=1) * lines
    page = mask.shape[1]
    long = []
    for r in regionprops(labels):
        extent = r.bbox[3] - r.bbox[1]
        if extent < LONG * page or extent < THIN * r.area / extent:      # short, or a blob (a shadow's grain)
            continue
        coords = r.coords
        for _ in range(LINES_PER_RUN):         # strokes that cross from one printed line to the next join them
            if len(coords) == 0 or np.ptp(coords[:, 1]) + 1 < LONG * page:
                break
            line, on = _fitted(coords, page)
            seen = np.unique(coords[on, 1])
            extent = seen.max() - seen.min() + 1
            if extent >= LONG * page and extent >= THIN * on.sum() / extent:
                line.dark, line.pen = _darkness(line, flat, seen), pen
                long.append((line, extent, float(np.median(line.centre)), len(seen) / extent >= UNBROKEN))
            coords = coords[~on]
    places = sorted(place for _, _, place, _ in long)
    pitch = float(np.median(np.diff(places))) if len(places) >= 3 else None
    family = float(np.median([line.dark for line, _, _, _ in long])) if long else 0.0
    found = []
    for line, extent, place, unbroken in long:
        if not unbroken:
            continue
        light = line.dark < LIGHT * pen
        regular = (pitch is not None and extent >= RULED * page and line.dark <= DARKER * family
                   and any(abs(abs(place - other) - pitch) <= 0.15 * pitch for other in places if other != place))
        margin = vertical and extent >= PAGE_WIDE * page
        if light or regular or margin:
            found.append(line)
    return found


def _fitted(coords: np.ndarray, width: int) -> tuple[_Line, np.ndarray]:
    """A line's curve and thickness from the pixels (n, 2) (row, col) of a run it lies on, with the
    pixels (n,) on it. Its thickness is the median over columns: a digit touching it widens a few."""
    rows, cols = coords[:, 0].astype(float), coords[:, 1]
    fit = _centre_line(rows, cols, 2.0)
    off = np.abs(rows - np.polyval(fit, cols))
    per_col = np.bincount(cols[off <= NEAR_LINE])
    half = float(np.median(per_col[per_col > 0])) / 2 + 2 if per_col.any() else 2.0
    on = off <= half
    if not on.any():
        return _Line(fit, cols[:1], half), on
    first, last = cols[on].min(), cols[on].max()
    extra = (last - first) // 8
    return _Line(fit, np.arange(max(first - extra, 0), min(last + extra + 1, width)), half), on


def _strength(fit: np.ndarray, flat: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """A line's ink strength (n,) at the columns `cols`: the darkest of the 3 pixels across its centre."""
    rows = np.round(np.polyval(fit, cols)).astype(int)
    return np.max([flat[np.clip(rows + d, 0, flat.shape[0] - 1), cols] for d in (-1, 0, 1)], axis=0)


def _darkness(line: _Line, flat: np.ndarray, cols: np.ndarray) -> float:
    """A line's ink strength: the median along it over the columns `cols` where it was seen (not the
    gaps its dashes were joined across)."""
    return float(np.median(_strength(line.fit, flat, cols)))


def _centre_line(rows: np.ndarray, cols: np.ndarray, tol: float) -> np.ndarray:
    """The curve (quadratic coefficients, row over col) a printed line's pixels follow. A digit that
    touches the line shares its pixels, so the straight line that most pixels fall within `tol` px
    of is found first (seeded random pairs), and the curve is fitted to those pixels alone."""
    rng = np.random.default_rng(0)
    best, best_count = None, -1
    for i, j in rng.integers(0, len(rows), (64, 2)):
        if cols[i] == cols[j]:
            continue
        slope = (rows[j] - rows[i]) / (cols[j] - cols[i])
        count = int((np.abs(rows - rows[i] - slope * (cols - cols[i])) <= tol).sum())
        if count > best_count:
            best, best_count = (slope, rows[i] - slope * cols[i]), count
    slope, intercept = best if best is not None else (0.0, float(np.median(rows)))
    near = np.abs(rows - slope * cols - intercept) <= tol
    return np.polyfit(cols[near], rows[near], 2) if near.sum() >= 10 else np.array([0.0, slope, intercept])


def _runs_touching(dark: np.ndarray, touched: np.ndarray, longest: int) -> np.ndarray:
    """Per column: is it in a run of `dark` columns, at most `longest` long, that a stroke touches?"""
    steps = np.diff(np.concatenate([[0], dark.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(steps == 1), np.flatnonzero(steps == -1)
    keep = np.zeros_like(dark)
    for a, b in zip(starts, ends):
        if b - a <= longest and touched[a:b].any():
            keep[a:b] = True
    return keep


def _ink_beside(mask: np.ndarray, centre: np.ndarray, span: np.ndarray, offset: float) -> np.ndarray:
    """Per column of `span`: is there ink just outside the band, 1-3 px beyond `centre + offset`?"""
    step = np.sign(offset)
    rows = [np.clip(np.round(centre + offset + step * k).astype(int), 0, mask.shape[0] - 1) for k in (1, 2, 3)]
    return np.any([mask[r, span] for r in rows], axis=0)

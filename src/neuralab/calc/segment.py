"""Find handwritten numbers in a picture, the way document analysis finds text, and frame each
digit as MNIST framed its digits.

1. Lighting: the picture is scaled to a working size and turned so that ink is bright (paper is
   most of the picture, so its side of the picture's own light decides); the paper's own brightness (shadows, uneven light, grey
   paper) is estimated by a wide grey opening and divided out. A desk beyond the page's edges
   (`calc.sheet`) is left out.
2. Ink: a Sauvola adaptive threshold (faint strokes beside dark ones) or a global Otsu threshold
   (the insides of thick strokes), never below a floor of contrast (so paper grain is not ink).
3. Components: labelled with scikit-image; specks are dropped, and the strokes of one digit (a 5
   whose top is detached, a 4 drawn in two strokes) are merged by their horizontal overlap. A small
   part far from every digit (a remnant of a grid line) is no stroke of one, and is dropped.
4. Layout: components are grouped into lines; a line is split into numbers at a '+' sign (a small
   cross, or one as tall as the digits standing apart before a number) or a wide gap; a long rule
   ends the sum (what is written under it is the answer, not an operand).
5. Framing: each digit's ink, with the fainter stretches of its strokes that the threshold broke
   off, and thin pen strokes thickened towards MNIST's stroke width, leaning no further than
   MNIST's writers lean, is scaled to fit 20x20 and placed in 28x28 with its centre of mass at the
   centre.
6. Digits that touch: given the reader's `judge`, a shape wider than a digit is cut where
   `calc.joined` finds its pieces likeliest to be digits.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy import ndimage
from skimage.filters import threshold_otsu, threshold_sauvola
from skimage.measure import label, regionprops
from skimage.morphology import dilation, disk, skeletonize
from skimage.transform import rescale, resize

from neuralab.calc import joined, printed, sheet
from neuralab.core import deadline
from neuralab.core.errors import UserError
from neuralab.core.images import shrink
from neuralab.core.parallel import each

WORK_SIDE = 1200       # longer side pictures are scaled down to: a digit of a 10-line page stays ~45 px tall
MIN_SIDE = 256         # shorter side small pictures (a 28x28 array, a canvas box) are scaled up to
MIN_CONTRAST = 0.12    # ink must be at least 12% darker than its paper: below that is grain and noise
BACKGROUND = 0.12      # the paper is estimated at 12% of the short side: wider than any pen stroke
NEAR = 3               # pixels: faint specks this close to a shape that runs off the page go with it
FAINT_SHAPE = 0.5      # a shape whose mean ink is under half the pen's is faint: the table's grain, a shadow's
BROAD = 3              # pixels: faint ink this wide everywhere is an area (shading, the table), not a stroke
TALL = 3.0             # a shape over 3 digit heights tall is no digit (a stray line, a page edge)
MAX_MARKS = 300        # marks on one picture: 20 numbers of 12 digits, with room for a '+' and strokes
MIN_DIGIT = 12         # pixels at the picture's size, or at the working size of a small picture
SPECK = 0.3            # a component whose longer side is under 30% of a digit's height is a speck
GAP = 0.9              # a gap wider than 0.9 digit heights separates two numbers on one line ...
SPREAD = 2.0           # ... and wider than twice the line's typical gap (a hand that spaces its digits widely)
SIDE = 0.3             # lines side by side whose heights overlap by 30% of the shorter are one line
MERGED = 0.9           # a part under half the height joins its nearest digit: a stroke of it, if together
SMALL = 0.4            # they are at most 0.9 heights wide or the part is under 0.4; else a digit written small,
FOOT = 0.4             # which stands on the line: its foot within 0.4 heights of its neighbour's
STRAY = 0.5            # a part under 0.4 heights, half a height from every digit, is a speck: a grid's remnant
PLUS = 0.8             # a '+' is under 80% of the digits' height
FULL = 0.75            # a digit of 75% of the typical height is full-size: such digits make the lines
FRAME_SIDE = 64        # a digit is framed from at most 64 px a side: 3x MNIST's 20, cost bounded
FAINT_STROKE = 0.4     # a stroke's faint stretch is at least 40% as strong as its ink (paper grain is under)
BRIDGE = 0.08          # ... and runs at most 8% of the digit's height beyond the ink the threshold found
LEAN = 0.36            # MNIST's digits lean up to ~20 degrees (tan 20 = 0.36); steeper ones are sheared back
STROKE = 0.12          # MNIST's strokes are ~12% of the digit's height; thinner pens are thickened


@dataclass
class Digit:
    box: tuple[int, int, int, int]   # (x0, y0, x1, y1) in the picture's pixels, x1 and y1 exclusive
    image: np.ndarray                # (28, 28) uint8: light ink on black, MNIST framing
    ceiling: float = 1.0             # the most its reading is trusted: cut from a shape, no more than the shape read whole


@dataclass
class Number:
    line: int                        # which line of the picture, from the top
    digits: list[Digit] = field(default_factory=list)


@dataclass
class _Ink:
    flat: np.ndarray                 # (h, w) ink strength in [0, 1] at the working size, upright
    labels: np.ndarray               # (h, w) component labels of the ink mask
    scale: float                     # working size / picture size
    back: np.ndarray = field(default_factory=lambda: np.eye(3))   # upright (col, row) -> working size's
    printed_lines: np.ndarray | None = None   # (h, w) where printed lines were taken out (None: no page)

    def picture_box(self, box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        """A box (x0, y0, x1, y1) on the upright working page -> the picture's pixels."""
        x0, y0, x1, y1 = box
        corners = self.back @ np.array([[x0, x1, x1, x0], [y0, y0, y1, y1], [1, 1, 1, 1]], dtype=float)
        xs, ys = corners[0] / self.scale, corners[1] / self.scale
        return int(max(xs.min(), 0)), int(max(ys.min(), 0)), int(np.ceil(xs.max())), int(np.ceil(ys.max()))


@dataclass(eq=False)
class _Glyph:
    """One digit (or '+') being assembled: its component labels and its box (x0, y0, x1, y1)."""
    labels: list[int]
    box: tuple[int, int, int, int]
    plus: bool = False
    rule: bool = False               # a long thin stroke under the sum (it may be slanted)
    cross: bool = False              # shaped as a '+', whatever its size (a '+' if it stands apart)

    @property
    def height(self) -> int:
        return self.box[3] - self.box[1]

    def absorb(self, other: "_Glyph") -> None:
        self.labels += other.labels
        self.cross = False
        self.box = (min(self.box[0], other.box[0]), min(self.box[1], other.box[1]),
                    max(self.box[2], other.box[2]), max(self.box[3], other.box[3]))


def _ink(gray: np.ndarray, where: str, page: bool = True) -> _Ink:
    """Steps 1-3a: working size, ink bright, lighting divided out, adaptive threshold; on a `page`
    (not a box holding one digit) the page is turned upright and printed lines are taken out; labels."""
    h, w = gray.shape
    scale = min(WORK_SIDE / max(h, w), 1.0) if max(h, w) > WORK_SIDE else max(MIN_SIDE / min(h, w), 1.0)
    g = shrink(gray, scale) if scale < 1 else rescale(gray.astype(np.float32), scale, order=1) if scale > 1 else gray
    small = _small(g)
    light_paper = _dark_ink(small)
    d = 1.0 - g if light_paper else g                                   # (h', w') ink is bright
    paper = _paper(1.0 - small, d.shape) if light_paper else np.full_like(d, np.median(d))
    flat = np.clip((d - paper) / np.maximum(1.0 - paper, 0.05), 0.0, 1.0)
    if flat.max() < MIN_CONTRAST:
        raise UserError(f"{where}: no digit found (the picture holds no ink)")
    window = 2 * (min(flat.shape) // 16) + 1
    adaptive = (1.0 - flat) < threshold_sauvola(1.0 - flat, window_size=max(window, 15), k=0.2)
    strong = flat > threshold_otsu(flat)
    mask = (adaptive | strong) & (flat > MIN_CONTRAST)
    back, frame_edge, lines = np.eye(3), None, None
    deadline.check(where)
    if page:
        angle = printed.skew(mask)
        frame_edge = np.ones_like(mask)
        turned = abs(angle) >= 0.5
        if turned:
            # the ink's strength, and the mask and frame in one uint8 turn, side by side
            (flat, back), (both, _) = each(lambda job: printed.turn(*job), [
                (flat, angle, 1), (mask + 2 * frame_edge.astype(np.uint8), angle, 0)])
            mask, frame_edge = (both & 1) > 0, both >= 2
        x0, y0, x1, y1 = (sheet.bounds(g, angle if turned else 0.0, mask.shape) if light_paper
                          else (0, 0, mask.shape[1], mask.shape[0]))   # a desk is darker than light paper
        sheet_only, on_page = np.s_[y0:y1, x0:x1], np.zeros_like(mask)
        on_page[sheet_only] = True
        frame_edge &= on_page                                           # the page's edge is the frame's
        mask &= on_page                                                 # the desk beyond it is no ink
        deadline.check(where)
        lines = np.zeros_like(mask)
        mask[sheet_only], lines[sheet_only] = printed.without_printed_lines(flat[sheet_only], mask[sheet_only])
        deadline.check(where)
        frame_edge &= ~ndimage.minimum_filter(frame_edge, size=7, mode="constant", cval=0)
    labels = label(mask, connectivity=2)
    if frame_edge is not None:
        labels = _off_the_page(labels, flat, frame_edge)
    return _Ink(flat, labels, scale, back, lines)


def _off_the_page(labels: np.ndarray, flat: np.ndarray, frame_edge: np.ndarray) -> np.ndarray:
    """Labels without the shapes that run into the picture's edge: the table beside the page, the
    page's own edge, a shadow's border, and the slivers of background a leaning page leaves at its
    sides (small ones too: they were read as 1s). Faint shapes a few pixels from those, or from a
    broad faint area that runs into the edge, go with them (the grain of a table's edge, the broken
    line of a page's shaded edge); a pen's strokes do not, however close. Writing stays inside the
    picture."""
    count = int(labels.max())
    if count == 0:
        return labels
    strength = ndimage.mean(flat, labels, np.arange(1, count + 1))         # (count,) each shape's mean ink
    faint = np.flatnonzero(strength < FAINT_SHAPE * np.percentile(flat[labels > 0], 90)) + 1
    edge = np.unique(labels[frame_edge])
    edge = edge[edge > 0]
    # broad faint areas (a leaning page's shaded edge, the table beyond it) reach the frame too: thin
    # printed lines do not survive the opening
    size = 2 * BROAD + 1                                                # separable square filters: cheap
    broad = ndimage.maximum_filter(ndimage.minimum_filter(flat > MIN_CONTRAST, size), size)
    reach = label(ndimage.binary_dilation(np.isin(labels, np.union1d(edge, faint)) | broad, iterations=NEAR),
                  connectivity=2)
    off = np.unique(reach[frame_edge])
    labels[np.isin(labels, edge) | (np.isin(reach, off[off > 0]) & np.isin(labels, faint))] = 0
    return labels


def _dark_ink(small: np.ndarray) -> bool:
    """Is the ink darker than its paper, on the picture at `_small` size (where the wide blur costs
    little)? The paper is most of the picture: divided by its own wide blur, light paper stays near 1
    and a black background near 0, whatever the light. (The median alone fails on dim photos, whose
    paper is darker than mid-grey.)"""
    light = ndimage.gaussian_filter(small, 0.25 * min(small.shape))
    return bool(np.median(small / np.maximum(light, 0.02)) > 0.5)


def _small(x: np.ndarray) -> np.ndarray:
    """The picture at 64 pixels on its short side (the scale of paper and light, not of strokes)."""
    return rescale(x, 64 / min(x.shape), order=1, anti_aliasing=True) if min(x.shape) > 64 else x


def _paper(small: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The paper's darkness at `shape` (h, w), from the ink's (`_small`): a grey opening wider than any
    stroke, smoothed, enlarged."""
    size = max(3, round(BACKGROUND * min(small.shape)))
    opened = ndimage.gaussian_filter(ndimage.grey_opening(small, size=(size, size)), size / 2)
    return resize(opened, shape, order=1)


def _glyphs(ink: _Ink, where: str, most: int | None = None) -> list[_Glyph]:
    """Components as glyphs, specks dropped; more than `most` is refused before any per-glyph work
    (sizes come from `find_objects`, in one pass, however many specks noise makes)."""
    boxes = ndimage.find_objects(ink.labels)                          # per label: (rows, cols) slices, or None
    if not any(boxes):
        return []
    heights = np.array([b[0].stop - b[0].start if b else 0 for b in boxes])
    widths = np.array([b[1].stop - b[1].start if b else 0 for b in boxes])
    areas = np.bincount(ink.labels.ravel(), minlength=len(boxes) + 1)[1:]
    reference = float(np.median(heights[areas >= 0.1 * areas.max()]))
    kept = np.flatnonzero((np.maximum(heights, widths) >= max(SPECK * reference, 1)) & (heights <= TALL * reference)) + 1
    if most is not None and len(kept) > most:
        raise UserError(f"{where}: no sum found: {len(kept)} separate marks, more than any sum holds "
                        f"({most}); is it a picture of texture or noise?")
    only_kept = np.zeros(len(boxes) + 1, ink.labels.dtype)
    only_kept[kept] = kept
    glyphs = [_Glyph([r.label], (r.bbox[1], r.bbox[0], r.bbox[3], r.bbox[2]), _is_plus(r),
                     r.axis_major_length >= 2 * reference and r.axis_minor_length <= 0.25 * reference
                     and r.bbox[3] - r.bbox[1] >= 2 * (r.bbox[2] - r.bbox[0]))     # a rule lies along the line
              for r in regionprops(only_kept[ink.labels])]
    # a '+' is written smaller than the digits (a cross as tall as they are is a 4 or a 7, unless it
    # stands apart: `_crosses_apart`), measured against the shapes that are neither crosses nor rules:
    # a few small digits do not make a '+' a digit
    digits = [g.height for g in glyphs if not (g.plus or g.rule) and g.height >= SPECK * reference]
    tallest_plus = PLUS * float(np.median(digits)) if digits else 0.0
    for g in glyphs:
        g.cross, g.plus = g.plus, g.plus and g.height < tallest_plus
    return glyphs


def _is_plus(region) -> bool:
    """A '+': a cross whose ink lies on its middle row and column, spanning most of both."""
    img = region.image                                                   # (h, w) bool
    h, w = img.shape
    if not 0.5 <= w / h <= 2.0 or img.sum() < 8:
        return False
    rows, cols = np.arange(h)[:, None], np.arange(w)[None, :]
    cy, cx = region.centroid_local
    band = (np.abs(rows - cy) <= 0.18 * h) | (np.abs(cols - cx) <= 0.18 * w)
    on_band = img[band].sum() / img.sum()
    across = img[np.abs(rows[:, 0] - cy) <= 0.18 * h].any(0).mean()     # the bar spans the box
    down = img[:, np.abs(cols[0] - cx) <= 0.18 * w].any(1).mean()       # the stem spans the box
    return bool(on_band > 0.92 and across > 0.7 and down > 0.7)


def _lines(glyphs: list[_Glyph]) -> list[list[_Glyph]]:
    """Group glyphs into lines (top to bottom), each sorted left to right; rules end the sum."""
    reference = float(np.median([g.height for g in glyphs if not (g.plus or g.rule)] or [1]))
    rules = [g for g in glyphs if g.rule]
    # digits make the lines, full-size ones first, top to bottom: a '+' sits between two lines' heights
    # as often as on one, and a shorter part of a digit (a 3's detached top) would start a line of its own
    tall = sorted((g for g in glyphs if g.height >= 0.5 * reference and not (g.plus or g.rule)),
                  key=lambda g: (g.height < FULL * reference, g.box[1]))
    lines: list[tuple[list[int], list[_Glyph]]] = []                     # ([top, bottom], glyphs)
    for g in tall:
        overlaps = [min(span[1], g.box[3]) - max(span[0], g.box[1]) for span, _ in lines]
        best = int(np.argmax(overlaps)) if overlaps else -1
        if best >= 0 and overlaps[best] >= 0.5 * g.height:                # the line it overlaps most
            span, members = lines[best]
            members.append(g)
            span[0], span[1] = min(span[0], g.box[1]), max(span[1], g.box[3])
        else:
            lines.append(([g.box[1], g.box[3]], [g]))
    lines = _side_by_side(lines)
    for g in glyphs:                                                     # small parts: a 5's top, a '+'
        if g in tall or g.rule:
            continue
        centre = (g.box[1] + g.box[3]) / 2
        near = [(abs(centre - (span[0] + span[1]) / 2), k) for k, (span, _) in enumerate(lines)
                if span[0] - 0.25 * reference <= centre <= span[1] + 0.25 * reference]
        if near:                                                         # the line whose middle is nearest
            lines[min(near)[1]][1].append(g)
    if rules:
        top_rule = min(r.box[1] for r in rules)
        lines = [line for line in lines if (line[0][0] + line[0][1]) / 2 < top_rule]
    lines.sort(key=lambda line: line[0][0])
    return [sorted(members, key=lambda g: g.box[0]) for _, members in lines]


def _side_by_side(lines: list[tuple[list[int], list[_Glyph]]]) -> list[tuple[list[int], list[_Glyph]]]:
    """Join two lines ([top, bottom], glyphs) whose heights overlap by `SIDE` of the shorter and whose
    glyphs sit side by side: one line written unevenly (a number's last digits higher), not two. The
    lines of a column sum lie under one another. One pass, top to bottom."""
    out: list[tuple[list[int], list[_Glyph], list[int]]] = []             # ([top, bottom], glyphs, [left, right])
    for span, members in sorted(lines, key=lambda line: line[0][0]):
        across = [min(g.box[0] for g in members), max(g.box[2] for g in members)]
        for other_span, others, other_across in out:
            overlap = min(span[1], other_span[1]) - max(span[0], other_span[0])
            apart = across[1] <= other_across[0] or other_across[1] <= across[0]
            if apart and overlap >= SIDE * min(span[1] - span[0], other_span[1] - other_span[0]):
                other_span[:] = [min(span[0], other_span[0]), max(span[1], other_span[1])]
                other_across[:] = [min(across[0], other_across[0]), max(across[1], other_across[1])]
                others.extend(members)
                break
        else:
            out.append((span, members, across))
    return [(span, members) for span, members, _ in out]


def _merge(line: list[_Glyph]) -> list[_Glyph]:
    """Merge the strokes of one digit: a part whose middle lies over its neighbour's span (give or
    take a tenth of their height); then a part too short to be a digit joins its nearest neighbour,
    unless it stands apart, on the line, as a digit written small (`SMALL`, `MERGED`, `FOOT`)."""
    out: list[_Glyph] = []
    for g in line:
        last = out[-1] if out else None
        if last is not None and not (g.plus or last.plus):
            narrow, wide = sorted((last, g), key=lambda a: a.box[2] - a.box[0])
            middle, slack = (narrow.box[0] + narrow.box[2]) / 2, 0.1 * max(last.height, g.height)
            if wide.box[0] - slack <= middle <= wide.box[2] + slack:
                last.absorb(g)
                continue
        out.append(g)
    height = float(np.median([g.height for g in out if not g.plus] or [0]))
    for part in [g for g in out if not g.plus and g.height < 0.5 * height]:
        others = [g for g in out if g is not part and not g.plus and g.height >= 0.5 * height]
        if others:
            distance = lambda g: max(g.box[0] - part.box[2], part.box[0] - g.box[2], 0)  # noqa: E731
            nearest = min(others, key=distance)
            joined = max(nearest.box[2], part.box[2]) - min(nearest.box[0], part.box[0])
            hangs = nearest.box[3] - part.box[3] > FOOT * height               # a 5's flag, high on the line
            if part.height < SMALL * height and distance(nearest) > STRAY * height:
                out.remove(part)                                # no stroke of a digit, too small for one
            elif part.height < SMALL * height or joined <= MERGED * height or hangs:   # else a small digit
                nearest.absorb(part)
                out.remove(part)
    return out


def _numbers(line: list[_Glyph], page_height: float) -> tuple[list[list[_Glyph]], float]:
    """Split a line at '+' signs and at gaps wide for its digits' height (or the page's, where most of
    the line is written small) and for its own spacing. Also gives that digit height."""
    digits = [g for g in line if not g.plus]
    if not digits:
        return [], page_height
    spaced = [g for g in digits if not g.cross] or digits         # a cross's own gaps do not set the spacing
    tallest = max(g.height for g in spaced)
    height = max(float(np.median([g.height for g in spaced if g.height >= 0.5 * tallest])), page_height)
    gaps = [b.box[0] - a.box[2] for a, b in zip(spaced, spaced[1:])]
    wide = max(GAP * height, SPREAD * float(np.median(gaps)) if len(gaps) >= 3 else 0.0)
    _crosses_apart(line, wide)
    numbers: list[list[_Glyph]] = [[]]
    for g in line:
        if g.plus:
            numbers.append([])
            continue
        if numbers[-1] and g.box[0] - numbers[-1][-1].box[2] > wide:
            numbers.append([])
        numbers[-1].append(g)
    return [n for n in numbers if n], height


def _crosses_apart(line: list[_Glyph], wide: float) -> None:
    """A cross as tall as the digits is a '+' where it stands apart (gaps over `wide`) before a
    number, at the line's start or after another number; a '4' alone on its line, or between '+'
    signs, stays a digit."""
    for k, g in enumerate(line):
        after = line[k + 1] if k + 1 < len(line) else None
        before = line[k - 1] if k > 0 else None
        apart = after is not None and not after.plus and after.box[0] - g.box[2] > wide and (
            before is None or (not before.plus and g.box[0] - before.box[2] > wide))
        g.plus = g.plus or (g.cross and apart)


def _digit(ink: _Ink, glyph: _Glyph, own: np.ndarray | None = None) -> Digit:
    """A glyph framed as MNIST frames a digit; `own` (h, w) of its box: only that part of its ink (a
    piece of digits that touch), and the box shrinks to that piece's ink."""
    x0, y0, x1, y1 = glyph.box
    if own is None:
        own = np.isin(ink.labels[y0:y1, x0:x1], glyph.labels)
    else:
        rows, columns = np.flatnonzero(own.any(1)), np.flatnonzero(own.any(0))
        if len(rows) == 0:
            return Digit(ink.picture_box(glyph.box), np.zeros((28, 28), np.uint8))
        x0, x1, y0, y1 = x0 + columns[0], x0 + columns[-1] + 1, y0 + rows[0], y0 + rows[-1] + 1
        own = own[rows[0]:rows[-1] + 1, columns[0]:columns[-1] + 1]
    free = ink.labels[y0:y1, x0:x1] == 0
    if ink.printed_lines is not None:
        free &= ~ink.printed_lines[y0:y1, x0:x1]
    own = _with_faint_strokes(own, ink.flat[y0:y1, x0:x1], free)
    piece = ink.flat[y0:y1, x0:x1] * dilation(own, disk(1))             # neighbours' ink left out
    strong = piece[own]
    piece = np.clip(piece / max(np.percentile(strong, 90), 1e-3), 0.0, 1.0)   # ink at full scale
    if max(piece.shape) > FRAME_SIDE:                                   # thickening costs the area: bound it
        factor = FRAME_SIDE / max(piece.shape)
        piece = rescale(piece, factor, order=1, anti_aliasing=True)
        own = rescale(own.astype(np.float32), factor, order=1) > 0.5
    piece = _thicken(piece, own)
    piece = _upright(piece)
    return Digit(ink.picture_box((x0, y0, x1, y1)), frame(piece))


def _with_faint_strokes(own: np.ndarray, flat: np.ndarray, free: np.ndarray) -> np.ndarray:
    """A digit's ink `own` (h, w) with the fainter stretches of its own strokes that the threshold
    broke off (a pencil's light pressure, a thin pen under a shadow): the `free` pixels (no other
    shape's ink, no printed line) at least `FAINT_STROKE` as strong as its ink, reached from it within
    `BRIDGE` of its height."""
    if not own.any():
        return own
    floor = max(MIN_CONTRAST, FAINT_STROKE * float(np.percentile(flat[own], 90)))
    steps = max(1, round(BRIDGE * own.shape[0]))
    return ndimage.binary_dilation(own, iterations=steps, mask=own | (free & (flat >= floor)))


def _upright(piece: np.ndarray) -> np.ndarray:
    """A digit (h, w) leaning further than MNIST's writers lean (`LEAN`, by its ink's second moments)
    sheared back to that lean: the reader learnt MNIST's slants, not steeper ones."""
    ys, xs = np.nonzero(piece > 0)
    if len(ys) < 2:
        return piece
    weight = piece[ys, xs]
    y, x = ys - np.average(ys, weights=weight), xs - np.average(xs, weights=weight)
    slope = -np.average(x * y, weights=weight) / max(np.average(y * y, weights=weight), 1e-6)  # columns per row, up
    excess = np.sign(slope) * max(abs(slope) - LEAN, 0.0)
    return printed.lean(piece, -excess) if excess else piece


def _thicken(piece: np.ndarray, own: np.ndarray) -> np.ndarray:
    """Thin pen strokes grown towards MNIST's width (ink area / skeleton length = stroke width)."""
    length = skeletonize(own).sum()
    if length == 0:
        return piece
    width, target = own.sum() / length, STROKE * max(own.shape)
    radius = int(round((target - width) / 2))
    return dilation(piece, disk(radius)) if radius >= 1 else piece


def frame(piece: np.ndarray) -> np.ndarray:
    """A cropped digit (h, w) in [0, 1] -> (28, 28) uint8: fit 20x20 keeping its aspect, centre of
    mass at the centre (MNIST's own framing)."""
    rows, cols = np.nonzero(piece > 0.05)
    if len(rows):
        piece = piece[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    h, w = piece.shape
    size = (max(1, round(h * 20 / max(h, w))), max(1, round(w * 20 / max(h, w))))
    small = resize(piece, size, order=1, anti_aliasing=max(h, w) > 20)   # (<= 20, <= 20)
    out = np.zeros((28, 28))
    top, left = (28 - size[0]) // 2, (28 - size[1]) // 2
    out[top:top + size[0], left:left + size[1]] = small
    if out.sum() > 0:
        cy, cx = ndimage.center_of_mass(out)
        out = ndimage.shift(out, (round(13.5 - cy), round(13.5 - cx)), order=0, cval=0.0)
    return np.round(np.clip(out, 0.0, 1.0) * 255).astype(np.uint8)


def find_numbers(gray: np.ndarray, where: str, judge: joined.Judge | None = None) -> list[Number]:
    """A picture (H, W) grey in [0, 1] -> its numbers, line by line, left to right. With a `judge` (the
    reader's surety of each digit image), shapes wider than a digit are split where it reads them
    best: digits that touch."""
    ink = _ink(gray, where)
    glyphs = _glyphs(ink, where, MAX_MARKS)
    heights = [g.height for g in glyphs if not (g.plus or g.rule)]
    if heights and np.median(heights) < max(8.0, MIN_DIGIT * ink.scale):       # working-size pixels
        raise UserError(f"{where}: no digit found (only specks, under {MIN_DIGIT} pixels tall)")
    lines = [_merge(line) for line in _lines(glyphs)]
    page_height = float(np.median([g.height for line in lines for g in line if not g.plus] or [0]))
    found = []                                              # (line, its glyphs, the line's digit height) per number
    for k, line in enumerate(lines):
        groups, height = _numbers(line, page_height)
        found += [(k, glyphs, height) for glyphs in groups]

    def framed_in_time(glyph: _Glyph) -> Digit:
        deadline.check(where)
        return _digit(ink, glyph)

    framed = iter(each(framed_in_time, [g for _, glyphs, _ in found for g in glyphs]))
    numbers = [Number(k, [next(framed) for _ in glyphs]) for k, glyphs, _ in found]
    wide = [(n, d, g, height) for n, (_, glyphs, height) in enumerate(found) for d, g in enumerate(glyphs)
            if g.box[2] - g.box[0] > joined.WIDE * height]  # (number, digit, glyph, height) per wide glyph
    if not numbers:
        raise UserError(f"{where}: no digit found (the picture holds no ink)")
    if judge is not None and wide:
        _split_joined(ink, numbers, wide, judge, where)
    return numbers


def _split_joined(ink: _Ink, numbers: list[Number], wide: list, judge: joined.Judge, where: str) -> None:
    """Replace each wide glyph's digit by the chain of pieces `calc.joined` finds likeliest; every piece
    of every wide glyph is read in one call of the `judge`. `wide`: (number, digit, glyph, height)."""
    def offer_in_time(job: tuple) -> tuple[list, dict[int, int], list[Digit]]:
        deadline.check(where)
        n, d, glyph, height = job
        return _offer(ink, glyph, height, numbers[n].digits[d])

    offers = each(offer_in_time, wide)                                   # per wide glyph: (spans, crossed, digits)
    probabilities, one = judge(np.stack([piece.image for _, _, pieces in offers for piece in pieces]))   # (pieces, 10), (pieces,)
    starts = np.cumsum([0] + [len(spans) for spans, _, _ in offers])
    for (n, d, g, height), (spans, crossed, pieces), start in reversed(list(zip(wide, offers, starts))):
        width, read = g.box[2] - g.box[0], probabilities[start:start + len(spans)]   # later digits first
        whole = spans.index((0, width))
        heights = np.array([piece.box[3] - piece.box[1] for piece in pieces])       # in the picture's pixels
        chain = joined.best_chain(width, spans, read, heights / max(heights[whole], 1), height, crossed,
                                  one[start:start + len(spans)])
        if len(chain) > 1:
            most = joined.ceiling(read[whole], width / height)
            numbers[n].digits[d:d + 1] = [replace(pieces[spans.index(span)], ceiling=most) for span in chain]
        else:                                                            # kept whole: as far as its width allows
            numbers[n].digits[d] = replace(pieces[whole], ceiling=joined.trust(read[whole], width / height))


def _offer(ink: _Ink, glyph: _Glyph, height: float, whole: Digit) -> tuple[list, dict[int, int], list[Digit]]:
    """A wide glyph's pieces, framed: their spans (named by the cuts' mean columns), the strokes each cut
    crosses, and the digits; the glyph read whole is `whole`, framed already."""
    x0, y0, x1, y1 = glyph.box
    own = np.isin(ink.labels[y0:y1, x0:x1], glyph.labels)              # (h, w)
    paths = joined.cuts(own, height)
    columns = [int(round(path.mean())) for path in paths]
    bound = {0: np.zeros(y1 - y0, int), x1 - x0: np.full(y1 - y0, x1 - x0), **dict(zip(columns, paths))}
    spans = joined.pieces(x1 - x0, columns, height)
    crossed = {column: joined.crossings(own, path) for column, path in zip(columns, paths)}
    return spans, crossed, [whole if (a, b) == (0, x1 - x0) else
                            _digit(ink, glyph, own & joined.between(bound[a], bound[b], x1 - x0)) for a, b in spans]


def find_digit(gray: np.ndarray, where: str) -> Digit:
    """A picture holding one digit (a file of a folder, a canvas box): all its ink is that digit."""
    ink = _ink(gray, where, page=False)
    glyphs = _glyphs(ink, where)
    if not glyphs:
        raise UserError(f"{where}: no digit found (the picture holds no ink)")
    whole = glyphs[0]
    for g in glyphs[1:]:
        whole.absorb(g)
    return _digit(ink, whole)

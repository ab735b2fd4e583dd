"""Digit finding on generated pages whose every digit box is known: counts, order, lines, numbers,
merged strokes, specks, rules; and the MNIST framing of each digit."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage

from neuralab.calc.kinds import notebook as notebook_kind
from neuralab.calc.pages import PAPER, Page, photograph, scan, write_page
from neuralab.calc.paper import on_paper
from neuralab.calc.printed import skew, turn, without_printed_lines
from neuralab.calc.segment import WORK_SIDE, find_digit, find_numbers
from neuralab.core.errors import UserError
from neuralab.core.images import read_gray, read_gray_reduced

FONT = ImageFont.load_default(size=24)


def glyph(d: int) -> np.ndarray:
    """A typeset digit as a 28x28 uint8, light ink on black, like an MNIST image."""
    im = Image.new("L", (28, 28))
    ImageDraw.Draw(im).text((14, 14), str(d), fill=255, font=FONT, anchor="mm")
    return np.asarray(im)


def page_of(numbers: list[int], seed: int = 0, **kw):
    labels = [[int(c) for c in str(n)] for n in numbers]
    return write_page([np.stack([glyph(d) for d in ds]) for ds in labels], labels, np.random.default_rng(seed), **kw)


def as_gray(page) -> np.ndarray:
    image = page.image
    if image.dtype == np.uint8:
        image = image.astype(np.float32) / 255
    return image.mean(-1) if image.ndim == 3 else image


def overlap(a, b) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes."""
    w = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    area = lambda r: (r[2] - r[0]) * (r[3] - r[1])  # noqa: E731
    return w * h / (area(a) + area(b) - w * h)


RENDER = {"clean": lambda p, rng: p, "photo": photograph, "scan": scan}


@pytest.mark.parametrize("kind", RENDER)
@pytest.mark.parametrize("layout", ["column", "row"])
def test_every_digit_is_found_in_order_on_its_line(kind, layout):
    numbers = [294, 61, 7058]
    page = RENDER[kind](page_of(numbers, layout=layout), np.random.default_rng(1))
    found = find_numbers(as_gray(page), "page")
    assert [len(n.digits) for n in found] == [3, 2, 4]
    assert [n.line for n in found] == ([0, 1, 2] if layout == "column" else [0, 0, 0])
    for number, boxes in zip(found, page.boxes):
        for digit, box in zip(number.digits, boxes):
            assert overlap(digit.box, box) > 0.5, (digit.box, box)


def test_column_without_plus_or_rule_and_what_is_under_the_rule_is_not_read():
    assert len(find_numbers(as_gray(page_of([12, 345], plus=False, rule=False)), "p")) == 2
    page = page_of([12, 345, 357], rule=True)
    gray = as_gray(page)
    below = page.boxes[2][0][1] - 10                         # move the rule above the third line
    rule = np.nonzero((gray < 0.5).sum(1) > 0.5 * gray.shape[1])[0]
    moved = gray.copy()
    moved[rule] = gray[0, 0]
    moved[below:below + len(rule), 40:-40] = gray.min()
    assert [len(n.digits) for n in find_numbers(moved, "p")] == [2, 3]


def test_a_wide_gap_splits_numbers_and_a_narrow_one_does_not():
    row = np.full((60, 400), 1.0)
    for x in (20, 50, 80, 250, 280):                         # two groups, 170 px apart
        row[15:45, x:x + 8] = 0.0
    found = find_numbers(row, "row")
    assert [len(n.digits) for n in found] == [3, 2]


def test_strokes_of_one_digit_are_merged():
    canvas = np.full((120, 300), 1.0)
    canvas[20:26, 30:70] = 0.0                               # a 5's detached top bar
    canvas[30:60, 30:36] = 0.0                               # ... its stem
    canvas[55:61, 30:66] = 0.0
    canvas[61:95, 62:68] = 0.0                               # ... its bowl, joined to the stem
    canvas[85:91, 30:66] = 0.0
    canvas[20:70, 100:106] = 0.0                             # a 4: the left stroke and the bar
    canvas[64:70, 100:133] = 0.0
    canvas[30:100, 135:141] = 0.0                            # ... and its upright, not touching them
    found = find_numbers(canvas, "strokes")
    assert [len(n.digits) for n in found] == [2]


def test_specks_are_ignored_and_an_empty_picture_is_refused():
    rng = np.random.default_rng(0)
    gray = as_gray(page_of([81]))
    for y, x in rng.integers(5, 60, (30, 2)):
        gray[y, x] = 0.2                                      # dust in the margin
    assert [len(n.digits) for n in find_numbers(gray, "p")] == [2]
    for blank in (np.full((100, 100), 0.8), rng.normal(0.8, 0.01, (300, 300)).clip(0, 1)):
        with pytest.raises(UserError, match="no digit found"):
            find_numbers(blank, "blank.png")


def test_each_digit_is_framed_as_mnist():
    page = photograph(page_of([3]), np.random.default_rng(2))
    digit = find_numbers(as_gray(page), "p")[0].digits[0].image
    assert digit.shape == (28, 28) and digit.dtype == np.uint8
    rows, cols = np.nonzero(digit > 30)
    assert 18 <= rows.max() - rows.min() + 1 <= 21            # the tall side fits 20 pixels
    ys, xs = np.indices(digit.shape)
    mass = digit.astype(float).sum()
    assert abs((ys * digit).sum() / mass - 13.5) <= 1 and abs((xs * digit).sum() / mass - 13.5) <= 1
    assert digit[0].max() == 0 and digit[:, 0].max() == 0     # light ink on black, margins empty


def test_light_ink_on_black_and_the_same_digit_on_paper_frame_alike(tmp_path):
    digit = glyph(7)
    Image.fromarray(np.pad(digit, 20)).save(tmp_path / "dark.png")
    Image.fromarray(255 - np.pad(digit, 20)).save(tmp_path / "paper.png")
    a = find_digit(read_gray(tmp_path / "dark.png"), "dark").image.astype(int)
    b = find_digit(read_gray(tmp_path / "paper.png"), "paper").image.astype(int)
    assert np.abs(a - b).mean() < 3


def test_a_dim_photo_whose_paper_is_darker_than_mid_grey_is_still_dark_ink_on_paper():
    page = photograph(page_of([294, 61]), np.random.default_rng(3))
    dim = as_gray(page) * 0.5                                # paper ~0.4: under mid-grey
    assert np.median(dim) < 0.5
    assert [len(n.digits) for n in find_numbers(dim, "dim")] == [3, 2]


def test_thick_light_strokes_on_black_keep_their_holes():
    ys, xs = np.indices((140, 140))
    ring = (np.hypot(ys - 70, xs - 70) < 45) & (np.hypot(ys - 70, xs - 70) > 22)   # a thick 0 on a canvas box
    digit = find_digit(ring.astype(np.float32), "box").image
    assert digit[13:15, 13:15].max() < 40 and digit.max() > 200      # the hole stays empty, the ring is ink


def test_a_cross_as_tall_as_the_digits_is_a_digit_and_a_small_one_a_plus():
    def row(cross_height: int) -> np.ndarray:
        canvas = np.full((140, 420), 1.0)
        canvas[30:110, 130:138] = 0.0                        # a 1
        top = 70 - cross_height // 2
        canvas[top:top + cross_height, 186:194] = 0.0        # the cross's stem
        canvas[66:74, 190 - cross_height // 2:190 + cross_height // 2] = 0.0
        canvas[30:110, 242:250] = 0.0                        # another 1
        return canvas
    assert [len(n.digits) for n in find_numbers(row(40), "plus")] == [1, 1]
    assert [len(n.digits) for n in find_numbers(row(80), "cross")] == [3]


def test_a_cross_as_tall_as_the_digits_standing_apart_before_a_number_is_a_plus():
    """In a column sum a '+' written as tall as the digits, well apart from the number after it, is
    a '+' (it was read as an extra number, a 4); a cross alone on its line is a digit."""
    canvas = np.full((300, 480), 1.0)
    for x in (300, 360):                                     # 11
        canvas[30:110, x:x + 8] = 0.0
    canvas[150:230, 116:124] = 0.0                           # a '+' 80 px tall, 180 px before the 11
    canvas[186:194, 80:160] = 0.0
    for x in (300, 360):
        canvas[150:230, x:x + 8] = 0.0
    assert [len(n.digits) for n in find_numbers(canvas, "tall plus")] == [2, 2]
    canvas[150:230, 290:480] = 1.0                           # the cross alone on its line
    assert [len(n.digits) for n in find_numbers(canvas, "lone cross")] == [2, 1]
    for x in (250, 310, 340):                                # 111 after it, unevenly spaced: the cross's
        canvas[150:230, x:x + 8] = 0.0                       # own wide gap does not set the line's spacing
    assert [len(n.digits) for n in find_numbers(canvas, "spaced after a plus")] == [2, 3]


def test_a_line_written_mostly_small_is_split_by_the_page_height():
    """'906' whose 9 and 6 are written small, under full-size lines: gaps wide for the small digits
    but not for the page's height split nothing."""
    canvas = np.full((300, 480), 1.0)
    for x in (150, 210, 270):
        canvas[30:110, x:x + 8] = 0.0
    canvas[185:230, 150:158] = 0.0                           # small, full-size, small
    canvas[150:230, 205:213] = 0.0
    canvas[185:230, 258:266] = 0.0
    assert [len(n.digits) for n in find_numbers(canvas, "small line")] == [3, 3]


def test_a_slanted_rule_ends_the_sum_and_specks_do_not_become_digits():
    from skimage.transform import rotate

    page = page_of([12, 345])
    gray = as_gray(page)
    y = page.boxes[1][0][3] + 60                             # under the rule: an answer, not an operand
    seven = np.asarray(Image.fromarray(255 - glyph(7)).resize((56, 56)), np.float32) / 255
    gray = np.pad(gray, ((0, 80), (0, 0)), constant_values=gray[0, 0])
    gray[y:y + 56, 200:256] = np.minimum(gray[y:y + 56, 200:256], seven)
    turned = rotate(gray, 3, mode="edge")
    rng = np.random.default_rng(1)
    for yy, xx in rng.integers(20, 120, (6, 2)):
        turned[yy:yy + 9, xx:xx + 9] = 0.1                   # blots a tenth of a digit's height
    assert [len(n.digits) for n in find_numbers(turned, "slanted")] == [2, 3]


def test_a_plus_written_high_stays_with_the_number_beside_it():
    """A '+' reaching up towards the line above does not start a line of its own that takes one
    digit of its number and leaves the other (a "65" read as 6 and 5)."""
    canvas = np.full((320, 560), 1.0)
    for x in (200, 260, 320):
        canvas[60:125, x:x + 8] = 0.0                        # a first line of 1s
    canvas[181:245, 346:354] = 0.0                           # two 1s, the second a little taller
    canvas[180:248, 400:408] = 0.0
    canvas[176:213, 100:106] = 0.0                           # a '+' above their middle
    canvas[191:197, 85:122] = 0.0
    assert [len(n.digits) for n in find_numbers(canvas, "plus")] == [3, 2]


def typed_line(digits: list[tuple[int, int, int]], width: int = 600, height: int = 200, base: int = 150,
               canvas: np.ndarray | None = None) -> np.ndarray:
    """Typeset digits on white: (digit, left x, height) each, standing on the baseline `base`."""
    canvas = np.full((height, width), 1.0) if canvas is None else canvas
    for d, x, size in digits:
        ink = np.asarray(Image.fromarray(glyph(d)).resize((size, size)), np.float32) / 255
        canvas[base - size:base, x:x + size] = np.minimum(canvas[base - size:base, x:x + size], 1.0 - ink)
    return canvas


def test_a_digit_written_small_stays_in_its_number():
    """A 0 written at 45% of its neighbours' height, with room around it, is a digit of "608": it
    is neither joined to the 6 as a stroke of it nor taken for a number of its own."""
    found = find_numbers(typed_line([(6, 100, 90), (0, 180, 40), (8, 230, 90)]), "small")
    assert [len(n.digits) for n in found] == [3]


def test_a_speck_far_from_every_digit_is_no_stroke_of_one():
    """A remnant of a grid line, a digit's height to the side of a '7' on its line, is dropped: joined
    to the 7 as a stroke, it widened the 7's box and shrank the digit framed in it (read as a 1)."""
    canvas = typed_line([(7, 100, 90), (4, 300, 90)])
    canvas[120:126, 210:240] = 0.3                            # (6, 30) the remnant, 20 px after the 7
    found = find_numbers(canvas, "speck")
    assert [len(n.digits) for n in found] == [1, 1]
    alone = find_numbers(typed_line([(7, 100, 90), (4, 300, 90)]), "no speck")
    (x0, _, x1, _), (a0, _, a1, _) = found[0].digits[0].box, alone[0].digits[0].box
    assert abs(x0 - a0) <= 3 and abs(x1 - a1) <= 3                # the 7's box ends at the 7 (x 165)


def faint_zero(fade: float) -> np.ndarray:
    """A felt-tip 1 beside a pencil 0 whose top right stretch is written `fade` as dark as the rest."""
    h, w = 200, 360
    ink = np.zeros((h, w), np.float32)
    ys, xs = np.indices((h, w))
    ink[50:150, 90:104] = 0.9
    ring = np.abs(np.hypot((ys - 100) / 50, (xs - 200) / 32) - 1) < 0.07
    ink[ring] = 0.35
    ink[ring & (ys < 100) & (xs > 212) & (xs < 228)] = 0.35 * fade
    return 0.9 - 0.8 * ndimage.gaussian_filter(ink, 1.0)


def test_a_fainter_stretch_of_a_stroke_stays_with_its_digit():
    """Beside a dark digit the adaptive threshold drops a pencil stroke's lighter stretch; the 0 is
    framed whole all the same (the 0 broken open reads as a 6)."""
    whole = find_numbers(faint_zero(1.0), "even")[0].digits[1].image.astype(int)
    light = find_numbers(faint_zero(0.6), "light")[0].digits[1].image.astype(int)
    assert np.abs(light - whole).mean() < 4


def test_a_digit_leaning_further_than_mnist_is_framed_at_mnist_lean():
    """A '1' leaning 45 degrees (one column per row) is framed leaning no more than `LEAN`, as steep
    as MNIST's writers lean, either way; a '1' leaning 10 degrees is framed as it leans."""
    from neuralab.calc.segment import LEAN

    def lean_of(columns_per_row: float) -> float:
        canvas = np.full((200, 400), 1.0)
        for r in range(40, 160):
            x = int(200 + columns_per_row * (100 - r))
            canvas[r, x - 4:x + 4] = 0.0
        image = find_numbers(canvas, "leaning")[0].digits[0].image.astype(float)
        ys, xs = np.nonzero(image > 128)
        top, bottom = xs[ys <= ys.min() + 1].mean(), xs[ys >= ys.max() - 1].mean()
        return (top - bottom) / (ys.max() - ys.min())

    assert abs(lean_of(1.0) - LEAN) < 0.1 and abs(lean_of(-1.0) + LEAN) < 0.1
    assert abs(lean_of(0.18) - 0.18) < 0.1


def test_a_hand_that_spaces_its_digits_widely_writes_one_number():
    found = find_numbers(typed_line([(3, 40, 80), (5, 160, 80), (7, 280, 80), (2, 400, 80)]), "spaced")
    assert [len(n.digits) for n in found] == [4]
    found = find_numbers(typed_line([(3, 40, 80), (5, 110, 80), (7, 330, 80), (2, 400, 80)]), "two numbers")
    assert [len(n.digits) for n in found] == [2, 2]


def test_a_number_whose_last_digits_climb_is_one_line():
    """'10947' with its 4 and 7 written half their height higher than the rest, over '642': two numbers."""
    canvas = typed_line([(1, 100, 80), (0, 160, 80), (9, 220, 80)], height=420, base=200)
    canvas = typed_line([(4, 280, 80), (7, 340, 80)], base=175, canvas=canvas)
    canvas = typed_line([(6, 160, 80), (4, 220, 80), (2, 280, 80)], base=330, canvas=canvas)
    assert [len(n.digits) for n in find_numbers(canvas, "climbing")] == [5, 3]


def test_a_plus_beside_small_digits_is_still_a_plus():
    """The '+' is judged against the digits' height, not against the small digits and the '+' itself."""
    canvas = typed_line([(6, 300, 90)], height=420, base=150)
    canvas = typed_line([(6, 250, 90), (8, 350, 45)], base=300, canvas=canvas)
    canvas[255:259, 100:142] = 0.0                           # a '+' of 42 px, beyond 80% of the small 8
    canvas[236:278, 119:123] = 0.0
    canvas[330:334, 60:420] = 0.0                            # the rule
    assert [len(n.digits) for n in find_numbers(canvas, "plus")] == [1, 2]


def test_a_short_detached_stroke_joins_its_nearest_digit():
    canvas = np.full((140, 300), 1.0)
    canvas[30:110, 40:48] = 0.0                              # a 1
    canvas[30:110, 90:98] = 0.0                              # a 5's stem and bowl, roughly
    canvas[62:70, 90:130] = 0.0
    canvas[62:110, 124:132] = 0.0
    canvas[30:38, 125:165] = 0.0                             # its flag, detached, reaching past the bowl
    canvas[30:110, 190:198] = 0.0                            # a 1
    assert [len(n.digits) for n in find_numbers(canvas, "flag")] == [3]


def test_a_flag_high_on_the_line_is_no_small_digit():
    """A 5's detached flag, slanted so that it is over 0.4 heights tall and reaching past the bowl,
    hangs at the top of the line: it is a stroke of the 5, not a digit written small."""
    canvas = np.full((140, 300), 1.0)
    canvas[30:110, 40:48] = 0.0                              # a 1
    canvas[40:70, 90:98] = 0.0                               # a 5's stem and bowl, roughly
    canvas[62:70, 90:132] = 0.0
    canvas[62:110, 124:132] = 0.0
    canvas[102:110, 90:132] = 0.0
    for k in range(30):                                      # its flag: a stroke rising to the right
        canvas[52 - k:58 - k, 134 + k:140 + k] = 0.0
    canvas[30:110, 210:218] = 0.0                            # a 1
    assert [len(n.digits) for n in find_numbers(canvas, "flag")] == [3]


def test_a_digit_in_two_parts_whose_top_stands_high_stays_on_its_line():
    """A 3 whose upper half is detached and written higher than the 7 beside it: full-size digits
    make the lines first, so the part joins the 7's line instead of starting a line of its own."""
    canvas = np.full((300, 400), 1.0)
    for x in (100, 160, 220, 280):                           # a line of 1s
        canvas[30:110, x:x + 8] = 0.0
    canvas[180:188, 260:300] = 0.0                           # a 7
    canvas[180:260, 292:300] = 0.0
    canvas[165:173, 180:220] = 0.0                           # the 3's upper part, higher than the 7
    canvas[165:206, 212:220] = 0.0
    canvas[198:206, 190:220] = 0.0
    canvas[210:260, 212:220] = 0.0                           # its lower part
    canvas[252:260, 180:220] = 0.0
    assert [len(n.digits) for n in find_numbers(canvas, "two parts")] == [4, 2]


def test_the_blurred_edge_of_a_bowed_margin_goes_with_it():
    """A margin whose top end bows away from the straight line it follows elsewhere: the slivers of
    its blurred edge left beside the band taken out (read as 1s) go with it; a pen's 1 stays."""
    h, w = 600, 500
    cols = np.arange(w)[None, :]
    centre = 100 - np.clip(80 - np.arange(h), 0, None)[:, None] * 0.12     # (h, 1) the margin's middle
    flat = 0.35 * np.sqrt(np.clip(1 - np.abs(cols - centre) / 6.0, 0, 1))
    flat = ndimage.gaussian_filter(flat.astype(np.float32), 1.0)
    flat[200:280, 300:308] = 0.9                                           # a pen's 1
    out, _ = without_printed_lines(flat, flat > 0.12)
    pieces = ndimage.find_objects(ndimage.label(out)[0])
    assert [(p[0].start, p[0].stop, p[1].start, p[1].stop) for p in pieces] == [(200, 280, 300, 308)]


def test_grid_lines_running_into_the_table_beside_the_page_are_still_printed_lines():
    """A page on a darker table: the table beside it is faint ink everywhere (an area of runs), and
    the grid's lines run into it. They are found up to it and taken out, not taken for part of one
    blob with the table and left as ink; a pen's 1 between them stays."""
    h, w = 600, 800
    flat = np.zeros((h, w), np.float32)
    flat[:, :200] = 0.25                                                   # the table: the frame's left quarter
    for row in range(40, h, 60):
        flat[row:row + 3, 200:] = 0.3                                      # the grid's lines, into the table
    flat[250:330, 500:508] = 0.9                                           # a pen's 1
    out, _ = without_printed_lines(flat, flat > 0.12)
    page = out[:, 210:]                                                    # the table itself is `_off_the_page`'s
    pieces = ndimage.find_objects(ndimage.label(page)[0])
    assert [(p[0].start, p[0].stop, p[1].start + 210, p[1].stop + 210) for p in pieces] == [(250, 330, 500, 508)]


def notebook(numbers, paper, seed, ink="blue", turn=3.0):
    """A column sum in typeset digits on exercise-book paper, photographed. (No '+': a thin one
    drawn along a grid line loses that stroke with the line, a known limit.)"""
    rng = np.random.default_rng(seed)
    page = on_paper(page_of(numbers, seed=seed, plus=False), rng, paper=paper, ink=ink)
    return photograph(page, rng, turn=turn)


@pytest.mark.parametrize("paper", ["squared", "lined"])
@pytest.mark.parametrize("ink", ["blue", "black", "pencil"])
def test_printed_rules_and_grids_are_not_digits(paper, ink):
    page = notebook([294, 61, 7058], paper, seed=11, ink=ink)
    found = find_numbers(as_gray(page), paper)
    assert [len(n.digits) for n in found] == [3, 2, 4]
    for number, boxes in zip(found, page.boxes):
        for digit, box in zip(number.digits, boxes):
            assert overlap(digit.box, box) > 0.5, (digit.box, box)


def test_a_page_turned_10_degrees_is_read_line_by_line():
    page = notebook([38, 507, 1296], "squared", seed=2, turn=10.0)
    assert [len(n.digits) for n in find_numbers(as_gray(page), "turned")] == [2, 3, 4]


@pytest.mark.parametrize("seed, ink", [(7, "pencil"), (10, "pencil"), (14, "blue"), (15, "pencil"), (19, "blue")])
def test_digits_on_a_shadowed_squared_page_are_found_whole(seed, ink):
    """A stroke along a grid line stays with its digit (a 0 without its side reads as a 6), and a
    sliver of line that a stroke crosses is no digit of its own."""
    rng = np.random.default_rng(seed)
    page = on_paper(page_of([38, 507, 1296], seed=seed, plus=seed % 2 == 0), rng, paper="squared", ink=ink)
    photo = photograph(page, rng, shadow=True)
    found = find_numbers(as_gray(photo), "squared")
    assert [len(n.digits) for n in found] == [2, 3, 4]
    for number, boxes in zip(found, photo.boxes):
        for digit, box in zip(number.digits, boxes):
            assert overlap(digit.box, box) > 0.7, (digit.box, box)


@pytest.mark.parametrize("seed", [7, 8, 13, 20, 31])
def test_a_squared_page_on_a_desk_is_read_within_its_edges(seed):
    """A phone photo of a squared page lying on a desk: the desk's grain, divided by its little light,
    is faint ink, and the grid's lines ran into it as one blob; these pictures were refused, or read
    as one number, or lost a digit. The page's edges are found first and only the page is read."""
    labels = [[3, 8], [5, 0, 7], [1, 2, 9, 6]]
    photo = notebook_kind("desk", [np.stack([glyph(d) for d in ds]) for ds in labels], labels,
                          np.random.default_rng(seed))
    buffer = io.BytesIO()
    Image.fromarray(photo.image).save(buffer, format="JPEG", quality=75)
    gray, size = read_gray_reduced(buffer.getvalue(), "desk.jpg", None, WORK_SIDE)
    found = find_numbers(gray, "desk.jpg")
    assert [len(n.digits) for n in found] == [2, 3, 4]
    factor = size[0] / gray.shape[1]
    for number, boxes in zip(found, photo.boxes):
        for digit, box in zip(number.digits, boxes):
            assert overlap([v * factor for v in digit.box], box) > 0.6, (digit.box, box)


@pytest.mark.parametrize("paper", ["squared", "lined"])
def test_an_empty_notebook_page_is_refused(paper):
    rng = np.random.default_rng(5)
    written = page_of([12, 345])
    unwritten = Page(np.full_like(written.image, PAPER), written.numbers, written.boxes)   # the same page, no ink
    with pytest.raises(UserError, match="no digit found|no sum found"):   # nothing but specks, or too many of them
        find_numbers(as_gray(photograph(on_paper(unwritten, rng, paper=paper), rng)), "empty.jpg")


@pytest.mark.parametrize("ink, seeds", [("black", (*range(8), 166)), ("blue", (4, 11, 21, 171)),
                                        ("pencil", (4, 7, 9, 11, 18, 103))])
def test_the_background_a_leaning_page_leaves_at_its_sides_is_not_read(ink, seeds):
    """A page leaning 25 degrees from the camera narrows at its far edge: the slivers of table beside
    it, the grain of the table a few pixels from them, and the broken line of the page's shaded edge
    (seeds 166, 171, 103) are no digits (they were read as extra 1s); nor is a '+' a line of its own."""
    for seed in seeds:
        rng = np.random.default_rng(seed)
        page = on_paper(page_of([38, 507, 1296], seed=seed, plus=ink != "black" and seed % 2 == 0), rng,
                        paper="plain", ink=ink)
        tilted = photograph(page, rng, tilt=25.0)
        assert [len(n.digits) for n in find_numbers(as_gray(tilted), "tilted")] == [2, 3, 4], seed


@pytest.mark.parametrize("degrees", [-9.6, -2.4, 0.0, 0.8, 4.4, 11.0])
def test_the_skew_found_turns_lines_of_writing_level(degrees):
    from skimage.transform import rotate

    rng = np.random.default_rng(int(10 * degrees) % 97)
    page = np.zeros((600, 900))
    for top in range(60, 540, 70):                                   # lines of word-like dashes
        x = 40
        while x < 820:
            width = int(rng.integers(30, 90))
            page[top:top + int(rng.integers(18, 26)), x:x + width] = 1.0
            x += width + int(rng.integers(10, 40))
    turned = rotate(page, degrees, resize=True, order=1) > 0.5
    found = skew(turned)
    assert abs(found - degrees) <= 0.3
    assert abs(skew(turn(turned.astype(np.float32), found, order=1)[0] > 0.5)) <= 0.3   # turned by it, level

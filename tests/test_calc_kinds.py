"""calc.kinds, the pictures bench/calc_real.py scores: numbers without a leading zero, one picture per
page of numbers in each kind, and a tally that counts a number right only when every digit is."""

import io

import numpy as np
import pytest
from PIL import Image

from neuralab.calc.kinds import KINDS, Tally, draw_numbers, pictures

from .test_caption import fake_mnist


def test_numbers_have_no_leading_zero_and_keep_their_labels():
    data = fake_mnist(n_train=600, n_test=600)
    numbers = draw_numbers(data, "test", 200, np.random.default_rng(0))
    assert len(numbers) == 200 and all(1 <= len(labels) <= 5 for _, labels in numbers)
    assert all(labels[0] != 0 for _, labels in numbers if len(labels) > 1)
    assert all(images.shape == (len(labels), 28, 28) for images, labels in numbers)


@pytest.mark.parametrize("kind", [k for k in KINDS if k not in ("canvas", "wide", "camera")])
def test_each_kind_renders_every_number_once(kind):
    data = fake_mnist(n_train=600, n_test=600)
    numbers = draw_numbers(data, "test", 7, np.random.default_rng(1))
    pages = list(pictures(kind, numbers, np.random.default_rng(2)))
    assert [labels for _, page in pages for labels in page] == [labels for _, labels in numbers]
    assert all(Image.open(io.BytesIO(data)).format == ("PNG" if kind in ("strip", "scan") else "JPEG")
               for data, _ in pages)


def test_the_tally_counts_a_number_right_only_when_every_digit_is():
    tally = Tally()
    tally.add([[1, 2], [3]], [[1, 2], [4]], None)      # one number wrong
    tally.add([[5]], None, None)                       # a picture refused
    tally.add([[6, 7]], [[6, 7], [8]], None)           # numbers found != numbers written: layout wrong
    figures = tally.figures()
    assert (figures["numbers"], figures["digits"]) == (4, 6)
    assert figures["number_accuracy"] == 1 / 4 and figures["digit_accuracy"] == 2 / 6
    assert figures["layout_accuracy"] == 1 / 3
    assert "wrong_unmarked" not in figures             # nobody said which digits were doubted


def test_the_tally_counts_the_wrong_sums_given_without_a_doubt_marked():
    tally = Tally()
    tally.add([[1, 2]], [[1, 7]], None, marked=False)  # read wrong, nothing marked: a sum invented
    tally.add([[1, 2]], [[1, 7]], None, marked=True)   # read wrong, a digit marked '?': warned
    tally.add([[3]], None, None, marked=False)         # refused: no sum given
    tally.add([[4]], [[4]], True, marked=False)        # read right
    assert tally.figures()["wrong_unmarked"] == 1 / 4


def test_a_looser_hand_writes_small_digits_and_wide_gaps_where_its_boxes_say():
    from neuralab.calc.pages import PAPER, Hand, write_page

    data = fake_mnist(n_train=600, n_test=600)
    numbers = draw_numbers(data, "test", 3, np.random.default_rng(3))
    images, labels = [n[0] for n in numbers], [n[1] for n in numbers]
    tidy = write_page(images, labels, np.random.default_rng(4), height=60)
    loose = write_page(images, labels, np.random.default_rng(4), height=60, hand=Hand(spacing=(0.5, 0.6), small=1.0))
    assert all(y1 - y0 >= 0.8 * 60 for boxes in tidy.boxes for _, y0, _, y1 in boxes)
    assert all(y1 - y0 <= 0.75 * 60 for boxes in loose.boxes for _, y0, _, y1 in boxes)
    for boxes in loose.boxes:
        assert all(b[0] - a[2] >= 0.5 * 60 - 1 for a, b in zip(boxes, boxes[1:]))
        for x0, y0, x1, y1 in boxes:
            assert loose.image[y0:y1, x0:x1].min() < PAPER - 0.5       # the digit's ink is in its box


def test_the_looser_hand_keeps_every_digit_on_the_page():
    from neuralab.calc.pages import HANDS, write_page

    data = fake_mnist(n_train=600, n_test=600)
    for seed in range(20):
        rng = np.random.default_rng(seed)
        numbers = [(data.x_test[:5], [1, 2, 3, 4, 5]), (data.x_test[5:9], [6, 7, 8, 9])]
        for layout in ("column", "row"):
            page = write_page([n[0] for n in numbers], [n[1] for n in numbers], rng, height=60, layout=layout, hand=HANDS)
            H, W = page.image.shape
            assert all(0 <= x0 < x1 <= W and 0 <= y0 < y1 <= H for boxes in page.boxes for x0, y0, x1, y1 in boxes)


def test_a_fast_hand_writes_each_digit_touching_the_one_before():
    from scipy import ndimage

    from neuralab.calc.pages import PAPER, Hand, write_page

    rows, cols = np.mgrid[0:28, 0:28]
    ring = (np.abs(np.hypot((rows - 14) / 10, (cols - 14) / 6) - 1) < 0.25).astype(np.uint8) * 255   # a '0'
    labels = [[1, 0, 0], [4, 0], [7, 0, 0, 0]]
    page = write_page([np.stack([ring] * len(n)) for n in labels], labels, np.random.default_rng(6), height=60,
                      plus=False, rule=False, hand=Hand(touch=1.0))
    shapes, _ = ndimage.label(page.image < PAPER - 0.5)
    for boxes in page.boxes:                            # each number is one shape of ink, in every digit's box
        assert len({tuple(np.unique(shapes[y0:y1, x0:x1])[1:]) for x0, y0, x1, y1 in boxes}) == 1
    assert len(np.unique(shapes)) - 1 == len(labels)


def test_the_camera_kind_keeps_the_page_shape_at_twelve_megapixels():
    from neuralab.calc.kinds import CAMERA, at_camera_size
    from neuralab.calc.pages import Page

    photo = np.full((300, 800, 3), 200, np.uint8)
    photo[100:160, 380:420] = 20                       # a digit 40 wide, 60 tall
    page = at_camera_size(Page(photo, [1], [[(380, 100, 420, 160)]]))
    assert page.image.shape == (CAMERA[1], CAMERA[0], 3)
    (x0, y0, x1, y1), = page.boxes[0]
    assert (y1 - y0) / (x1 - x0) == pytest.approx(60 / 40, rel=0.02)
    assert page.image[y0 + 5:y1 - 5, x0 + 5:x1 - 5].max() < 60 and page.image[:50].min() > 150


def test_a_camera_page_is_widened_with_blank_paper_to_the_frame_shape():
    """The 12-megapixel photo is of a page filling the frame: more paper around the writing (ruled
    and lit with the rest), not the photo's edge rows repeated out into streaks."""
    from neuralab.calc.kinds import CAMERA, frame_shaped
    from neuralab.calc.pages import PAPER, Page

    page = np.full((300, 200), PAPER)
    page[100:160, 80:120] = 0.1                                            # a digit 40 wide, 60 tall
    framed = frame_shaped(Page(page, [1], [[(80, 100, 120, 160)]]))
    H, W = framed.image.shape
    assert (H, W) == (300, 400) and W * CAMERA[1] == H * CAMERA[0]
    (x0, y0, x1, y1), = framed.boxes[0]
    assert (x1 - x0, y1 - y0) == (40, 60) and framed.image[y0:y1, x0:x1].max() == 0.1
    assert (framed.image < PAPER).sum() == 40 * 60                          # nothing else written


def test_a_page_on_a_desk_keeps_its_writing_where_its_boxes_say():
    from neuralab.calc.kinds import DESKS, on_desk
    from neuralab.calc.pages import Page

    page = np.full((300, 200, 3), 0.97)
    page[100:160, 80:120] = 0.1                                            # a digit 40 wide, 60 tall
    desk = on_desk(Page(page, [1], [[(80, 100, 120, 160)]]), np.random.default_rng(0))
    (x0, y0, x1, y1), = desk.boxes[0]
    side = x0 - 80
    assert 20 <= side <= 70 and desk.image.shape == (300, 200 + 2 * side, 3)
    assert desk.image[y0:y1, x0:x1].max() == 0.1 and np.array_equal(desk.image[:, side:side + 200], page)
    assert any(np.allclose(desk.image[:, :side], colour) for colour in DESKS)       # the desk, at both sides
    assert np.array_equal(desk.image[:, :side], desk.image[:, -side:])


def test_another_pen_redraws_a_digit_along_its_centre_lines_at_its_width_and_slant():
    from scipy import ndimage
    from skimage.morphology import skeletonize

    from neuralab.calc.pages import restroke

    bar = np.zeros((80, 30))
    bar[:, 11:19] = 1.0                                           # a '1' 8 px wide
    leaning = restroke(bar, 4.0, 30.0) > 0.5
    rows, cols = np.nonzero(leaning)
    top, bottom = cols[rows == rows.min()].mean(), cols[rows == rows.max()].mean()
    assert abs((top - bottom) - np.tan(np.deg2rad(30)) * (rows.max() - rows.min())) <= 3   # leans right by 30°
    assert abs(leaning.sum() / skeletonize(leaning).sum() - 4.0) <= 1.0                    # a 4 px pen
    assert restroke(bar, 4.0, -30.0)[0].argmax() < restroke(bar, 4.0, -30.0)[-1].argmax()  # leans left

    ys, xs = np.mgrid[0:80, 0:60]
    ring = (np.abs(np.hypot((ys - 40) / 36, (xs - 30) / 24) - 1) < 0.2).astype(float)     # a '0', thick
    thin = restroke(ring, 2.0, 0.0) > 0.5
    assert ndimage.label(~thin)[1] == 2 and thin.sum() < 0.5 * ring.sum()                   # a thin 0, still closed
    blob = (np.hypot((ys - 40) / 36, (xs - 30) / 24) < 1).astype(float)                    # a loop filled in
    kept = restroke(blob, 2.0, 0.0) > 0.5
    assert abs(kept.sum() - blob.sum()) < 0.05 * blob.sum()                                 # keeps its own stroke


def test_another_pen_keeps_the_loops_a_digit_closes(real_mnist):
    """MNIST-train's 8 number 6816 draws its loops lightly: smoothed, they fill in and its centre
    lines are one stroke, a '1'. Redrawn by another pen, it keeps its two loops (its own strokes)."""
    from scipy import ndimage

    from neuralab.calc.pages import _pen, restroke

    eight = _pen(real_mnist.x_train[6816], 80)
    assert real_mnist.y_train[6816] == 8
    for width in (3.0, 10.0):
        redrawn = restroke(eight, width, 0.0) > 0.5
        assert ndimage.label(~np.pad(redrawn, 1))[1] >= 3                   # the outside and its loops

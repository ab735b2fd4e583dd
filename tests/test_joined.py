"""calc.joined, digits that touch: where a shape may be cut, which chain of pieces is chosen, and
the digit widths it judges pieces by (MNIST-train's own)."""

import itertools

import numpy as np
import pytest

from neuralab.calc import joined


def one_hot(digit: int, p: float = 0.99) -> np.ndarray:
    out = np.full(10, (1 - p) / 9)
    out[digit] = p
    return out


def test_cuts_fall_where_the_ink_is_thinnest():
    own = np.zeros((40, 70), bool)
    own[:, 5:30] = True                                  # two blocks of ink ...
    own[:, 40:65] = True
    own[20:22, 30:40] = True                             # ... joined by a thin bridge
    found = joined.cuts(own, height=40)
    assert all(path.shape == (40,) for path in found)     # one column per row, top to bottom
    assert any(30 <= path.min() and path.max() < 40 for path in found)
    assert all(4 <= path.mean() <= 66 for path in found)  # never at the shape's very ends


def test_each_columns_seam_is_the_cheapest_of_every_path_through_it():
    """Against every path there is, on small masks: a path steps at most one column per row, a step
    aside costs `ASIDE`, each inked pixel it passes 1."""
    rng = np.random.default_rng(3)
    for _ in range(40):
        h, w = int(rng.integers(2, 7)), int(rng.integers(1, 6))
        own = rng.random((h, w)) < 0.5
        through, paths = joined._seams(own)                            # (w,), (w, h)
        middle = h // 2

        def cost(path):
            return sum(own[y, x] for y, x in enumerate(path)) + joined.ASIDE * np.count_nonzero(np.diff(path))

        for x in range(w):
            every = [p for p in itertools.product(range(w), repeat=h)
                     if p[middle] == x and all(abs(a - b) <= 1 for a, b in zip(p, p[1:]))]
            assert through[x] == pytest.approx(min(cost(p) for p in every))
            assert paths[x][middle] == x and cost(paths[x]) == pytest.approx(through[x])
            assert all(abs(a - b) <= 1 for a, b in zip(paths[x], paths[x][1:]))


def test_a_cut_leans_with_the_gap_where_a_straight_one_would_cross_ink():
    own = np.zeros((40, 40), bool)                       # two strokes leaning like '//', each 5 wide and
    for y in range(40):                                  # 4 columns apart in every row, so no column
        own[y, 15 - y // 4:20 - y // 4] = True           # between them is free of ink
        own[y, 24 - y // 4:29 - y // 4] = True
    own[38:40, 6:20] = True                              # joined at the foot: one shape
    assert all(own[:38, x].any() for x in range(6, 29))
    paths = [path for path in joined.cuts(own, height=40) if 10 <= path.mean() <= 24]
    assert paths and joined.crossings(own, paths[0]) == 1          # only the foot that joins them
    assert all(not own[y, paths[0][y]] for y in range(38))


def test_a_cut_pays_for_each_stroke_it_crosses_beyond_the_first():
    height, width = 40, 44                                # a '0' read unsurely, or a '6' and a '1' that touch?
    spans = [(0, 44), (0, 22), (22, 44)]
    probabilities = np.stack([one_hot(0, 0.75), one_hot(6, 0.999), one_hot(1, 0.999)])
    assert joined.best_chain(width, spans, probabilities, np.ones(3), height, {22: 1}) == [(0, 22), (22, 44)]
    assert joined.best_chain(width, spans, probabilities, np.ones(3), height, {22: 2}) == [(0, 44)]


def test_a_shape_too_wide_for_its_reading_is_cut_even_into_unsure_pieces_and_trusted_less():
    height, width = 40, 64                                # read whole as a '0' 1.6 heights wide
    spans = [(0, 64), (0, 30), (30, 64)]
    probabilities = np.stack([one_hot(0, 0.99), one_hot(4, 0.7), one_hot(8, 0.8)])
    assert joined.trust(probabilities[0], width / height) < 0.9 * 0.99     # no '0' is that wide
    assert joined.best_chain(width, spans, probabilities, np.ones(3), height) == [(0, 30), (30, 64)]
    assert joined.trust(probabilities[0], 36 / height) == pytest.approx(0.99)    # a '0' that wide is


def test_a_shape_three_digits_wide_is_cut_however_surely_it_is_read_whole():
    height, width = 40, 120
    spans = [(0, 120), (0, 40), (40, 80), (80, 120)]
    probabilities = np.stack([one_hot(8, 0.999), one_hot(3), one_hot(5), one_hot(2)])
    tall = np.ones(len(spans))
    assert joined.best_chain(width, spans, probabilities, tall, height) == [(0, 40), (40, 80), (80, 120)]


def test_a_digit_read_surely_at_a_plausible_width_stays_whole():
    height, width = 40, 44                                # a wide '2'
    spans = [(0, 44), (0, 20), (20, 44)]
    probabilities = np.stack([one_hot(2, 0.95), one_hot(1, 0.999), one_hot(7, 0.999)])
    assert joined.best_chain(width, spans, probabilities, np.ones(3), height) == [(0, 44)]


def test_pieces_shorter_than_the_shape_are_never_digits_of_their_own():
    height, width = 40, 60                                # an '8' read unsurely, wide; its right side a '1'?
    spans = [(0, 60), (0, 45), (45, 60)]
    probabilities = np.stack([one_hot(8, 0.6), one_hot(8, 0.999), one_hot(1, 0.999)])
    tall = np.array([1.0, 1.0, 0.4])                      # that side is under half the shape's height
    assert joined.best_chain(width, spans, probabilities, tall, height) == [(0, 60)]
    tall[2] = 1.0
    assert joined.best_chain(width, spans, probabilities, tall, height) == [(0, 45), (45, 60)]


def test_pieces_are_no_wider_than_a_digit_and_the_whole_is_always_offered():
    spans = joined.pieces(200, [50, 100, 150], height=40)
    assert (0, 200) in spans
    assert all(b - a <= joined.WIDEST * 40 for a, b in spans if (a, b) != (0, 200))
    assert {(0, 50), (50, 100), (100, 150), (150, 200)} <= set(spans)


@pytest.mark.mnist
def test_the_digit_widths_are_mnist_trains_own(real_mnist):
    mean, spread = joined.shapes(real_mnist.x_train, real_mnist.y_train)
    assert np.allclose(mean, joined.SHAPE_MEAN, atol=6e-4) and np.allclose(spread, joined.SHAPE_SPREAD, atol=6e-4)


def test_digits_cut_from_a_shape_of_a_digits_width_are_no_surer_than_the_shape():
    unsure_zero = one_hot(0, 0.6)
    assert joined.ceiling(unsure_zero, width=0.9) == pytest.approx(0.6)    # an 'o' or an 'n' cut into strokes
    assert joined.ceiling(unsure_zero, width=2.5) == 1.0                   # no digit is that wide: no say


def test_a_piece_the_reader_is_unsure_of_is_no_digit_of_its_own():
    height, width = 40, 40                                # an '8' read unsurely whole, at a typical width
    spans = [(0, 40), (0, 20), (20, 40)]
    probabilities = np.stack([one_hot(8, 0.6), one_hot(3, 0.85), one_hot(5, 0.99)])
    assert joined.best_chain(width, spans, probabilities, np.ones(3), height) == [(0, 40)]
    probabilities[1] = one_hot(3, 0.95)
    assert joined.best_chain(width, spans, probabilities, np.ones(3), height) == [(0, 20), (20, 40)]


def test_a_shape_the_judge_finds_several_digits_is_cut_though_the_reader_is_sure_of_it_whole():
    height, width = 40, 36                                # a '16' that the reader reads surely as a '6'
    spans = [(0, 36), (0, 10), (10, 36)]
    probabilities = np.stack([one_hot(6, 0.999), one_hot(1, 0.97), one_hot(6, 0.97)])
    assert joined.best_chain(width, spans, probabilities, np.ones(3), height) == [(0, 36)]
    assert joined.best_chain(width, spans, probabilities, np.ones(3), height, one=np.ones(3)) == [(0, 36)]
    judged = np.array([0.05, 0.99, 0.99])                 # the judge: the whole is not one digit, its pieces are
    assert joined.best_chain(width, spans, probabilities, np.ones(3), height, one=judged) == [(0, 10), (10, 36)]


def test_a_shape_the_judge_finds_several_digits_is_cut_even_into_pieces_the_reader_is_unsure_of():
    height, width = 40, 32                                # a '61' as narrow as a '6', read surely as one
    spans = [(0, 32), (0, 22), (22, 32)]
    probabilities = np.stack([one_hot(6, 0.999), one_hot(6, 0.99), one_hot(1, 0.75)])
    one_digit = np.ones(3)
    assert joined.best_chain(width, spans, probabilities, np.ones(3), height, one=one_digit) == [(0, 32)]
    several = np.array([0.001, 1.0, 1.0])                 # the judge: the whole is no one digit
    assert joined.best_chain(width, spans, probabilities, np.ones(3), height, one=several) == [(0, 22), (22, 32)]

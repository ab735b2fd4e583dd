"""calc.touching: the shapes its judge learns from, and that it learns to tell one digit from digits
that touch on shapes made from digits it never saw."""

import numpy as np
import pytest
import torch
from scipy import ndimage

from neuralab.calc import touching


def test_digits_that_touch_are_written_so_their_inks_meet_in_one_shape():
    left, right = np.zeros((20, 6)), np.zeros((20, 6))
    left[:, 1:5] = 1.0                                   # two bars, each with a blank column either side
    right[:, 1:5] = 1.0
    for seed in range(20):
        shape = touching._joined(left, right, np.random.default_rng(seed))
        ink = shape > 0.5
        assert ndimage.label(ink)[1] == 1                             # one shape, not two
        assert 4 + 4 - 1 - touching.OVERLAP <= ink.any(0).sum() <= 4 + 4 - 1   # meeting, up to OVERLAP further


@pytest.mark.mnist
def test_shapes_hold_one_digit_or_several_as_labelled(real_mnist):
    x, several = touching.shapes(real_mnist.x_train[:500], 400, np.random.default_rng(0))
    assert x.shape == (400, 28, 28) and x.dtype == np.uint8
    assert 0.4 < several.mean() < 0.6
    width, height = (x > 50).any(1).sum(1), (x > 50).any(2).sum(1)        # (N,) each, of the framed ink
    wide = width > height                                                  # most digits are taller than wide
    assert wide[several == 1].mean() > 0.55 > 0.25 > wide[several == 0].mean()


@pytest.mark.mnist
def test_the_judge_tells_one_digit_from_several_on_digits_it_never_saw(real_mnist):
    torch.manual_seed(0)
    net = touching.judge_net()
    figures = touching.train(net, real_mnist.x_train[:10000], 4000, seed=0)
    assert 0.0 <= figures["touch_val_accuracy"] <= 1.0 and figures["touch_shapes"] == 4000
    x, several = touching.shapes(real_mnist.x_test[:2000], 600, np.random.default_rng(1))
    said = touching.several(net, x) > 0.5
    assert (said == (several == 1)).mean() > 0.85                          # chance is 0.5
    assert touching.several(net, x[:0]).shape == (0,)

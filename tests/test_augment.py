"""The training distortions' strength: `--distort` scales how far each digit is moved, and nothing
else; calc refuses a strength it cannot use."""

import dataclasses

import numpy as np
import pytest
import torch

from neuralab.calc.config import CalcConfig
from neuralab.calc.data import Bank
from neuralab.calc.train import epoch_batches
from neuralab.core.augment import Augment, augment
from neuralab.core.errors import UserError

from .helpers import run_cli


def bars(n: int = 256) -> torch.Tensor:
    """n copies of a thick vertical stroke (n, 1, 28, 28): a '1' that every distortion changes."""
    images = torch.zeros(n, 1, 28, 28)
    images[:, :, 4:24, 12:16] = 1.0
    return images


def distorted(spec: Augment) -> torch.Tensor:
    return augment(bars(), spec, torch.Generator().manual_seed(7))


def test_strength_one_is_the_default_and_stronger_moves_digits_further():
    assert Augment().scaled(1.0) == Augment()
    doubled = Augment().scaled(2.0)
    assert (doubled.degrees, doubled.elastic, doubled.noise, doubled.chance) == (20.0, 2.0, 0.08, 0.5)
    assert (Augment().scaled(3.0).stroke, Augment().scaled(9.0).scale) == (1.0, 0.5)   # blends capped
    original = bars()
    # the same random draws: each digit gets the same distortions, twice their size
    moved = [(distorted(Augment().scaled(s)) - original).abs().mean((1, 2, 3)) for s in (1.0, 2.0)]
    assert moved[1].mean() > 1.3 * moved[0].mean()
    strongest = distorted(Augment().scaled(3.0))
    assert strongest.shape == original.shape and 0.0 <= strongest.min() and strongest.max() <= 1.0


def test_calc_training_distorts_by_its_configured_strength():
    rng = np.random.default_rng(0)
    bank = Bank(rng.integers(0, 256, (400, 28, 28), dtype=np.uint8), rng.integers(0, 10, 400), "train", "noise")
    config = CalcConfig(format="fixed", digits=2, distort=1.5, warmup=0)
    assert epoch_batches(config, bank, 1).distort == Augment().scaled(1.5)
    assert epoch_batches(dataclasses.replace(config, augment=False), bank, 1).distort is None


@pytest.mark.parametrize("strength", [0.0, -1.0, 3.5])
def test_a_strength_outside_its_range_is_refused_in_one_line(strength):
    with pytest.raises(UserError, match="--distort"):
        CalcConfig(distort=strength)
    result = run_cli(["calc", "train", "--dry-run", "--distort", str(strength)])
    assert result.exit_code == 2 and "--distort" in result.stderr and "Traceback" not in result.stderr

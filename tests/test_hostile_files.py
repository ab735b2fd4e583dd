"""The hostile-input rounds (`bench/abuse.py`) read pictures with a checkpoint that loads: a row refused
for a broken checkpoint would hide what the picture does."""

from neuralab.calc.evaluate import load_model
from neuralab.cli.hostile import calc_checkpoint


def test_the_hostile_rounds_calc_checkpoint_loads_with_its_one_digit_judge(tmp_path):
    model, config, _ = load_model(calc_checkpoint(tmp_path), device="cpu")
    assert model.touch is not None and config.touch > 0

"""bench/calc_supervised.py: the reader taught digit labels on the N=15 benchmark's images, as the
yardstick for the reader learned from sums. Its labels must be the images' own: a reader trained on
them for a few seconds reads held-out digits, and every held-out and test image is scored."""

import pytest

from .helpers import bench_module


@pytest.mark.mnist
def test_labels_teach_the_reader_within_seconds(real_mnist, tmp_path):
    row = bench_module("calc_supervised").supervised_run(15, seed=0, budget=4.0, holdout=5000, out=str(tmp_path))
    assert (row["held_out"]["images"], row["test"]["images"]) == (5000, 10000)
    # chance is 10%; labels that did not match their images would leave it near there. What 4 s teach
    # depends on the machine (0.73 on a slow 2-core one under the whole suite's load): far above chance
    assert row["held_out"]["digit_accuracy"] > 0.5 and row["test"]["digit_accuracy"] > 0.5
    assert row["curve"] and row["curve"][-1]["seconds"] <= 4.0 + 5.0   # the budget, with its last validation


@pytest.mark.parametrize("argv, message", [(["--seeds", "0,x"], "--seeds"), (["--holdout", "0"], "--holdout")])
def test_bad_flags_get_one_line_and_exit_code_2(argv, message, capsys):
    with pytest.raises(SystemExit) as stop:
        bench_module("calc_supervised").parse_args(argv)
    assert stop.value.code == 2 and message in capsys.readouterr().err

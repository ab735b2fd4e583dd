"""bench/calc_nesy.py builds a valid config for every N the issue asks for, up to 1000-digit numbers."""

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "calc_nesy.py"


def _bench():
    spec = importlib.util.spec_from_file_location("calc_nesy", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("N, holdout", [(1, 0), (15, 5000), (100, 0), (500, 5000), (1000, 5000), (1000, 0)])
def test_every_benchmark_length_gets_a_valid_config(N, holdout):
    config = _bench().config_for(N, seed=0, budget=3600, resampled=100, precision="bf16", starts=5,
                                 start_seconds=90, holdout=holdout)
    assert (config.digits, config.holdout, config.format) == (N, holdout, "fixed")
    assert config.train_size == (60000 - holdout) // (2 * N)        # the protocol's sums per epoch

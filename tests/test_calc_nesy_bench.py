"""bench/calc_nesy.py builds a valid config for every N the issue asks for, up to 1000-digit numbers."""

import pytest
import torch

from neuralab.calc.protocol import config_for, time_prediction, time_training_step

from .helpers import bench_module


@pytest.mark.parametrize("N, holdout", [(1, 0), (15, 5000), (100, 0), (500, 5000), (1000, 5000), (1000, 0)])
def test_every_benchmark_length_gets_a_valid_config(N, holdout):
    config = config_for(N, seed=0, budget=3600, resampled=100, precision="bf16",
                                                  starts=5, start_seconds=90, holdout=holdout)
    assert (config.digits, config.holdout, config.format) == (N, holdout, "fixed")
    assert config.train_size == (60000 - holdout) // (2 * N)        # the protocol's sums per epoch


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_a_gpu_gets_one_line_and_exit_code_2(capsys):
    with pytest.raises(SystemExit) as stop:
        bench_module("calc_nesy").main(["--digits", "1", "--device", "cuda"])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: --device cuda: no CUDA device is available"


def test_an_unknown_device_gets_exit_code_2(capsys):
    with pytest.raises(SystemExit) as stop:
        bench_module("calc_nesy").parse_args(["--device", "tpu"])
    assert stop.value.code == 2 and "--device" in capsys.readouterr().err


def test_a_timed_step_is_a_real_step_on_the_models_device():
    import numpy as np

    from neuralab.calc.data import Bank
    from neuralab.calc.layout import Layout
    from neuralab.calc.models import build

    rng = np.random.default_rng(0)
    bank = Bank(rng.integers(0, 256, (200, 28, 28), dtype=np.uint8), rng.integers(0, 10, 200), "train", "noise")
    torch.manual_seed(0)
    model = build("symbolic", Layout("fixed", 5, 2))
    before = [p.detach().clone() for p in model.parameters()]
    assert time_training_step(5, model, bank, steps=2) > 0
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))   # the optimiser stepped
    assert time_prediction(5, model, bank, count=2) > 0 and not model.training

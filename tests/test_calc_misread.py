"""bench/calc_misread.py: readers together read the held-out images by their mean log-probability,
and the images they misread are listed with their MNIST-train index and label."""

import json
from pathlib import Path

import pytest
import torch

from neuralab.calc.config import CalcConfig
from neuralab.calc.evaluate import load_model
from neuralab.calc.models import build
from neuralab.core.runs import save_checkpoint

from .helpers import bench_module


def _reader(tmp_path, seed: int, holdout: int) -> Path:
    """An untrained lenet reader (its readings are arbitrary but fixed), saved as if trained with `holdout`."""
    config = CalcConfig(reader="lenet", views=1, digits=5, holdout=holdout, seed=seed, touch=0)
    torch.manual_seed(seed)
    return save_checkpoint(tmp_path / f"reader{seed}", build("symbolic", config.layout, config.reader).eval(),
                           kind="calc", config=config)


@pytest.mark.mnist
def test_readers_together_misread_what_their_mean_log_probability_misreads(real_mnist, tmp_path):
    checkpoints = [_reader(tmp_path, seed, holdout=500) for seed in (0, 1)]
    out = tmp_path / "misread.json"
    bench_module("calc_misread").main([*map(str, checkpoints), "--json", str(out), "--png", str(tmp_path / "misread.png")])
    result = json.loads(out.read_text())

    images = torch.from_numpy(real_mnist.x_train[59500:]).float().div(255).unsqueeze(1)    # (500, 1, 28, 28)
    labels = torch.from_numpy(real_mnist.y_train[59500:]).long()
    log_probs = []
    for checkpoint in checkpoints:
        model, _, _ = load_model(checkpoint, "cpu")
        with torch.no_grad():
            log_probs.append(model.reader(images)[:, :10].log_softmax(-1))   # the 10-digit rule
    together = torch.stack(log_probs).mean(0).argmax(-1)
    wrong = (together != labels).nonzero().flatten()

    assert result["count"] == 500 and result["images"] == "MNIST-train 59500..59999"
    assert [r["read_right"] for r in result["readers"]] == pytest.approx(
        [float((lp.argmax(-1) == labels).float().mean()) for lp in log_probs])
    assert result["read_right_together"] == pytest.approx(float((together == labels).float().mean()))
    assert [m["mnist_train_index"] for m in result["misread"]] == [59500 + int(i) for i in wrong]
    assert [m["label"] for m in result["misread"]] == [int(real_mnist.y_train[59500 + i]) for i in wrong]
    assert [m["read_as"] for m in result["misread"]] == [int(together[i]) for i in wrong]
    drawn = [m for m in result["misread"] if m["pixels"] is not None]
    assert len(drawn) == min(len(wrong), 40) and drawn[0]["pixels"] == real_mnist.x_train[drawn[0]["mnist_train_index"]].tolist()
    assert (tmp_path / "misread.png").stat().st_size > 0


def test_a_reader_without_held_out_images_or_with_other_ones_is_one_line_and_exit_code_2(tmp_path, capsys):
    for holdouts, message in [((0,), "holdout 0"), ((500, 1000), "held out 1,000 images, ")]:
        checkpoints = [str(_reader(tmp_path, seed, h)) for seed, h in enumerate(holdouts)]
        with pytest.raises(SystemExit) as stop:
            bench_module("calc_misread").main(checkpoints)
        assert stop.value.code == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1 and "Traceback" not in err

"""The moving average of the weights in the one training loop: it follows its formula, leaves training
as it was, resumes exactly, and calc refuses a decay it cannot use."""

import pytest
import torch
from torch import nn

from neuralab.calc.config import CalcConfig
from neuralab.core.data import index_batches
from neuralab.core.errors import UserError
from neuralab.core.runs import Run, load_checkpoint
from neuralab.core.runtime import seed_everything
from neuralab.core.train import Loop, evaluator, fit

from .helpers import run_cli

DECAY = 0.9


def make_model():
    return nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 2))


def train_tiny(root, ema=0.0, interrupt_at=None, resume_run=None, seen=None):
    """A small classifier trained 3 epochs of 8 steps; `seen` collects the trained weights each step starts from."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(256, 8, generator=g)
    y = (x[:, 0] - x[:, 2] > 0).long()
    seed_everything(5)
    model = make_model()
    calls = {"n": 0}

    def step(m, idx):
        calls["n"] += 1
        if interrupt_at is not None and calls["n"] == interrupt_at:
            raise KeyboardInterrupt
        if seen is not None and m.training:
            seen.append([p.detach().double().clone() for p in m.parameters()])
        logits = m(x[idx])
        return nn.functional.cross_entropy(logits, y[idx]), {"count": len(idx)}

    run = resume_run or Run.create(root, "toy", {"ema": ema}, name="r")
    loop = Loop(epochs=3, batches=lambda e: index_batches(256, 32, seed=5, epoch=e), step=step,
                evaluate=evaluator(lambda: index_batches(256, 128), step), ema=ema)
    opt = torch.optim.Adam(model.parameters(), lr=3e-2)
    return fit(run, model, opt, loop, kind="toy", config={"ema": ema}, resume=resume_run is not None)


def saved(result):
    """(the model's weights, the trained weights) that `last` holds."""
    weights, _, state = load_checkpoint(result.last_path, "toy")
    return weights, state.get("trained")


def test_the_saved_average_follows_its_formula_over_every_step(tmp_path):
    seen = []
    result = train_tiny(tmp_path, ema=DECAY, seen=seen)
    weights, trained = saved(result)
    names = [name for name, _ in make_model().named_parameters()]
    after_each_step = seen[1:] + [[trained[name].double() for name in names]]   # step k ends where k + 1 starts
    assert len(after_each_step) == 24
    average = after_each_step[0]
    for n, current in enumerate(after_each_step[1:], start=1):
        decay = min(DECAY, (1 + n) / (10 + n))
        average = [decay * a + (1 - decay) * c for a, c in zip(average, current)]
    for name, expected in zip(names, average):
        torch.testing.assert_close(weights[name].double(), expected, rtol=0, atol=1e-6)
    assert not torch.allclose(weights[names[0]], trained[names[0]])   # the average is not the trained weights


def test_the_average_leaves_training_as_it_was(tmp_path):
    plain = train_tiny(tmp_path / "plain")
    averaged = train_tiny(tmp_path / "averaged", ema=DECAY)
    assert [m["train_loss"] for m in plain.history] == [m["train_loss"] for m in averaged.history]
    plain_weights, _ = saved(plain)
    _, trained = saved(averaged)
    assert plain_weights.keys() == trained.keys()
    for name, value in plain_weights.items():
        assert torch.equal(value, trained[name]), name


def test_a_resumed_run_ends_with_the_same_average_and_weights(tmp_path):
    clean = train_tiny(tmp_path / "a", ema=DECAY)
    with pytest.raises(KeyboardInterrupt):
        train_tiny(tmp_path / "b", ema=DECAY, interrupt_at=(8 + 2) + 4)   # 8 train + 2 eval steps an epoch
    resumed = train_tiny(tmp_path / "b", ema=DECAY, resume_run=Run(tmp_path / "b" / "toy" / "r"))
    for clean_part, resumed_part in zip(saved(clean), saved(resumed)):
        for name, value in clean_part.items():
            torch.testing.assert_close(resumed_part[name], value, rtol=0, atol=1e-6)


@pytest.mark.parametrize("ema", [-0.1, 1.0, 1.5])
def test_a_decay_outside_0_to_1_is_refused_in_one_line(ema):
    with pytest.raises(UserError, match="--ema"):
        CalcConfig(ema=ema)
    result = run_cli(["calc", "train", "--dry-run", "--ema", str(ema)])
    assert result.exit_code == 2 and "--ema" in result.stderr and "Traceback" not in result.stderr

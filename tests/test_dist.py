"""Data-parallel training: two CPU processes (gloo) with the same global batch and seed end
where one process does, for a tiny MLP and for the batch-normalised digit reader (whose batch
norms use the global batch's statistics under DDP). Neither has dropout here, so the match is
exact up to float rounding (the stated tolerance: 1e-5); with dropout each rank draws its own
masks and only the statistics agree."""

import json
import os

import pytest
import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp
from torch import nn

from neuralab.core import dist
from neuralab.core.data import index_batches
from neuralab.core.reader import SymbolNet
from neuralab.core.runs import Run, load_checkpoint
from neuralab.core.runtime import seed_everything
from neuralab.core.train import Loop, evaluator, fit


def problem(kind: str):
    """192 examples and a fresh model: a tiny MLP, or the batch-normalised digit reader (VGG-style)."""
    g = torch.Generator().manual_seed(0)
    seed_everything(7)
    if kind == "reader":
        x = torch.rand(192, 1, 28, 28, generator=g, dtype=torch.float64)
        reader = SymbolNet("vgg", classes=10).double()   # float64: 18 steps do not amplify rounding
        reader.head[2].p = 0.0      # dropout masks are per rank; the batch norms are what is tested
        return x, (x.mean((1, 2, 3)) * 20).long() % 10, reader
    x = torch.randn(192, 6, generator=g)
    return x, (x[:, 0] - x[:, 2] > 0).long(), nn.Sequential(nn.Linear(6, 12), nn.Tanh(), nn.Linear(12, 2))


def train(root: str, kind: str) -> None:
    x, y, model = problem(kind)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.3 if kind == "mlp" else 0.05)

    seen = []

    def step(m, idx):
        if m.training:
            seen.extend(idx.tolist())
        logits = m(x[idx])
        return nn.functional.cross_entropy(logits, y[idx]), {
            "count": len(idx), "correct": (logits.argmax(1) == y[idx]).sum().item()}

    run = Run.create(root, "toy", {"seed": 7}, name="r")
    loop = Loop(epochs=3, batches=lambda e: index_batches(192, 32, seed=7, epoch=e),  # global batch 32
                step=step, evaluate=evaluator(lambda: index_batches(192, 64), step))
    fit(run, model, optimizer, loop, kind="toy", config={"seed": 7})
    with open(os.path.join(root, f"seen-{dist.rank()}.json"), "w") as f:
        json.dump(seen, f)


def worker(rank: int, world: int, root: str, port: int, kind: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE=str(world), RANK=str(rank))
    torch.set_num_threads(1)
    dist.setup()
    try:
        train(root, kind)
    finally:
        dist.teardown()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not torch_dist.is_available(), reason="torch.distributed is not built")
@pytest.mark.parametrize("kind", ["mlp", "reader"])
def test_two_processes_match_one(tmp_path, kind):
    """The reader's batch norms use the global batch's statistics, so it matches too (1e-5)."""
    train(str(tmp_path / "one"), kind)
    mp.spawn(worker, args=(2, str(tmp_path / "two"), free_port(), kind), nprocs=2, join=True)
    runs = [tmp_path / "one" / "toy" / "r", tmp_path / "two" / "toy" / "r"]
    assert sorted(p.name for p in (tmp_path / "two" / "toy").iterdir()) == ["r"]  # rank 1 wrote no run
    seen = [json.loads((tmp_path / "two" / f"seen-{r}.json").read_text()) for r in (0, 1)]
    assert len(seen[0]) == len(seen[1]) == 3 * 96  # each rank trains on half of every global batch
    for epoch in range(3):
        a, b = (set(s[epoch * 96:(epoch + 1) * 96]) for s in seen)
        assert not a & b and a | b == set(range(192))  # disjoint, and together the whole epoch
    one, two = ([json.loads(line) for line in (r / "metrics.jsonl").read_text().splitlines()] for r in runs)
    assert len(one) == len(two) == 3
    for a, b in zip(one, two):
        assert a["train_loss"] == pytest.approx(b["train_loss"], abs=1e-5)
        assert a["train_accuracy"] == b["train_accuracy"] and a["val_accuracy"] == b["val_accuracy"]
    (w1, _, _), (w2, _, _) = (load_checkpoint(r / "last.safetensors", "toy") for r in runs)
    for name in w1:   # weights and batch-norm running statistics
        torch.testing.assert_close(w1[name].double(), w2[name].double(), atol=1e-5, rtol=0, msg=name)

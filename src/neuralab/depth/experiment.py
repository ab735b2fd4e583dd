"""One depth-study run (config, training, metrics) and a grid of runs with its summary files.

MNIST stays in memory on the training device as (N, 784) float tensors and batches are taken by
index, as Keras does with arrays (a DataLoader costs more than the model here). Every run writes
`metrics.jsonl`: an epoch-0 record (diagnostics of one backward pass at initialisation, no
step) and one record per epoch with train/test loss and accuracy and the diagnostics. With a
`holdout`, the last MNIST-train images are val: each epoch is judged on them instead, and the test
split is scored once, after the last epoch.
"""

from __future__ import annotations

import csv
import io
import logging
import statistics
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
import torch.nn.functional as F

from neuralab.core import dist, mnist
from neuralab.core.data import images_to_float, index_batches
from neuralab.core.errors import UserError
from neuralab.core.io import atomic_write_bytes
from neuralab.core.runs import Run, find_interrupted, find_reusable
from neuralab.core.runtime import seed_everything
from neuralab.core.train import Cosine, Loop, evaluate, fit
from neuralab.depth.diagnostics import Monitor
from neuralab.depth.model import (
    build_model,
    check_activation,
    get_variant,
    make_optimizer,
)

log = logging.getLogger(__name__)

PART = "depth"
PROBE_SIZE = 1000  # training images in the eval-mode spread probe: enough for a stable std
MAX_DEPTH = 100    # hidden layers: 100 x 512 x 512 weights is 26M parameters, about 1 GB to train
MAX_EPOCHS = 1000  # the protocol trains 10
MAX_HOLDOUT = 30_000  # val images: at most half of MNIST-train, so training keeps the larger part
SUMMARY_COLUMNS = ("variant", "activation", "depth", "seed", "test_accuracy", "test_loss", "val_accuracy")


@dataclass
class DepthConfig:
    variant: str = "keras"       # the assignment's model; see model.VARIANTS
    activation: str = "sigmoid"  # the assignment's activation; relu is the published fix
    depth: int = 3               # hidden layers; 3 is where the published run collapsed
    seed: int = 1234             # the assignment's np.random.seed(1234); more seeds count up
    epochs: int = 10             # the assignment's nb_epoch
    batch_size: int = 128        # the assignment's batch_size
    width: int = 512             # the assignment's Dense(512)
    dropout: float = 0.2         # the assignment's Dropout(0.2)
    holdout: int = 0             # last MNIST-train images kept out as val; 0: the assignment's protocol (test every epoch)
    data_sha256: str = ""        # filled in from the data, so runs on other data are never reused

    def __post_init__(self):
        """A config that exists is valid: every field is checked here, naming its flag."""
        get_variant(self.variant)
        check_activation(self.activation)
        for flag, value, low, high in (("--depths", self.depth, 1, MAX_DEPTH), ("--epochs", self.epochs, 1, MAX_EPOCHS),
                                       ("batch size", self.batch_size, 1, 60_000), ("width", self.width, 1, 4096),
                                       ("seed", self.seed, 0, 2**32 - 1), ("--holdout", self.holdout, 0, MAX_HOLDOUT)):
            if not low <= value <= high:
                raise UserError(f"{flag}: {value} is outside {low}..{high}")
        if not 0 <= self.dropout < 1:
            raise UserError(f"dropout: must be in [0, 1), got {self.dropout}")


@dataclass
class Tensors:
    """MNIST as float pixels/255, flattened, on one device."""

    x_train: torch.Tensor  # (60000, 784)
    y_train: torch.Tensor  # (60000,)
    x_test: torch.Tensor   # (10000, 784)
    y_test: torch.Tensor   # (10000,)
    sha256: str


def load_tensors(data_dir: Path | str | None, device: torch.device) -> Tensors:
    data = mnist.load(data_dir)
    flat = lambda x: images_to_float(x).flatten(1).to(device)  # noqa: E731  (N, 784)
    return Tensors(flat(data.x_train), torch.from_numpy(data.y_train).to(device),
                   flat(data.x_test), torch.from_numpy(data.y_test).to(device), data.sha256)


def make_step_fn(x: torch.Tensor, y: torch.Tensor):
    """step_fn(model, idx) for the shared loop: batch idx (B,) of rows of x (N, 784)."""
    def step_fn(model, idx):
        logits = model(x[idx])  # (B, 10)
        loss = F.cross_entropy(logits, y[idx])
        correct = (logits.argmax(1) == y[idx]).sum()
        return loss, {"count": len(idx), "correct": correct}
    return step_fn


def _batches_on(device: torch.device, batches: list[torch.Tensor]) -> list[torch.Tensor]:
    return [b.to(device, non_blocking=True) for b in batches]


def train_run(config: DepthConfig, data: Tensors, runs_root: Path | str, reuse: bool = True,
              resume: Run | None = None) -> Run:
    """Train one configuration (or reuse its finished run) and return the finished run. A run of the
    same configuration that was interrupted (or `resume`, one named by `--resume`) is continued from
    its last epoch, to the same figures.

    As in the published protocol, the test split is scored after every epoch and the last epoch is
    reported: no checkpoint is chosen by its test figure. With `config.holdout`, the epochs are
    scored on val (the last `holdout` MNIST-train images, never trained on) and test once at the end.
    """
    config = replace(config, data_sha256=data.sha256)
    if found := find_reusable(runs_root, PART, config, reuse, data.sha256):
        return found
    interrupted = resume or (find_interrupted(runs_root, PART, config, data.sha256) if reuse else None)
    device = data.x_train.device
    seed_everything(config.seed)
    model = build_model(config.variant, config.activation, config.depth, config.width,
                        config.dropout).to(device)
    optimizer = make_optimizer(model, config.variant)
    monitor = Monitor(model.dense_layers(), model.activations(), config.activation)
    name = f"{config.variant}-{config.activation}-d{config.depth}-s{config.seed}-e{config.epochs}"
    run = interrupted or Run.create(runs_root, PART, config, name, data.sha256)
    trained = len(data.y_train) - config.holdout
    if trained < config.holdout:
        raise UserError(f"--holdout: {config.holdout} would leave fewer MNIST-train images to train on than to "
                        f"judge ({len(data.y_train)} in all)")
    train_step = make_step_fn(data.x_train[:trained], data.y_train[:trained])
    test_step = make_step_fn(data.x_test, data.y_test)
    test_batches = _batches_on(device, index_batches(len(data.y_test), 1000))  # size: speed only
    judged, judge_step, judge_batches = "test", test_step, test_batches
    if config.holdout:
        judged, judge_step = "val", make_step_fn(data.x_train[trained:], data.y_train[trained:])
        judge_batches = _batches_on(device, index_batches(config.holdout, 1000))

    probe_x = data.x_train[:min(PROBE_SIZE, trained)]  # (PROBE_SIZE, 784), fixed training images: the eval-mode spread probe
    if interrupted is None:
        model.train()  # epoch 0: one backward at initialisation, no optimizer step
        first = index_batches(trained, config.batch_size, seed=config.seed, epoch=0)[0].to(device)
        train_step(model, first)[0].backward()
        model.zero_grad(set_to_none=True)
        monitor.probe(model, probe_x)
        run.log_metrics({"epoch": 0, **monitor.collect()})
    else:
        log.info("continuing the interrupted run %s", run.path)

    def judge(m) -> dict:
        monitor.probe(m, probe_x)
        diagnostics = monitor.collect()
        return {f"{judged}_{k}": v for k, v in evaluate(m, judge_batches, judge_step).items()} | diagnostics

    def epoch_batches(epoch: int) -> list[torch.Tensor]:
        return _batches_on(device, index_batches(trained, config.batch_size, seed=config.seed, epoch=epoch))

    t_start = time.perf_counter()
    variant = get_variant(config.variant)
    steps = config.epochs * -(-trained // config.batch_size)
    loop = Loop(epochs=config.epochs, batches=epoch_batches, step=train_step, evaluate=judge,
                schedule=Cosine(variant.lr, steps) if variant.schedule == "cosine" else None)
    history = fit(run, model, optimizer, loop, kind=PART, config=config, data_hash=data.sha256,
                  resume=interrupted is not None).history
    monitor.remove()
    result = {f"{judged}_{k}": history[-1][f"{judged}_{k}"] for k in ("accuracy", "loss")}
    if config.holdout:   # the test split, once, for the figure reported
        tested = evaluate(model, test_batches, test_step)
        result |= {"test_accuracy": tested["accuracy"], "test_loss": tested["loss"]}
    run.finish({**result,
                "seconds": time.perf_counter() - t_start, "device": str(device)})
    return run


def summary_row(run: Run) -> dict:
    config, result = run.config, run.result or {}
    return {"variant": config["variant"], "activation": config["activation"], "depth": config["depth"],
            "seed": config["seed"], "test_accuracy": result.get("test_accuracy"),
            "test_loss": result.get("test_loss"), "val_accuracy": result.get("val_accuracy")}   # val: runs with a holdout


def run_configs(configs: list[DepthConfig], data: Tensors, runs_root: Path | str,
                reuse: bool = True) -> list[Run]:
    """Train (or reuse) each config in order; duplicates run once."""
    runs, seen = [], set()
    for config in configs:
        key = tuple(sorted(asdict(config).items()))
        if key not in seen:
            seen.add(key)
            runs.append(train_run(config, data, runs_root, reuse))
    return runs


def write_summary(runs: list[Run], out_dir: Path | str, depths: list[int] | None = None) -> list[dict]:
    """Write summary.csv (one row per run) and summary.md (mean accuracy per variant); return the rows."""
    rows = dist.broadcast([summary_row(run) for run in runs] if dist.is_main() else None)  # rank 0 wrote the results
    if not dist.is_main():
        return rows
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=SUMMARY_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_bytes(Path(out_dir) / "summary.csv", buf.getvalue().encode())
    atomic_write_bytes(Path(out_dir) / "summary.md", (summary_markdown(rows, depths) + "\n").encode())
    return rows


def summary_markdown(rows: list[dict], depths: list[int] | None = None, spread: bool = False) -> str:
    """Mean test accuracy (over seeds) per (variant, activation) and depth, with the seed count;
    with `spread`, the sample standard deviation over seeds too."""
    depths = depths or sorted({r["depth"] for r in rows})
    cells: dict[tuple, list[float]] = {}
    for r in rows:
        cells.setdefault((r["variant"], r["activation"], r["depth"]), []).append(r["test_accuracy"])
    keys = list(dict.fromkeys((r["variant"], r["activation"]) for r in rows))
    lines = ["| variant | activation | " + " | ".join(f"depth {d}" for d in depths) + " |",
             "|---|---|" + "---|" * len(depths)]
    for variant, activation in keys:
        vals = []
        for d in depths:
            accs = cells.get((variant, activation, d))
            sd = f" ± {statistics.stdev(accs):.3f}" if spread and accs and len(accs) > 1 else ""
            vals.append(f"{sum(accs) / len(accs):.3f}{sd} (n={len(accs)})" if accs else "–")
        lines.append(f"| {variant} | {activation} | " + " | ".join(vals) + " |")
    return "\n".join(lines)

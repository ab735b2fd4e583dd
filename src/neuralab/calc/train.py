"""Train a calculator from sums alone.

Each epoch draws fresh training sums from MNIST-train images, by (seed, epoch). The best epoch is
chosen on `val_size` sums that also come from MNIST-train images (never from MNIST-test): with
`holdout`, from its last images, which training never sees; without, from the training images. With
`keep="last"` the final epoch is kept. The figure printed at the end is that checkpoint scored on
`test_count` sums of MNIST-test images by `score_loaded`, which `calc eval`
runs too, so the two agree.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import torch
from torch import nn

from neuralab.calc import touching
from neuralab.calc.config import KIND, CalcConfig
from neuralab.calc.data import Bank, Batches, Labelled, make_examples
from neuralab.calc.evaluate import read_checkpoint, score_loaded
from neuralab.calc.metrics import score
from neuralab.calc.models import build
from neuralab.core import mnist
from neuralab.core.augment import Augment
from neuralab.core.data import epoch_generator
from neuralab.core.runs import Run
from neuralab.core.runtime import MAX_SEED, pick_device, seed_everything, training_precision
from neuralab.core.train import Cosine, Loop, fit


class Trained(NamedTuple):
    run: Run
    checkpoint: Path     # the kept checkpoint (best or last)
    test: dict           # its figures on MNIST-test sums
    model: nn.Module     # the kept model, in eval mode: scored, and ready for figures without another read


def train(config: CalcConfig, runs_root: Path | str = "runs", data_dir: Path | str | None = None,
          device: str = "auto", name: str | None = None, resume: Run | None = None,
          data: mnist.MNIST | None = None) -> Trained:
    """Train, keep the best (or last) epoch, score it on MNIST-test sums. Returns (run, checkpoint, test figures, model).

    With `warmup`, epoch 1 is a warm-up on sums of numbers of at most 2 digits in the same format (sums
    alone): the CNN first learns digits where the arithmetic is short, then the real epochs follow.
    With `starts` > 1, short starts come first (`short_starts`) and the one kept goes on.
    With `ema`, every epoch is judged, and every checkpoint holds, the moving average of the weights.
    With `resume` (a run of this config that did not finish), training goes on from its last epoch.
    With `touch`, the one-digit judge for pictures (`calc.touching`) is trained first, from MNIST-train
    images alone, within `max_seconds`; its figures go into the run's result.
    `data`: MNIST already loaded (the report's section loads it once), else read from `data_dir`.
    """
    dev = pick_device(device)
    data = data or mnist.load(data_dir)
    train_bank, val_bank = Bank.train_and_val(data, config.layout.specials, config.holdout)
    seed_everything(config.seed)
    precision = training_precision(config.precision, dev)            # bf16 where it is native, else fp32
    model = build(config.model, config.layout, config.reader, config.shift, config.views, precision,
                  config.touch > 0).to(dev)
    if resume is not None:
        resume.refuse_other_data(data.sha256)
    run = resume or Run.create(runs_root, KIND, config, name, data.sha256)
    started = time.perf_counter()
    judged = {}                       # the one-digit judge's figures; its time is part of max_seconds
    if getattr(model, "touch", None) is not None:
        judged = touching.train(model.touch, train_bank.images[:train_bank.n_digits], config.touch, config.seed)
    judge = {key: value for key, value in model.state_dict().items() if key.startswith("touch.")}
    val = make_examples(config.layout, val_bank, config.val_size, seed=config.seed + 10_000)

    def loop(stage: str = "", seconds: float = config.max_seconds, schedule: bool = True) -> Loop:
        def step(m, batch):
            images, numbers, layout = batch
            loss = m.loss(images.to(dev), numbers.to(dev), config.supervise, layout)
            return loss, {"count": len(numbers)}

        def validate(m) -> dict:
            return {f"val_{k}": v for k, v in score(m, config.layout, val_bank, val, dev).items()}

        total_steps = sum(-(-n // config.batch_size) for n in epoch_sizes(config, train_bank))
        cosine = schedule and config.schedule == "cosine"
        return Loop(epochs=config.epochs + bool(config.warmup), batches=lambda e: epoch_batches(config, train_bank, e),
                    step=step, evaluate=validate, monitor="val_exact_sum_accuracy",
                    schedule=Cosine(config.lr, total_steps, seconds) if cosine else None,
                    deadline=time.perf_counter() + seconds if seconds else None,
                    clip_norm=config.clip_norm or None, stage=stage, ema=config.ema)

    if config.starts > 1 and not (resume is not None and (run.path / "last.safetensors").exists()):
        model.load_state_dict(short_starts(config, run, loop, dev, data.sha256) | judge)   # the judge trained above
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    remaining = max(config.max_seconds - (time.perf_counter() - started), 1.0) if config.max_seconds else 0.0
    result = fit(run, model, optimizer, loop(seconds=remaining), kind=KIND, config=config, data_hash=data.sha256,
                 resume=resume is not None)
    kept = result.last_path if config.keep == "last" else result.best_path
    loaded = read_checkpoint(kept, device)           # (model, config, layout, sidecar): read once, scored, handed back
    test = score_loaded(loaded, count=config.test_count, seed=config.test_seed, data=data, device=device)
    test["train_seconds"] = sum(m.get("seconds", 0.0) for m in run.metrics())   # the short starts' too
    run.finish({"checkpoint": str(kept.resolve()), "test": test, "precision": precision, **judged})
    return Trained(run, kept, test, loaded[0])


def short_starts(config: CalcConfig, run: Run, loop, device: torch.device, data_hash: str) -> dict:
    """Train `starts` freshly initialised models for `start_seconds` each at the constant rate `lr`
    and return the weights of the one with the lowest training loss in its last epoch: the negative
    log-likelihood of the training sums, so no digit label is used. Start 1 has the run's own seed
    (the run without starts), start k the seed + 7919 (k - 1). Each is a stage of the run, start<k>."""
    kept = None
    for k in range(1, config.starts + 1):
        seed_everything((config.seed + 7919 * (k - 1)) % (MAX_SEED + 1))
        model = build(config.model, config.layout, config.reader, config.shift, config.views,
                      training_precision(config.precision, device), config.touch > 0).to(device)
        optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        history = fit(run, model, optimizer, loop(f"start{k}", config.start_seconds, schedule=False),
                      kind=KIND, config=config, data_hash=data_hash).history
        loss = history[-1]["train_loss"] if history else float("inf")
        if kept is None or loss < kept[1]:
            kept = (k, loss, {name: t.clone() for name, t in model.state_dict().items()})
    run.log_metrics({"start_kept": kept[0], "start_kept_train_loss": kept[1]})
    return kept[2]


def epoch_batches(config: CalcConfig, bank: Bank, epoch: int) -> Batches:
    """Epoch `epoch`'s training sums, drawn by (seed, epoch): the warm-up's short sums first."""
    layout = config.layout
    warming = config.warmup and epoch == 1
    if warming:
        layout = replace(layout, digits=min(2, layout.digits))
    size = None if config.format == "fixed" else config.warmup if warming else config.train_size
    examples = make_examples(layout, bank, size, seed=config.seed * 1000 + epoch)
    if config.supervise == "labels":
        examples = Labelled(examples.image, examples.symbol, examples.numbers)
    order = torch.randperm(len(examples), generator=epoch_generator(config.seed, epoch)).numpy()
    distort = Augment().scaled(config.distort) if config.augment else None
    return Batches(bank, examples, config.batch_size, order, layout, distort, epoch_generator(config.seed + 1, epoch))


def epoch_sizes(config: CalcConfig, bank: Bank) -> list[int]:
    """Training sums in each epoch, warm-up first (the `fixed` protocol fixes its own size)."""
    if config.format == "fixed":
        return [bank.n_digits // (2 * config.digits)] * (config.epochs + bool(config.warmup))
    return [config.warmup] * bool(config.warmup) + [config.train_size] * config.epochs

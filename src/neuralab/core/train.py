"""The shared training loop: one explicit `train_one_epoch` / `evaluate` pair, and `fit`.

A part supplies a `step_fn(model, batch) -> (loss, stats)` where `loss` is the batch's mean loss
and `stats` holds sums over the batch: `count` (examples) and any others (e.g. `correct`).
Epoch figures are the sums divided by `count`; `correct` is reported as `accuracy`.

`fit` adds what every run needs: metrics.jsonl, a `last` checkpoint each epoch holding optimizer
and RNG states (so `resume` ends exactly where an uninterrupted run would), a `best` checkpoint,
and Ctrl-C handling that keeps the best checkpoint.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sized

import torch
from torch import nn

from neuralab.core import dist
from neuralab.core.progress import bar
from neuralab.core.runs import Run, load_checkpoint, save_checkpoint
from neuralab.core.runtime import rng_state, set_rng_state

log = logging.getLogger(__name__)

StepFn = Callable[[nn.Module, Any], tuple[torch.Tensor, dict[str, float]]]


def _summarise(loss_sum: float, sums: dict[str, float]) -> dict[str, float]:
    count = max(sums.get("count", 0), 1)
    out = {"loss": loss_sum / count}
    for key, value in sums.items():
        if key != "count":
            out["accuracy" if key == "correct" else key] = value / count
    return out


def _accumulate(sums: dict[str, float], stats: dict[str, float]) -> None:
    for key, value in stats.items():
        sums[key] = sums.get(key, 0) + float(value)


def train_one_epoch(model: nn.Module, batches: Iterable, optimizer: torch.optim.Optimizer,
                    step_fn: StepFn, description: str = "train", clip_norm: float | None = None) -> dict:
    model.train()
    loss_sum, sums = 0.0, {}
    total = len(batches) if isinstance(batches, Sized) else 0
    with bar(description, total) as progress:
        for batch in batches:
            optimizer.zero_grad(set_to_none=True)
            loss, stats = step_fn(model, dist.shard(batch))  # this rank's rows of the global batch
            loss.backward()
            if clip_norm:
                nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
            optimizer.step()
            loss_sum += loss.item() * stats["count"]
            _accumulate(sums, stats)
            progress.advance(1, loss=loss_sum / sums["count"])
    totals = dist.all_sum({**sums, "__loss": loss_sum})
    return _summarise(totals.pop("__loss"), totals)


@torch.no_grad()
def evaluate(model: nn.Module, batches: Iterable, step_fn: StepFn) -> dict:
    model.eval()
    loss_sum, sums = 0.0, {}
    for batch in batches:
        loss, stats = step_fn(model, batch)
        loss_sum += loss.item() * stats["count"]
        _accumulate(sums, stats)
    return _summarise(loss_sum, sums)


@dataclass
class FitResult:
    run: Run
    best_path: Any
    last_path: Any
    history: list[dict]
    interrupted: bool = False


def fit(run: Run, model: nn.Module, optimizer: torch.optim.Optimizer, *, kind: str, config: Any,
        epochs: int, train_batches: Callable[[int], Iterable], eval_batches: Callable[[], Iterable],
        step_fn: StepFn, eval_fn: Callable[[nn.Module], dict] | None = None,
        monitor: str = "accuracy", data_hash: str = "", resume: bool = False,
        clip_norm: float | None = None) -> FitResult:
    """Train for `epochs` epochs, evaluating after each; checkpoint `last` and `best` in the run.

    `train_batches(epoch)` must be deterministic given the epoch (seed it from config.seed + epoch)
    so a resumed run sees the same batches as an uninterrupted one; returning None ends training. `eval_fn`, if given, replaces
    the plain `evaluate` over `eval_batches` (for parts whose metric is not a per-batch sum).
    """
    last, best = run.path / "last.safetensors", run.path / "best.safetensors"
    start, best_value = 1, float("-inf")
    if resume and last.exists():
        model_state, meta, state = load_checkpoint(last, kind)
        dist.unwrap(model).load_state_dict(model_state)
        optimizer.load_state_dict(state["optimizer"])
        set_rng_state(state["rng"])
        start, best_value = meta["step"] + 1, state["best"]
        run.truncate_metrics(meta["step"])
        log.info("resuming %s from epoch %d", run.path, start)
    bare, model = model, dist.wrap(model)  # checkpoints hold the bare model's weights
    try:
        for epoch in range(start, epochs + 1):
            t0 = time.perf_counter()
            batches = train_batches(epoch)
            if batches is None:                # the part ends training early (a time budget is spent)
                break
            train = train_one_epoch(model, batches, optimizer, step_fn, f"epoch {epoch}/{epochs}", clip_norm)
            test = eval_fn(bare) if eval_fn else evaluate(bare, eval_batches(), step_fn)
            record = {"epoch": epoch, **{f"train_{k}": v for k, v in train.items()},
                      **{f"test_{k}": v for k, v in test.items()}, "seconds": time.perf_counter() - t0}
            run.log_metrics(record)
            log.info("epoch %3d  train loss %.4f  test %s %.4f  (%.1fs)", epoch, train["loss"],
                     monitor, test.get(monitor, float("nan")), record["seconds"])
            value = test.get(monitor, float("-inf"))
            if value >= best_value:            # a tie goes to the later epoch: it has trained (and annealed) longer
                best_value = value
                save_checkpoint(best, bare, kind=kind, config=config, step=epoch, metric=test,
                                data_hash=data_hash)
            save_checkpoint(last, bare, kind=kind, config=config, step=epoch, metric=test,
                            data_hash=data_hash, state={"optimizer": optimizer.state_dict(),
                                                        "rng": rng_state(), "best": best_value})
    except KeyboardInterrupt:
        log.warning("interrupted; best checkpoint kept at %s; continue with --resume %s", best, run.path)
        return FitResult(run, best, last, run.metrics(), interrupted=True)
    dist.barrier()  # rank 0's checkpoints are on disk before any rank reads them
    return FitResult(run, best, last, run.metrics())

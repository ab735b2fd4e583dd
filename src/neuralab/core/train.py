"""The one training loop: `fit` runs a `Loop` (what to train on, how to step, how to judge an epoch).

A part supplies a `step(model, batch) -> (loss, stats)` where `loss` is the batch's mean loss and
`stats` holds sums over the batch: `count` (examples) and any others (e.g. `correct`). Epoch
figures are the sums divided by `count`; `correct` is reported as `accuracy`.

`fit` adds what every run needs: metrics.jsonl, a `last` checkpoint each epoch holding optimizer
and RNG states and the step count (so `resume` ends exactly where an uninterrupted run would), a
`best` checkpoint by the loop's `monitor`, a wall-time deadline that leaves room for the last
evaluation, and Ctrl-C handling that keeps every checkpoint already written and then re-raises.

With `Loop.ema`, an exponential moving average of the weights and batch-norm statistics
(torch.optim.swa_utils.AveragedModel, `ema_update`) follows every step; it is what each epoch evaluates
and what the checkpoints hold as the model, while `last` keeps the trained weights themselves for
resuming. Training itself is unchanged by it.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sized

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel

from neuralab.core import dist
from neuralab.core.progress import bar
from neuralab.core.runs import Run, load_checkpoint, save_checkpoint
from neuralab.core.runtime import rng_state, set_rng_state

log = logging.getLogger(__name__)

StepFn = Callable[[nn.Module, Any], tuple[torch.Tensor, dict[str, float]]]
Schedule = Callable[[torch.optim.Optimizer, int], None]   # (optimizer, steps taken so far): set the lr


@dataclass
class Cosine:
    """Cosine from `lr` to 0 over `steps` steps; with `seconds`, over that much wall time from the
    loop's start instead, whichever is further on (a budget run anneals by its budget)."""

    lr: float
    steps: int
    seconds: float = 0.0
    start: float = field(default_factory=time.perf_counter)

    def __call__(self, optimizer: torch.optim.Optimizer, step: int) -> None:
        progress = step / self.steps
        if self.seconds:
            progress = max(progress, (time.perf_counter() - self.start) / self.seconds)
        for group in optimizer.param_groups:
            group["lr"] = self.lr * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


@dataclass
class Loop:
    """What `fit` runs. `batches` must be deterministic given the epoch (seed it from the config's
    seed and the epoch), so that a resumed run sees the same batches as an uninterrupted one."""

    epochs: int
    batches: Callable[[int], Iterable]             # epoch (from 1) -> that epoch's batches
    step: StepFn                                   # (model, batch) -> (mean loss, sums over the batch)
    evaluate: Callable[[nn.Module], dict]          # after each epoch: named figures, e.g. {"val_accuracy": .9}
    monitor: str | None = None                     # the figure (higher is better) that picks `best`; None: no best
    schedule: Schedule | None = None               # None: the optimizer keeps its learning rate
    deadline: float | None = None                  # time.perf_counter() by which training and its evaluation end
    clip_norm: float | None = None                 # cap on the gradient norm; None: no clipping
    stage: str = ""                                # a run with two stages names them: <stage>-last.safetensors
    ema: float = 0.0                               # 0: none; else the per-step decay of the weights' moving average


@dataclass
class FitResult:
    run: Run
    best_path: Path | None
    last_path: Path
    history: list[dict]


def ema_update(decay: float):
    """AveragedModel's update for a moving average whose decay grows to `decay` as (1 + n) / (10 + n)
    after n updates: an average that starts at a fixed `decay` holds the random initial weights for
    thousands of steps, and an average of a network with its much earlier self reads nothing."""
    @torch.no_grad()
    def update(averaged: list[torch.Tensor], current: list[torch.Tensor], n: torch.Tensor) -> None:
        weight = 1 - min(decay, (1 + int(n)) / (10 + int(n)))
        for a, c in zip(averaged, current):
            if a.is_floating_point():
                a.lerp_(c, weight)
            else:
                a.copy_(c)                     # counters (batch norm's batches seen)
    return update


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


def train_one_epoch(model: nn.Module, batches: Iterable, optimizer: torch.optim.Optimizer, loop: Loop,
                    description: str, first_step: int = 0, until: float | None = None,
                    average: AveragedModel | None = None) -> tuple[dict, int]:
    """One pass over `batches` (stopping at `until`), updating `average` after each step;
    returns (the epoch's figures, steps taken)."""
    model.train()
    loss_sum, sums, steps = 0.0, {}, 0
    total = len(batches) if isinstance(batches, Sized) else 0
    with bar(description, total) as progress:
        for batch in batches:
            if until is not None and time.perf_counter() > until:
                break
            if loop.schedule is not None:
                loop.schedule(optimizer, first_step + steps)
            optimizer.zero_grad(set_to_none=True)
            loss, stats = loop.step(model, dist.shard(batch))  # this rank's rows of the global batch
            loss.backward()
            if loop.clip_norm:
                nn.utils.clip_grad_norm_(model.parameters(), loop.clip_norm)
            optimizer.step()
            if average is not None:
                average.update_parameters(dist.unwrap(model))
            steps += 1
            loss_sum += loss.item() * stats["count"]
            _accumulate(sums, stats)
            progress.advance(1, loss=loss_sum / sums["count"])
    totals = dist.all_sum({**sums, "__loss": loss_sum})
    return _summarise(totals.pop("__loss"), totals), steps


@torch.no_grad()
def evaluate(model: nn.Module, batches: Iterable, step: StepFn) -> dict:
    """The step's figures summed over `batches` in eval mode, with no gradients."""
    model.eval()
    loss_sum, sums = 0.0, {}
    for batch in batches:
        loss, stats = step(model, batch)
        loss_sum += loss.item() * stats["count"]
        _accumulate(sums, stats)
    return _summarise(loss_sum, sums)


def evaluator(batches: Callable[[], Iterable], step: StepFn, prefix: str = "val") -> Callable[[nn.Module], dict]:
    """A `Loop.evaluate` from a step: its figures over `batches()`, named `<prefix>_<figure>`."""
    return lambda model: {f"{prefix}_{k}": v for k, v in evaluate(model, batches(), step).items()}


def fit(run: Run, model: nn.Module, optimizer: torch.optim.Optimizer, loop: Loop, *, kind: str, config: Any,
        data_hash: str = "", resume: bool = False) -> FitResult:
    """Train `loop.epochs` epochs, evaluating after each; checkpoint `last` (and `best`) in the run.

    Training ends early when `loop.deadline` leaves less time than the last evaluation took, or when
    an epoch gets no step in before it. Ctrl-C keeps the checkpoints written so far and re-raises.
    """
    prefix = f"{loop.stage}-" if loop.stage else ""
    last, best = run.path / f"{prefix}last.safetensors", run.path / f"{prefix}best.safetensors"
    start, best_value, steps = 1, float("-inf"), 0
    average = AveragedModel(model, multi_avg_fn=ema_update(loop.ema), use_buffers=True) if loop.ema else None
    evaluated = model if average is None else average.module   # what each epoch evaluates and saves as the model
    if resume and last.exists():
        model_state, meta, state = load_checkpoint(last, kind)
        evaluated.load_state_dict(model_state)
        if average is not None:
            model.load_state_dict(state["trained"])
            average.n_averaged.fill_(state["averaged"])
        optimizer.load_state_dict(state["optimizer"])
        set_rng_state(state["rng"])
        start, best_value, steps = meta["step"] + 1, state["best"], state.get("steps", 0)
        run.truncate_metrics(meta["step"], loop.stage)
        log.info("resuming %s from epoch %d", run.path, start)
    bare, model = model, dist.wrap(model)  # checkpoints hold the bare model's weights
    eval_seconds = 0.0
    try:
        for epoch in range(start, loop.epochs + 1):
            until = None if loop.deadline is None else loop.deadline - eval_seconds
            t0 = time.perf_counter()
            if until is not None and t0 > until:
                break                          # the time budget is spent
            train, taken = train_one_epoch(model, loop.batches(epoch), optimizer, loop,
                                           f"{prefix}epoch {epoch}/{loop.epochs}", steps, until, average)
            if taken == 0:
                break
            steps += taken
            t1 = time.perf_counter()
            figures = loop.evaluate(evaluated)
            eval_seconds = time.perf_counter() - t1
            record = {"epoch": epoch, **({"stage": loop.stage} if loop.stage else {}),
                      **{f"train_{k}": v for k, v in train.items()}, "train_steps": taken,
                      "lr": optimizer.param_groups[0]["lr"], **figures,
                      "seconds": time.perf_counter() - t0}
            run.log_metrics(record)
            judged = loop.monitor or next(iter(figures), "")
            log.info("%sepoch %3d  train loss %.4f  %s %.4f  (%.1fs)", prefix, epoch, train["loss"],
                     judged, figures.get(judged, float("nan")), record["seconds"])
            if loop.monitor is not None and figures[loop.monitor] >= best_value:
                best_value = figures[loop.monitor]  # a tie goes to the later epoch: it trained (and annealed) longer
                save_checkpoint(best, evaluated, kind=kind, config=config, step=epoch, metric=figures,
                                data_hash=data_hash)
            averaged = {} if average is None else {"trained": bare.state_dict(),
                                                   "averaged": int(average.n_averaged)}
            save_checkpoint(last, evaluated, kind=kind, config=config, step=epoch, metric=figures,
                            data_hash=data_hash, state={"optimizer": optimizer.state_dict(), "rng": rng_state(),
                                                        "best": best_value, "steps": steps, **averaged})
    except KeyboardInterrupt:
        log.warning("interrupted; checkpoints written so far are in %s; continue with --resume %s",
                    run.path, run.path)
        raise
    dist.barrier()  # rank 0's checkpoints are on disk before any rank reads them
    return FitResult(run, best if loop.monitor is not None else None, last,
                     [m for m in run.metrics() if m.get("stage", "") == loop.stage and "epoch" in m])

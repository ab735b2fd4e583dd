"""Train a calculator from sums alone, and evaluate a checkpoint on sums of MNIST-test digits.

Each epoch draws fresh training sums from MNIST-train images, by (seed, epoch). The best epoch is
chosen on `val_size` sums that also come from MNIST-train images (never from MNIST-test), or with
`keep="last"` the final epoch is kept. The figure printed at the end is that checkpoint scored on
`test_count` sums of MNIST-test images by `evaluate_checkpoint`, the very function `calc eval`
calls, so the two agree.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from neuralab.calc.data import Bank, Layout, make_examples
from neuralab.calc.metrics import Batches, score
from neuralab.calc.models import MODELS, build
from neuralab.core.reader import READERS, VIEW_SHIFTS
from neuralab.core import mnist
from neuralab.core.augment import Augment
from neuralab.core.data import epoch_generator
from neuralab.core.errors import UserError
from neuralab.core.runs import Run, load_checkpoint
from neuralab.core.runtime import pick_device, seed_everything
from neuralab.core.train import fit

log = logging.getLogger(__name__)
KIND = "calc"


@dataclass
class CalcConfig:
    model: str = "symbolic"        # exact arithmetic over a per-image CNN; "seed" is the 2017 LSTM
    format: str = "expression"     # the 2017 layout: a '+' b, blank-padded
    digits: int = 5                # N: the 2017 operands had up to 5 digits
    operands: int = 2              # K: the 2017 task added two numbers
    specials: str = "noise"        # '+' and blank as fixed noise images, as in 2017
    supervise: str = "final"       # operands format: learn from the final total only
    train_size: int = 20000        # sums drawn per epoch (fresh each epoch)
    epochs: int = 4                # enough for the symbolic model to read digits at ~99%
    batch_size: int = 64           # sums per step; all their slots go through the CNN at once
    lr: float = 3e-3               # symbolic: 3x Adam's default learns digits from sums sooner
    schedule: str = "cosine"       # anneal to 0 by the last step or max_seconds (whichever is first): the end is best
    weight_decay: float = 0.0      # AdamW's decoupled decay; 0 is plain Adam
    clip_norm: float = 10.0        # gradient norms run ~3.5 with spikes to 40; capping spikes guards batch norm
    reader: str = "vgg"            # symbolic: the CNN that reads each slot (see core.reader.READERS)
    shift: int = 2                 # symbolic: random shifts of up to 2 pixels; digits memorised from train fail on test
    augment: bool = True           # symbolic: distort digits (stroke, slant, wobble, blur, noise) so real pens read too
    views: int = 5                 # symbolic, eval: mean reading of the image and its 4 one-pixel shifts (+0.1% digits)
    warmup: int = 12800            # symbolic: a first epoch of short sums (<= 2 digits), digits first
    val_size: int = 1000           # MNIST-train sums that pick the best epoch
    keep: str = "best"             # "last": the final epoch, for budget runs annealed to 0 with too few sums to pick by
    test_count: int = 10000        # MNIST-test sums behind the printed figure
    test_seed: int = 1             # the default of `calc eval --seed`
    seed: int = 0                  # fixes weights, training sums and batch order
    max_seconds: float = 0.0       # 0: no limit; else stop training after this wall time (benchmarks)
    profile: str = "custom"        # which preset filled in the sizes

    @property
    def layout(self) -> Layout:
        return Layout(self.format, self.digits, self.operands, self.specials)


# Sizes per (profile, model). quick: the report's default, a few minutes on 2 CPU cores.
PROFILES = {
    ("quick", "symbolic"): dict(warmup=12800, train_size=6400, epochs=1, val_size=500, test_count=1000),
    ("quick", "seed"): dict(warmup=0, lr=1e-3, schedule="constant", train_size=12800, epochs=2, val_size=500, test_count=1000),
    ("full", "symbolic"): dict(warmup=19200, train_size=32000, epochs=5, test_count=10000),
    ("full", "seed"): dict(warmup=0, lr=1e-3, schedule="constant", train_size=450000, epochs=9, batch_size=512, test_count=10000),
}


def resolve(config: CalcConfig, profile: str | None) -> CalcConfig:
    """Check the config and apply a profile's sizes (explicit sizes are set after this)."""
    if config.model not in MODELS:
        raise UserError(f"--model: unknown model {config.model!r} (choose from {', '.join(MODELS)})")
    if config.supervise not in ("final", "running"):
        raise UserError(f"--supervise: {config.supervise!r} is not final or running")
    if config.supervise == "running" and config.format != "operands":
        raise UserError("--supervise running needs --format operands")
    config.layout  # validates format, digits, operands, specials
    if profile is not None:
        if (profile, config.model) not in PROFILES:
            raise UserError(f"--profile: unknown profile {profile!r} (choose quick or full)")
        config = replace(config, profile=profile, **PROFILES[(profile, config.model)])
    if config.model == "seed":
        config = replace(config, warmup=0, augment=False)   # one fixed layout, as in 2017: no warm-up, no distortion
    if config.keep not in ("best", "last"):
        raise UserError(f"--keep: {config.keep!r} is not best or last")
    if config.schedule not in ("constant", "cosine"):
        raise UserError(f"--schedule: {config.schedule!r} is not constant or cosine")
    if config.model == "symbolic" and config.reader not in READERS:
        raise UserError(f"--reader: unknown reader {config.reader!r} (choose from {', '.join(READERS)})")
    if not 1 <= config.views <= len(VIEW_SHIFTS):
        raise UserError(f"--views: must be 1..{len(VIEW_SHIFTS)}, got {config.views}")
    if not 0 <= config.shift <= 4:
        raise UserError(f"--shift: must be between 0 and 4 pixels, got {config.shift}")
    if config.warmup < 0:
        raise UserError(f"--warmup: must be 0 or more, got {config.warmup}")
    for name in ("train_size", "epochs", "batch_size", "val_size", "test_count"):
        if getattr(config, name) < 1:
            raise UserError(f"--{name.replace('_', '-')}: must be at least 1, got {getattr(config, name)}")
    return config


def train(config: CalcConfig, runs_root: Path | str = "runs", data_dir: Path | str | None = None,
          device: str = "auto", name: str | None = None) -> tuple[Run, Path, dict]:
    """Train, keep the best (or last) epoch, score it on MNIST-test sums. Returns (run, checkpoint, test figures).

    With `warmup`, epoch 1 is a warm-up on sums of numbers of at most 2 digits in the same format (sums
    alone): the CNN first learns digits where the arithmetic is short, then the real epochs follow.
    """
    dev = pick_device(device)
    layout = config.layout
    data = mnist.load(data_dir)
    train_bank = Bank.from_mnist(data, "train", layout.specials)
    seed_everything(config.seed)
    model = build(config.model, layout, config.reader, config.shift, config.views).to(dev)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    run = Run.create(runs_root, KIND, config, name)
    count = None if layout.format == "fixed" else config.train_size
    val = make_examples(layout, train_bank, config.val_size, seed=config.seed + 10_000)

    warm = replace(layout, digits=min(2, layout.digits))
    epoch_steps = [-(-n // config.batch_size) for n in epoch_sizes(config, train_bank)]
    position = [0]                               # steps taken so far, also after a resume

    def train_batches(epoch: int) -> Batches | None:
        if config.max_seconds and time.perf_counter() - t0 > config.max_seconds - val_seconds[0]:
            return None                          # out of time: no more epochs
        position[0] = sum(epoch_steps[:epoch - 1])
        warming = config.warmup and epoch == 1
        lay = warm if warming else layout
        size = config.warmup if warming and layout.format != "fixed" else count
        examples = make_examples(lay, train_bank, size, seed=config.seed * 1000 + epoch)
        order = torch.randperm(len(examples), generator=epoch_generator(config.seed, epoch)).numpy()
        # the validation after the epoch counts too: stop early enough for it to end within budget
        deadline = t0 + config.max_seconds - val_seconds[0] if config.max_seconds else None
        distort = Augment() if config.augment else None
        return Batches(train_bank, examples, config.batch_size, order, lay, deadline, distort,
                       epoch_generator(config.seed + 1, epoch))

    last_val: dict = {}
    val_seconds = [0.0]                          # how long the last validation took

    def step(m, batch):
        images, numbers, lay = batch
        last_val.clear()                         # the model changes: the next validation rescores
        if config.schedule == "cosine":
            set_cosine_lr(optimizer, config, position[0] / sum(epoch_steps), time.perf_counter() - t0)
        position[0] += 1
        loss = m.loss(images.to(dev), numbers.to(dev), config.supervise, lay)
        return loss, {"count": len(numbers)}

    def val_score(m) -> dict:
        if not last_val:                         # an epoch cut to nothing by the deadline keeps the last score
            started = time.perf_counter()
            last_val.update(score(m, layout, train_bank, val, dev))
            val_seconds[0] = time.perf_counter() - started
        return dict(last_val)

    t0 = time.perf_counter()
    result = fit(run, model, optimizer, kind=KIND, config=config, epochs=config.epochs + bool(config.warmup),
                 train_batches=train_batches, eval_batches=lambda: [], step_fn=step, eval_fn=val_score,
                 monitor="exact_sum_accuracy", data_hash=data.sha256, clip_norm=config.clip_norm or None)
    train_seconds = sum(m["seconds"] for m in run.metrics())
    kept = result.last_path if config.keep == "last" else result.best_path
    test = evaluate_checkpoint(kept, count=config.test_count, seed=config.test_seed,
                               data=data, device=device)
    test["train_seconds"] = train_seconds
    run.finish({"checkpoint": str(kept), "test": test, "interrupted": result.interrupted})
    return run, kept, test


def epoch_sizes(config: CalcConfig, bank: Bank) -> list[int]:
    """Training sums in each epoch, warm-up first (the `fixed` protocol fixes its own size)."""
    if config.format == "fixed":
        return [bank.n_digits // (2 * config.digits)] * (config.epochs + bool(config.warmup))
    return [config.warmup] * bool(config.warmup) + [config.train_size] * config.epochs


def set_cosine_lr(optimizer: torch.optim.Optimizer, config: CalcConfig, step_fraction: float,
                  seconds: float) -> None:
    """Cosine from `lr` to 0 over training; under a time budget, the budget's fraction if it is further on."""
    progress = max(step_fraction, seconds / config.max_seconds if config.max_seconds else 0.0)
    for group in optimizer.param_groups:
        group["lr"] = config.lr * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


def load_model(checkpoint: Path | str, layout: Layout | None = None, device: str = "auto"):
    """A checkpoint's model (in eval mode) and config; the symbolic model may read another layout."""
    state, meta, _ = load_checkpoint(checkpoint, KIND)
    config = CalcConfig(**meta["config"])
    layout = layout or config.layout
    if config.model == "seed" and layout != config.layout:
        raise UserError(f"{checkpoint}: the seed model only reads the layout it was trained on "
                        f"({config.format}, {config.digits} digits, {config.operands} operands)")
    model = build(config.model, layout, config.reader, views=config.views)
    try:
        model.load_state_dict(state)
    except RuntimeError:
        raise UserError(f"{checkpoint}: its weights do not fit a {config.model} model with the "
                        f"{config.reader!r} reader; it was made by another version of neuralab") from None
    model.to(pick_device(device)).eval()
    return model, config, layout


def evaluate_checkpoint(checkpoint: Path | str, *, format: str | None = None, digits: int | None = None,
                        operands: int | None = None, count: int | None = 10000, seed: int = 1,
                        data: mnist.MNIST | None = None, data_dir: Path | str | None = None,
                        device: str = "auto") -> dict:
    """Score a checkpoint on `count` sums of MNIST-test images drawn with `seed`.

    For `fixed`, count=None follows the protocol (floor(10000 / 2N) sums, each image once).
    """
    _, meta, _ = load_checkpoint(checkpoint, KIND)
    trained = CalcConfig(**meta["config"]).layout
    layout = Layout(format or trained.format, digits or trained.digits, operands or trained.operands,
                    trained.specials)
    model, config, layout = load_model(checkpoint, layout, device)
    data = data or mnist.load(data_dir)
    bank = Bank.from_mnist(data, "test", layout.specials)
    examples = make_examples(layout, bank, count, seed=seed + 20_000)
    out = score(model, layout, bank, examples, pick_device(device))
    out.update(model=config.model, format=layout.format, digits=layout.digits,
               operands=layout.operands, seed=seed)
    return out


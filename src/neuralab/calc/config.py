"""The calculator's experiment config: one typed dataclass, checked on creation, and its profiles."""

from __future__ import annotations

from dataclasses import dataclass, replace

from neuralab.calc.layout import Layout
from neuralab.calc.models import MODELS
from neuralab.core.budget import MAX_BUDGET
from neuralab.core.errors import UserError
from neuralab.core.reader import READERS, VIEW_SHIFTS
from neuralab.core.runtime import MAX_SEED, PRECISIONS

KIND = "calc"   # the run folder and checkpoint kind
SUPERVISION = ("final", "running", "labels")   # labels: the yardstick reader, told every digit
KEEPS = ("best", "last")
SCHEDULES = ("constant", "cosine")
MAX_EPOCHS = 10_000
MAX_STARTS = 16     # short starts before a run: each costs its start_seconds
MAX_HOLDOUT = 30000  # held-out MNIST-train images: at least half of MNIST-train stays for training
MAX_DISTORT = 3.0   # the distortions' sizes at most 3x: rotations of ±30°, wobbles of 3 pixels
MAX_TOUCH = 200_000  # shapes that train the one-digit judge: 10x the default, a few minutes on 2 CPU cores
TOUCH_PER_SECOND = 100  # a budgeted run's judge gets at most this many shapes per second of max_seconds: a shape
                        # costs ~1.5 ms on 2 cores, so the judge takes at most ~15% of the budget, the reader the rest
ADDED = {"starts": 1, "start_seconds": 0.0, "holdout": 0, "ema": 0.0, "distort": 1.0, "touch": 0}   # fields newer than some saved checkpoints: their value for those runs


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
    distort: float = 1.0           # symbolic: the distortions' sizes times this; 1: sized to real pens (core.augment)
    views: int = 5                 # symbolic, eval: mean reading of the image and its 4 one-pixel shifts (+0.1% digits)
    precision: str = "fp32"        # symbolic: "bf16" trains the reader under bfloat16 autocast (AMX CPUs, GPUs); sums stay fp32
    warmup: int = 12800            # symbolic: a first epoch of short sums (<= 2 digits), digits first
    val_size: int = 1000           # MNIST-train sums that pick the best epoch
    holdout: int = 0               # >0: the last this many MNIST-train images are never trained on; val sums use only them
    keep: str = "best"             # "last": the final epoch, for budget runs annealed to 0 with too few sums to pick by
    test_count: int = 10000        # MNIST-test sums behind the printed figure
    test_seed: int = 1             # the default of `calc eval --seed`
    seed: int = 0                  # fixes weights, training sums and batch order
    max_seconds: float = 0.0       # 0: no limit; else stop training after this wall time (benchmarks)
    starts: int = 1                # symbolic: >1 trains this many fresh readers briefly, the lowest training loss goes on
    start_seconds: float = 0.0     # each short start's wall time, counted in max_seconds
    ema: float = 0.0               # >0: judge and keep an average of the weights (decay per step); 0: annealed runs read no better with it
    touch: int = 20000             # symbolic: shapes that train the one-digit judge (calc.touching), ~30 s on 2 cores; 0: no judge
    profile: str = "custom"        # which preset filled in the sizes

    def __post_init__(self):
        """A config that exists is valid: every field is checked here, naming its flag."""
        self.layout  # validates format, digits, operands, specials
        if self.model not in MODELS:
            raise UserError(f"--model: unknown model {self.model!r} (choose from {', '.join(MODELS)})")
        if self.supervise not in SUPERVISION:
            raise UserError(f"--supervise: {self.supervise!r} is not final, running or labels")
        if self.supervise == "running" and self.format != "operands":
            raise UserError("--supervise running needs --format operands")
        if self.keep not in KEEPS:
            raise UserError(f"--keep: {self.keep!r} is not best or last")
        if self.schedule not in SCHEDULES:
            raise UserError(f"--schedule: {self.schedule!r} is not constant or cosine")
        if self.model == "symbolic" and self.reader not in READERS:
            raise UserError(f"--reader: unknown reader {self.reader!r} (choose from {', '.join(READERS)})")
        if self.precision not in PRECISIONS:
            raise UserError(f"--precision: {self.precision!r} is not {' or '.join(PRECISIONS)}")
        if not 1 <= self.views <= len(VIEW_SHIFTS):
            raise UserError(f"--views: must be 1..{len(VIEW_SHIFTS)}, got {self.views}")
        if not 0 <= self.shift <= 4:
            raise UserError(f"--shift: must be between 0 and 4 pixels, got {self.shift}")
        if self.warmup < 0:
            raise UserError(f"--warmup: must be 0 or more, got {self.warmup}")
        if not 1 <= self.epochs <= MAX_EPOCHS:
            raise UserError(f"--epochs: must be 1..{MAX_EPOCHS:,}, got {self.epochs}")
        for name in ("train_size", "batch_size", "test_count", "val_size"):
            self.layout.check_set(getattr(self, name), f"--{name.replace('_', '-')}")
        if not 0 <= self.max_seconds <= MAX_BUDGET:
            raise UserError(f"--max-seconds: must be 0..{MAX_BUDGET:.0f}, got {self.max_seconds}")
        if not 0 <= self.holdout <= MAX_HOLDOUT:
            raise UserError(f"--holdout: must be 0..{MAX_HOLDOUT:,} MNIST-train images, got {self.holdout}")
        if not 0 < self.distort <= MAX_DISTORT:
            raise UserError(f"--distort: the distortions' strength must be above 0 and at most {MAX_DISTORT:g}, "
                            f"got {self.distort}")
        if not 0 < self.lr <= 1:
            raise UserError(f"--lr: the learning rate must be above 0 and at most 1, got {self.lr}")
        if not 0 <= self.weight_decay <= 1:
            raise UserError(f"--weight-decay: must be 0..1 (a fraction of each weight per unit of rate), got {self.weight_decay}")
        if not self.clip_norm > 0:
            raise UserError(f"--clip-norm: must be above 0, got {self.clip_norm}")
        if not 0 <= self.ema < 1:
            raise UserError(f"--ema: the decay per step must be at least 0 and below 1, got {self.ema}")
        if not 1 <= self.starts <= MAX_STARTS:
            raise UserError(f"--starts: must be 1..{MAX_STARTS}, got {self.starts}")
        if self.starts > 1 and not 0 < self.starts * self.start_seconds < self.max_seconds:
            raise UserError(f"--start-seconds: {self.starts} starts of {self.start_seconds:g} s must leave part of "
                            f"--max-seconds {self.max_seconds:g} (and be more than 0)")
        if self.starts > 1 and self.model != "symbolic":
            raise UserError("--starts: short starts are for the symbolic model")
        if not 0 <= self.touch <= MAX_TOUCH:
            raise UserError(f"--touch: must be 0..{MAX_TOUCH:,} shapes, got {self.touch}")
        for name in ("seed", "test_seed"):
            if not 0 <= getattr(self, name) <= MAX_SEED:
                raise UserError(f"--{name.replace('_', '-')}: must be 0..{MAX_SEED}, got {getattr(self, name)}")

    @property
    def layout(self) -> Layout:
        return Layout(self.format, self.digits, self.operands, self.specials)


# Sizes per (profile, model). quick: a smoke run of a minute on 2 CPU cores; budget: the report's,
# epochs of 100,000 fresh sums that its max_seconds, not the epoch count, ends; full: the assignment's.
PROFILES = {
    ("budget", "symbolic"): dict(warmup=19200, train_size=100_000, epochs=20, test_count=10000),
    ("budget", "seed"): dict(warmup=0, lr=1e-3, schedule="constant", train_size=450000, epochs=9, batch_size=512, test_count=10000),
    ("quick", "symbolic"): dict(warmup=12800, train_size=6400, epochs=1, val_size=500, test_count=1000, touch=4000),
    ("quick", "seed"): dict(warmup=0, lr=1e-3, schedule="constant", train_size=12800, epochs=2, val_size=500, test_count=1000),
    ("full", "symbolic"): dict(warmup=19200, train_size=32000, epochs=5, test_count=10000),
    ("full", "seed"): dict(warmup=0, lr=1e-3, schedule="constant", train_size=450000, epochs=9, batch_size=512, test_count=10000),
    # one tiny step of everything, for tests and CI: a few sums
    ("dry-run", "symbolic"): dict(warmup=8, train_size=8, epochs=1, batch_size=4, val_size=4, test_count=4, touch=16),
    ("dry-run", "seed"): dict(warmup=0, lr=1e-3, schedule="constant", train_size=8, epochs=1, batch_size=4, val_size=4,
                              test_count=4),
}


def resolve(config: CalcConfig, profile: str | None) -> CalcConfig:
    """Apply a profile's sizes (explicit sizes are set after this), the seed model's fixed choices, and
    the one-digit judge's share of a time budget (`TOUCH_PER_SECOND`)."""
    if profile is not None:
        if (profile, config.model) not in PROFILES:
            raise UserError(f"--profile: unknown profile {profile!r} (choose quick, budget, full or dry-run)")
        config = replace(config, profile=profile, **PROFILES[(profile, config.model)])
    if config.model == "seed":
        config = replace(config, warmup=0, augment=False, touch=0)   # one fixed layout, as in 2017: no warm-up, no distortion, no pictures
    if config.max_seconds and config.touch > TOUCH_PER_SECOND * config.max_seconds:
        config = replace(config, touch=int(TOUCH_PER_SECOND * config.max_seconds))   # the judge fits the budget
    return config


def from_flags(config: CalcConfig, profile: str, sizes: dict) -> CalcConfig:
    """`calc train`'s config: the profile's sizes, then each size given on the command line (None: the
    profile's). The fixed protocol's epoch is its own, and it learns from N-digit sums only (no warm-up)."""
    if config.format == "fixed" and sizes.get("train_size") is not None:
        raise UserError("--train-size: the fixed format's epoch is fixed by the protocol (each MNIST-train "
                        "image once); leave it out")
    config = resolve(config, profile)
    given = {name: value for name, value in sizes.items() if value is not None}
    if "test_count" in given:
        given["val_size"] = min(config.val_size, given["test_count"])
    if config.format == "fixed":
        given["warmup"] = given.get("warmup") or 0
    return resolve(replace(config, **given), None)

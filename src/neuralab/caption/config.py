"""The captioner's experiment config: one typed dataclass, checked on creation, and its profiles."""

from __future__ import annotations

from dataclasses import dataclass, replace

from neuralab.caption.clips import MAX_FRAMES, MIN_FRAMES, SPLITS
from neuralab.caption.model import ENCODERS
from neuralab.core.budget import MAX_BUDGET
from neuralab.core.errors import UserError
from neuralab.core.reader import READERS
from neuralab.core.runtime import MAX_SEED, PRECISIONS

KIND = "caption"   # the run folder and checkpoint kind
# The reported test clips, drawn once from a fresh seed (2026-12-01). Every design step and every
# checkpoint is chosen on validation clips (MNIST-train 55000+, seeded by the run's seed). The design
# history in docs/benchmarks.md was judged on the clips of seed 2017, which are retired for that reason.
TEST_SEED = 4242
MAX_CLIPS = 200_000   # clips in one set: the cached training pool of 200k clips is about 700 MB


@dataclass
class CaptionConfig:
    version: int = 6                 # bumped when the model or training changes, so stale runs are never reused
    encoder: str = "attention"       # attention: learned from the RGB frames | planes: the palette fixed by hand
    split: str = "random"            # random | compositional: which actors training clips may hold
    frames: int = 10                 # the fewest the task allows: least compute per clip
    reader: str = "vgg"              # the digit CNN (core.reader.READERS): 4 batch-normalised 3x3 convs
    features: int = 64               # per-frame feature size fed to the bottom LSTM (from the slots or the attended values)
    embed: int = 32                  # 26 words need few dimensions
    hidden: int = 192                # LSTM width: enough for two actors' digit, colour and motion
    layers: int = 2                  # the published design: bottom LSTM reads frames, top one emits words
    dropout: float = 0.1             # light: a large pool of generated clips overfits little
    pretrain_steps: int = 1500       # MNIST digit classification steps: ~3.5 passes over 55,000 images
    pretrain_batch: int = 128        # 28x28 digits per pretraining step
    pretrain_lr: float = 4e-3        # one-cycle peak; the CNN is small and batch-normalised
    pretrain_shift: int = 2          # random shifts of up to 2 pixels: crops are centred only to a pixel
    freeze_cnn: bool = True          # fix the pretrained reader (planes: all; attention: to its hidden features), cache its output
    train_clips: int = 16000         # clips in the cached training pool (frozen CNN); else generated per step
    batch_size: int = 64             # clips per caption training step
    epochs: int = 7                  # validation + checkpoint after each
    steps_per_epoch: int = 800       # batches drawn (shuffled) from the pool per epoch
    lr: float = 3e-3                 # Adam, first epoch
    lr_end: float = 1e-4             # geometric decay to this by the last epoch
    clip_norm: float = 1.0           # LSTM gradients can spike early on
    precision: str = "fp32"          # training steps: bf16 runs them under bfloat16 autocast (weights, loss and evaluation fp32)
    val_clips: int = 300             # MNIST-train 55000+ clips for picking the best epoch
    test_clips: int = 2000           # MNIST-test clips of the final evaluation (the target's count)
    beam: int = 3                    # beam width at execution (1 = greedy)
    seed: int = 0                    # clips, initial weights and dropout
    max_seconds: float = 0.0         # 0: no limit; else the whole run (pretraining to test) ends within this wall time

    def __post_init__(self):
        """A config that exists is valid: every field is checked here, naming its flag."""
        if self.split not in SPLITS:
            raise UserError(f"--split: unknown split {self.split!r} (choose from {', '.join(SPLITS)})")
        if self.encoder not in ENCODERS:
            raise UserError(f"--encoder: unknown encoder {self.encoder!r} (choose from {', '.join(ENCODERS)})")
        if self.reader not in READERS:
            raise UserError(f"reader: unknown reader {self.reader!r} (choose from {', '.join(READERS)})")
        if not MIN_FRAMES <= self.frames <= MAX_FRAMES:
            raise UserError(f"frames: {self.frames} is outside {MIN_FRAMES}..{MAX_FRAMES}")
        for name in ("features", "embed", "hidden", "layers", "pretrain_batch", "train_clips", "batch_size",
                     "epochs", "steps_per_epoch", "val_clips", "test_clips", "beam"):
            if getattr(self, name) < 1:
                raise UserError(f"{name}: must be at least 1, got {getattr(self, name)}")
        for name in ("train_clips", "val_clips", "test_clips"):
            if getattr(self, name) > MAX_CLIPS:
                raise UserError(f"{name}: at most {MAX_CLIPS:,}, got {getattr(self, name)}")
        if not 0 <= self.seed <= MAX_SEED:
            raise UserError(f"--seed: must be 0..{MAX_SEED}, got {self.seed}")
        if self.pretrain_steps < 0:
            raise UserError(f"pretrain_steps: must be 0 or more, got {self.pretrain_steps}")
        if not 0 <= self.max_seconds <= MAX_BUDGET:
            raise UserError(f"--max-seconds: must be 0..{MAX_BUDGET:.0f}, got {self.max_seconds}")
        if self.precision not in PRECISIONS:
            raise UserError(f"precision: {self.precision!r} is not {' or '.join(PRECISIONS)}")
        if not 0 <= self.dropout < 1:
            raise UserError(f"dropout: must be in [0, 1), got {self.dropout}")


PROFILES = {
    # a smoke run: about a minute on 2 CPU cores
    "quick": dict(pretrain_steps=500, train_clips=3000, epochs=2, steps_per_epoch=400, val_clips=100,
                  test_clips=400),
    # the report's: a short pretraining and a smaller pool, then epochs until max_seconds ends them, the
    # learning rate decayed by wall time to 3e-4 (what the third of three 800-step epochs used, at 0.94 val)
    "budget": dict(pretrain_steps=500, train_clips=8000, epochs=30, lr_end=3e-4),
    # the target: >= 95% exact match on 2,000 random-split test clips within 15 minutes
    "full": dict(),
    # one tiny step of everything, for tests and CI
    "dry-run": dict(hidden=16, features=16, embed=8, reader="lenet", pretrain_steps=1, pretrain_batch=4,
                    train_clips=8, batch_size=4, epochs=1, steps_per_epoch=2, val_clips=4, test_clips=4, beam=2),
}


# the learned encoder's own settings under each profile, on top of the profile's; it trains in bf16,
# which halves its step on an AMX CPU (its mixing and attention are large matrix products)
ATTENTION = {
    "quick": dict(train_clips=2000, steps_per_epoch=150, precision="bf16"),   # its steps cost ~2x the planes model's
    # a smaller pool (its cache takes ~35 s of the report's ~190 s) and validation every 150 steps
    "budget": dict(train_clips=4000, steps_per_epoch=150, precision="bf16"),
    # the target's 15 minutes are the whole run's: pretraining, the cache, training and the test clips;
    # enough epochs that the wall time ends the run
    "full": dict(train_clips=16000, epochs=60, steps_per_epoch=150, max_seconds=900, precision="bf16", lr_end=3e-4),
    "dry-run": dict(precision="bf16"),
}


def make_config(profile: str = "quick", split: str = "random", seed: int = 0, max_seconds: float = 0.0,
                encoder: str = "attention") -> CaptionConfig:
    if profile not in PROFILES:
        raise UserError(f"--profile: unknown profile {profile!r} (choose from quick, budget, full)")
    own = dict(ATTENTION[profile]) if encoder == "attention" else {}
    if max_seconds:                                        # the caller's limit comes first
        own.pop("max_seconds", None)
    return replace(CaptionConfig(split=split, seed=seed, max_seconds=max_seconds, encoder=encoder),
                   **{**PROFILES[profile], **own})

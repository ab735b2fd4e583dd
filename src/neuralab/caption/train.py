"""Training the captioner: the config, its two profiles, MNIST pretraining of the digit reader, and
the caption training run (shared `core.train.fit` loop, validation by exact match, a final test
on 2,000 held-out clips, and a finished run whose result.json the report and the bench read).

With `freeze_cnn` (the default) the pretrained digit reader is fixed and the slots it gives a pool
of generated training clips are computed once; the dense layer and the LSTMs then train on those
cached slots, far cheaper per step than reading every frame of every batch again.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from neuralab.caption.clips import SPLITS, DigitSource, make_batch
from neuralab.caption.evaluate import EVAL_SEED, build_model, evaluate_split
from neuralab.caption.grammar import MAX_WORDS, PAD, VOCAB
from neuralab.caption.model import CaptionModel
from neuralab.core.errors import UserError
from neuralab.core.mnist import MNIST
from neuralab.core.runs import Run, find_finished, load_checkpoint
from neuralab.core.runtime import seed_everything
from neuralab.core.progress import bar
from neuralab.core.reader import SymbolNet, random_shift
from neuralab.core.train import fit

log = logging.getLogger(__name__)
KIND = "caption"


@dataclass
class CaptionConfig:
    version: int = 4                 # bumped when the model or training changes, so stale runs are never reused
    split: str = "random"            # random | compositional: which actors training clips may hold
    frames: int = 10                 # the fewest the task allows: least compute per clip
    reader: str = "vgg"              # the digit CNN (core.reader.READERS): 4 batch-normalised 3x3 convs
    features: int = 64               # per-frame feature size fed to the bottom LSTM (from 6 x 16 slot values)
    embed: int = 32                  # 26 words need few dimensions
    hidden: int = 192                # LSTM width: enough for two actors' digit, colour and motion
    layers: int = 2                  # the published design: bottom LSTM reads frames, top one emits words
    dropout: float = 0.1             # light: a large pool of generated clips overfits little
    pretrain_steps: int = 1500       # MNIST digit classification steps: ~3.5 passes over 55,000 images
    pretrain_batch: int = 128        # 28x28 digits per pretraining step
    pretrain_lr: float = 4e-3        # one-cycle peak; the CNN is small and batch-normalised
    pretrain_shift: int = 2          # random shifts of up to 2 pixels: crops are centred only to a pixel
    freeze_cnn: bool = True          # keep the pretrained reader fixed and cache its slots: far cheaper steps
    train_clips: int = 16000         # clips in the cached training pool (frozen CNN); else generated per step
    batch_size: int = 64             # clips per caption training step
    epochs: int = 7                  # validation + checkpoint after each
    steps_per_epoch: int = 800       # batches drawn (shuffled) from the pool per epoch
    lr: float = 3e-3                 # Adam, first epoch
    lr_end: float = 1e-4             # geometric decay to this by the last epoch
    clip_norm: float = 1.0           # LSTM gradients can spike early on
    val_clips: int = 300             # MNIST-train 55000+ clips for picking the best epoch
    test_clips: int = 2000           # MNIST-test clips of the final evaluation (the target's count)
    beam: int = 3                    # beam width at execution (1 = greedy)
    seed: int = 0                    # clips, initial weights and dropout


PROFILES = {
    # the report's default: both splits together take about 4 of the report's 10 minutes on 2 CPU cores
    "quick": dict(pretrain_steps=500, train_clips=3000, epochs=2, steps_per_epoch=400, val_clips=100,
                  test_clips=400),
    # the target: >= 95% exact match on 2,000 random-split test clips within 15 minutes
    "full": dict(),
    # one tiny step of everything, for tests and CI
    "dry-run": dict(hidden=16, features=16, embed=8, reader="lenet", pretrain_steps=1, pretrain_batch=4,
                    train_clips=8, batch_size=4, epochs=1, steps_per_epoch=2, val_clips=4, test_clips=4, beam=2),
}


def make_config(profile: str = "quick", split: str = "random", seed: int = 0) -> CaptionConfig:
    if profile not in PROFILES:
        raise UserError(f"--profile: unknown profile {profile!r} (choose from quick, full)")
    if split not in SPLITS:
        raise UserError(f"--split: unknown split {split!r} (choose from {', '.join(SPLITS)})")
    return replace(CaptionConfig(split=split, seed=seed), **PROFILES[profile])


def pretrain(reader: SymbolNet, source: DigitSource, config: CaptionConfig, device: torch.device) -> float:
    """Teach the digit reader MNIST-train digits 0..54999 (the training clips' images), shifted by up
    to `pretrain_shift` pixels; returns the accuracy over the last tenth of the steps."""
    optimizer = torch.optim.Adam(reader.parameters(), lr=config.pretrain_lr)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, config.pretrain_lr, total_steps=config.pretrain_steps)
    images, labels = source.images["train"], source.labels["train"]
    rng = np.random.default_rng([config.seed, 9])
    reader.train()
    right = seen = 0
    with bar("pretrain digit reader", config.pretrain_steps) as progress:
        for s in range(config.pretrain_steps):
            rows = rng.integers(len(images), size=config.pretrain_batch)
            x = torch.from_numpy(images[rows]).to(device).float().div_(255.0)[:, None]   # (B, 1, 28, 28)
            digit = torch.from_numpy(labels[rows]).to(device)
            logits = reader(random_shift(x, config.pretrain_shift))                    # (B, 10)
            loss = F.cross_entropy(logits, digit)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            if s >= config.pretrain_steps * 9 // 10:
                right += (logits.argmax(1) == digit).sum().item()
                seen += len(digit)
            progress.advance(1, loss=loss.item())
    return right / max(seen, 1)


@torch.no_grad()
def cache_slots(model: CaptionModel, source: DigitSource, config: CaptionConfig,
                device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """The frozen reader's slots of the training pool, (N, T, 6, 14), and its words (N, L)."""
    model.eval()
    slots, words, chunk = [], [], 100
    with bar("cache frame slots", -(-config.train_clips // chunk)) as progress:
        for first in range(0, config.train_clips, chunk):
            video, tokens, _ = make_batch(source, "train", config.split, config.seed,
                                          range(first, min(first + chunk, config.train_clips)), config.frames)
            slots.append(model.frame_slots(video.to(device)).cpu())
            words.append(F.pad(tokens, (0, MAX_WORDS + 1 - tokens.size(1)), value=PAD))
            progress.advance(1)
    return torch.cat(slots), torch.cat(words)


class _Sized:
    """A generator with a length, so progress bars know the total."""

    def __init__(self, items, n: int):
        self.items, self.n = items, n

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return self.n


def caption_step(device: torch.device, cached: bool):
    """Teacher-forced step on (clips or cached slots, words)."""
    def step(model, batch):
        x, tokens = batch[0].to(device), batch[1].to(device)
        feats = model.encode_slots(x) if cached else model.encode_frames(x)
        logits = model.teacher(feats, tokens)              # (B, L, vocab)
        loss = F.cross_entropy(logits.flatten(0, 1), tokens.flatten(), ignore_index=PAD)
        mask = tokens != PAD
        correct = ((logits.argmax(-1) == tokens) | ~mask).all(1)
        return loss, {"count": len(tokens), "correct": correct.sum().item()}  # teacher-forced exact match
    return step


def _batches(source: DigitSource, config: CaptionConfig, pool, epoch: int) -> _Sized:
    """Epoch `epoch`'s training batches: shuffled from the cached pool, or newly generated clips."""
    n, size = config.steps_per_epoch, config.batch_size
    if pool is not None:
        order = torch.randint(len(pool[0]), (n, size), generator=torch.Generator().manual_seed(config.seed * 1000 + epoch))
        return _Sized(((pool[0][rows], pool[1][rows]) for rows in order), n)
    first = (epoch - 1) * n
    return _Sized((make_batch(source, "train", config.split, config.seed,
                              range((first + s) * size, (first + s + 1) * size), config.frames)[:2]
                   for s in range(n)), n)


def train(config: CaptionConfig, data: MNIST, runs_root: Path | str, device: torch.device,
          name: str | None = None, resume: Run | None = None) -> Run:
    """Pretrain, train and test one captioner; returns the finished run (result.json written).
    With `resume`, continue that run from its `last` checkpoint (pretraining is already in it)."""
    t0 = time.perf_counter()
    seed_everything(config.seed)
    run = resume or Run.create(runs_root, KIND, config, name or f"{config.split}-{time.strftime('%Y%m%d-%H%M%S')}")
    source = DigitSource(data)
    model = build_model(config).to(device)
    if config.pretrain_steps and resume is None:
        accuracy = pretrain(model.encoder.reader, source, config, device)
        run.log_metrics({"pretrain_accuracy": accuracy, "pretrain_seconds": time.perf_counter() - t0})
    pool = None
    if config.freeze_cnn:
        if resume is not None:                             # the frozen reader to cache is the checkpointed one
            model.load_state_dict(load_checkpoint(run.path / "last.safetensors", KIND)[0])
        model.freeze_cnn()
        t1 = time.perf_counter()
        pool = cache_slots(model, source, config, device)
        run.log_metrics({"cache_seconds": time.perf_counter() - t1})
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=config.lr)
    decay = (config.lr_end / config.lr) ** (1 / max(config.epochs - 1, 1))

    def train_batches(epoch: int):
        for group in optimizer.param_groups:               # lr set from the epoch: resume-safe
            group["lr"] = config.lr * decay ** (epoch - 1)
        return _batches(source, config, pool, epoch)

    def validate(m):
        return evaluate_split(m, source, config, "val", config.val_clips, config.seed, device, beam=1)[0]

    result = fit(run, model, optimizer, kind=KIND, config=config, epochs=config.epochs,
                 train_batches=train_batches, eval_batches=list, step_fn=caption_step(device, pool is not None),
                 eval_fn=validate, monitor="exact_match", data_hash=source.sha256, clip_norm=config.clip_norm,
                 resume=resume is not None)
    if result.interrupted:
        raise KeyboardInterrupt
    model.load_state_dict(load_checkpoint(result.best_path, KIND)[0])
    test, *_ = evaluate_split(model, source, config, "test", config.test_clips, EVAL_SEED, device)
    records = run.metrics()                                # summed over sessions, so a resumed run counts all
    pretrained = next((m for m in records if "pretrain_seconds" in m), {})
    run.finish({"split": config.split, **test, "beam": config.beam,
                "pretrain_accuracy": pretrained.get("pretrain_accuracy"),
                "train_seconds": pretrained.get("pretrain_seconds", 0.0) + sum(m.get("seconds", 0.0) + m.get("cache_seconds", 0.0) for m in records),
                "wall_seconds": time.perf_counter() - t0 if resume is None else None,
                "resumed": resume is not None, "checkpoint": str(result.best_path), "vocab_size": len(VOCAB)})
    log.info("%s split: exact match %.4f on %d test clips (%.0f s)", config.split, test["exact_match"],
             test["count"], time.perf_counter() - t0)
    return run


def resume_run(path: Path | str) -> tuple[Run, CaptionConfig]:
    """A caption run directory to continue, and its saved config."""
    run = Run(path)
    saved = run.config
    if saved.get("part") != KIND or not (run.path / "last.safetensors").is_file():
        raise UserError(f"--resume {path}: not a caption run with a last checkpoint")
    fields = {k: v for k, v in saved.items() if k in CaptionConfig.__dataclass_fields__}
    return run, CaptionConfig(**fields)


def train_or_reuse(config: CaptionConfig, data_loader, runs_root: Path | str, device: torch.device,
                   reuse: bool = True) -> tuple[Run, bool]:
    """The finished run with this exact config if reuse is on and one exists, else a new one.
    `data_loader()` is only called when training is needed. Returns (run, reused)."""
    found = find_finished(runs_root, KIND, config) if reuse else None
    if found is not None:
        log.info("reusing finished run %s", found.path)
        return found, True
    return train(config, data_loader(), runs_root, device), False

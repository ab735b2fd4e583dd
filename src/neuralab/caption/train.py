"""Training the captioner: the config, its two profiles, MNIST pretraining of the digit reader, and
the caption training run (shared `core.train.fit` loop, validation by exact match, a final test
on 2,000 held-out clips, and a finished run whose result.json the report and the bench read).

With `freeze_cnn` (the default) the pretrained digit reader is fixed (`Captioner.frozen_part`: all of
it for the colour planes, up to its hidden features for the learned encoder) and what it gives a pool
of generated training clips is computed once (`Captioner.cacheable`); the rest of the model then
trains on that cache, far cheaper per step than reading every frame of every batch again.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from neuralab.caption.clips import DigitSource, make_batch
from neuralab.caption.config import TEST_SEED, KIND, CaptionConfig
from neuralab.caption.evaluate import evaluate_split
from neuralab.caption.grammar import MAX_WORDS, PAD, VOCAB
from neuralab.caption.decoder import Captioner
from neuralab.caption.model import build_model
from neuralab.core.data import images_to_float
from neuralab.core.mnist import MNIST
from neuralab.core.progress import bar
from neuralab.core.reader import SymbolNet, random_shift
from neuralab.core.runs import Run, find_reusable, load_checkpoint
from neuralab.core.runtime import seed_everything, training_precision
from neuralab.core.train import Loop, evaluator, fit

log = logging.getLogger(__name__)

TEST_SHARE = 0.08  # of max_seconds, kept for the test clips: 2,000 beam-searched clips take ~12 s of ~190 s on 2 cores


class OneCycle:
    """`Loop.schedule` for pretraining: torch's one-cycle policy, stepped once per optimizer step."""

    def __init__(self, optimizer: torch.optim.Optimizer, lr: float, steps: int):
        self.policy = torch.optim.lr_scheduler.OneCycleLR(optimizer, lr, total_steps=steps)

    def __call__(self, optimizer: torch.optim.Optimizer, step: int) -> None:
        if step:
            self.policy.step()


def pretrain(run: Run, reader: SymbolNet, source: DigitSource, config: CaptionConfig, device: torch.device) -> dict:
    """Teach the digit reader MNIST-train digits 0..54999 (the training clips' images), shifted by up
    to `pretrain_shift` pixels, as one epoch of the shared loop; returns its figures, among them the
    accuracy on the val digits 55000..59999."""
    optimizer = torch.optim.Adam(reader.parameters(), lr=config.pretrain_lr)
    images, labels = source.images, source.labels
    rng = np.random.default_rng([config.seed, 9])

    def step(role: str, shift: int):
        def digit_step(m, rows):
            x = images_to_float(images[role][rows]).to(device)                        # (B, 1, 28, 28)
            digit = torch.from_numpy(labels[role][rows]).to(device)
            logits = m(random_shift(x, shift) if shift else x)                        # (B, 10)
            return F.cross_entropy(logits, digit), {"count": len(digit), "correct": (logits.argmax(1) == digit).sum()}
        return digit_step

    draws = _Sized((rng.integers(len(images["train"]), size=config.pretrain_batch)
                    for _ in range(config.pretrain_steps)), config.pretrain_steps)
    val = evaluator(lambda: np.array_split(np.arange(len(images["val"])), -(-len(images["val"]) // 1000)),
                    step("val", 0))
    loop = Loop(epochs=1, batches=lambda epoch: draws, step=step("train", config.pretrain_shift), evaluate=val,
                schedule=OneCycle(optimizer, config.pretrain_lr, config.pretrain_steps), stage="pretrain")
    return fit(run, reader, optimizer, loop, kind=KIND, config=config, data_hash=source.sha256).history[-1]


@torch.no_grad()
def cache_frames(model: Captioner, source: DigitSource, config: CaptionConfig,
                 device: torch.device) -> tuple[tuple[torch.Tensor, ...], torch.Tensor]:
    """What the frozen CNN part gives the training pool (`model.cacheable`, each (N, T, ...)), and its
    words (N, L)."""
    model.eval()
    parts, words, chunk = [], [], 100
    with bar("cache frame features", -(-config.train_clips // chunk)) as progress:
        for first in range(0, config.train_clips, chunk):
            video, tokens, _ = make_batch(source, "train", config.split, config.seed,
                                          range(first, min(first + chunk, config.train_clips)), config.frames)
            parts.append([p.to(model.cache_dtype).cpu() for p in model.cacheable(video.to(device))])
            words.append(F.pad(tokens, (0, MAX_WORDS + 1 - tokens.size(1)), value=PAD))
            progress.advance(1)
    return tuple(torch.cat(p) for p in zip(*parts)), torch.cat(words)


class _Sized:
    """A generator with a length, so progress bars know the total."""

    def __init__(self, items, n: int):
        self.items, self.n = items, n

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return self.n


class EpochDecay:
    """`Loop.schedule`: `lr` in the first epoch, decayed geometrically to `lr_end` by the last. With
    `seconds`, decayed smoothly by wall time instead when that is further on: a budget run ends at
    `lr_end` when its time is up, whatever the epoch."""

    def __init__(self, config: CaptionConfig, seconds: float = 0.0):
        self.config, self.seconds, self.start = config, seconds, time.perf_counter()
        self.last = max(config.epochs - 1, 1)
        self.decay = (config.lr_end / config.lr) ** (1 / self.last)

    def __call__(self, optimizer: torch.optim.Optimizer, step: int) -> None:
        epochs = step // self.config.steps_per_epoch
        if self.seconds:
            epochs = max(epochs, self.last * (time.perf_counter() - self.start) / self.seconds)
        for group in optimizer.param_groups:
            group["lr"] = self.config.lr * self.decay ** min(epochs, self.last)


def caption_step(device: torch.device, cached: bool, precision: str = "fp32"):
    """Teacher-forced step on (clips or their cached frozen-CNN parts, words), under bfloat16
    autocast if `precision` is bf16 (the loss in fp32)."""
    def step(model, batch):
        tokens = batch[1].to(device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16"):
            if cached:
                encoded = model.encode_cached(tuple(p.to(device) for p in batch[0]))
            else:
                encoded = model.encode_frames(batch[0].to(device))
            logits = model.teacher(encoded, tokens).float()   # (B, L, vocab)
        loss = F.cross_entropy(logits.flatten(0, 1), tokens.flatten(), ignore_index=PAD)
        mask = tokens != PAD
        correct = ((logits.argmax(-1) == tokens) | ~mask).all(1)
        return loss, {"count": len(tokens), "correct": correct.sum().item()}  # teacher-forced exact match
    return step


def _batches(source: DigitSource, config: CaptionConfig, pool, epoch: int) -> _Sized:
    """Epoch `epoch`'s training batches: shuffled from the cached pool, or newly generated clips."""
    n, size = config.steps_per_epoch, config.batch_size
    if pool is not None:
        order = torch.randint(len(pool[1]), (n, size), generator=torch.Generator().manual_seed(config.seed * 1000 + epoch))
        return _Sized(((tuple(p[rows] for p in pool[0]), pool[1][rows]) for rows in order), n)
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
    if resume is not None:
        resume.refuse_other_data(data.sha256)
    run = resume or Run.create(runs_root, KIND, config, name or f"{config.split}-{time.strftime('%Y%m%d-%H%M%S')}",
                               data.sha256)
    source = DigitSource(data)
    model = build_model(config).to(device)
    if config.pretrain_steps and resume is None:
        pretrain(run, model.encoder.reader, source, config, device)
    pool = None
    if config.freeze_cnn:
        if resume is not None:                             # the frozen reader to cache is the checkpointed one
            model.load_state_dict(load_checkpoint(run.path / "last.safetensors", KIND)[0])
        model.freeze_cnn()
        t1 = time.perf_counter()
        pool = cache_frames(model, source, config, device)
        run.log_metrics({"cache_seconds": time.perf_counter() - t1})
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=config.lr)

    def validate(m):
        figures = evaluate_split(m, source, config, "val", config.val_clips, config.seed, device, beam=1)[0]
        return {f"val_{k}": v for k, v in figures.items()}

    precision = training_precision(config.precision, device)        # bf16 where it is native, else fp32
    deadline = t0 + config.max_seconds * (1 - TEST_SHARE) if config.max_seconds else None
    seconds = max(deadline - time.perf_counter(), 1.0) if deadline else 0.0
    loop = Loop(epochs=config.epochs, batches=lambda epoch: _batches(source, config, pool, epoch),
                step=caption_step(device, pool is not None, precision), evaluate=validate, monitor="val_exact_match",
                schedule=EpochDecay(config, seconds), deadline=deadline, clip_norm=config.clip_norm)
    result = fit(run, model, optimizer, loop, kind=KIND, config=config, data_hash=source.sha256,
                 resume=resume is not None)
    model.load_state_dict(load_checkpoint(result.best_path, KIND)[0])
    t1 = time.perf_counter()
    test, *_ = evaluate_split(model, source, config, "test", config.test_clips, TEST_SEED, device)
    run.log_metrics({"test_seconds": time.perf_counter() - t1})
    records = run.metrics()                                # summed over sessions, so a resumed run counts all
    pretrained = next((m for m in records if m.get("stage") == "pretrain"), {})
    run.finish({"split": config.split, **test, "beam": config.beam, "precision": precision,
                "pretrain_val_accuracy": pretrained.get("val_accuracy"),
                "train_seconds": sum(m.get("seconds", 0.0) + m.get("cache_seconds", 0.0) for m in records),
                "wall_seconds": time.perf_counter() - t0 if resume is None else None,
                "resumed": resume is not None, "checkpoint": str(result.best_path.resolve()), "vocab_size": len(VOCAB)})
    log.info("%s split: exact match %.4f on %d test clips (%.0f s)", config.split, test["exact_match"],
             test["count"], time.perf_counter() - t0)
    return run


def train_or_reuse(config: CaptionConfig, data_loader, runs_root: Path | str, device: torch.device,
                   reuse: bool = True) -> tuple[Run, bool]:
    """The finished run with this exact config, data and code if reuse is on and one exists, else a
    new one. Returns (run, reused)."""
    data = data_loader()
    found = find_reusable(runs_root, KIND, config, reuse, data.sha256)
    if found is not None:
        return found, True
    return train(config, data, runs_root, device), False

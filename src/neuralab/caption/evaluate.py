"""Running a trained captioner: building it from a checkpoint, captioning clips, and scoring a
split's held-out clips with the caption metrics."""

from __future__ import annotations

from pathlib import Path

import torch

import numpy as np

from neuralab.caption.clips import DigitSource, frames_to_tensor, make_batch, make_clip, perturbed
from neuralab.caption.config import KIND, CaptionConfig
from neuralab.caption.grammar import decode
from neuralab.caption.metrics import all_metrics
from neuralab.caption.decoder import Captioner, beam_search
from neuralab.caption.model import build_model
from neuralab.core.errors import UserError
from neuralab.core.progress import bar
from neuralab.core.runs import config_from, load_checkpoint, load_weights


def load_model(path: Path | str, device: torch.device | str = "cpu"):
    """(model in eval mode, its CaptionConfig, checkpoint metadata): every part's loader has this form."""
    state, meta, _ = load_checkpoint(path, KIND)
    config = config_from(meta["config"], CaptionConfig, str(path))
    if config.version != CaptionConfig.version:
        raise UserError(f"{path}: made by captioner version {config.version}; this one is {CaptionConfig.version}")
    try:
        model = build_model(config)
    except (TypeError, ValueError, KeyError) as e:
        raise UserError(f"{path}: its config builds no captioner ({type(e).__name__}: {e})") from None
    load_weights(model, state, str(path))
    return model.to(device).eval(), config, meta


@torch.no_grad()
def caption_frames(model: Captioner, video: torch.Tensor, beam: int = 1) -> list[str]:
    """Captions for clips (B, T, 3, 64, 64): beam search of this width (1 = greedy)."""
    model.eval()
    return [decode(row.tolist()) for row in beam_search(model, video, beam)]


def evaluate_split(model: Captioner, source: DigitSource, config, role: str, count: int, seed: int,
                   device: torch.device, beam: int | None = None, split: str | None = None,
                   batch_size: int = 100) -> tuple[dict, list[str], list[str]]:
    """Caption `count` clips of (split, role, seed); returns (metrics, predictions, references)."""
    split, beam = split or config.split, config.beam if beam is None else beam
    predictions, references = [], []
    with bar(f"caption {role} clips", -(-count // batch_size)) as progress:
        for first in range(0, count, batch_size):
            indices = range(first, min(first + batch_size, count))
            video, _, captions = make_batch(source, role, split, seed, indices, config.frames)
            predictions += caption_frames(model, video.to(device), beam)
            references += captions
            progress.advance(1)
    return all_metrics(predictions, references), predictions, references


def nearby_agreement(model: Captioner, source: DigitSource, config, count: int, seed: int, device: torch.device,
                     batch_size: int = 100, role: str = "test") -> dict:
    """Clips of `role` (test or val) against their nearby versions (`clips.perturbed`: digits moved by
    up to 2 pixels, colours by up to 25/255): the exact match on both, and how often the caption stays
    the same."""
    rng = np.random.default_rng([seed, 7])
    same = right = right_nearby = 0
    for first in range(0, count, batch_size):
        clips = [make_clip(source, role, config.split, seed, i, config.frames)
                 for i in range(first, min(first + batch_size, count))]
        nearby = [perturbed(source, role, c, rng) for c in clips]
        said = caption_frames(model, frames_to_tensor(np.stack([c.frames for c in clips])).to(device), config.beam)
        moved = caption_frames(model, frames_to_tensor(np.stack([c.frames for c in nearby])).to(device), config.beam)
        truth = [c.caption for c in clips]
        same += sum(a == b for a, b in zip(said, moved))
        right += sum(a == t for a, t in zip(said, truth))
        right_nearby += sum(b == t for b, t in zip(moved, truth))
    return {"count": count, "kept": same / count, "exact_match": right / count, "nearby_exact_match": right_nearby / count}

"""Running a trained captioner: building it from a checkpoint, captioning clips, and scoring a
split's held-out clips with the caption metrics."""

from __future__ import annotations

from pathlib import Path

import torch

from neuralab.caption.clips import DigitSource, make_batch
from neuralab.caption.config import KIND, CaptionConfig
from neuralab.caption.grammar import decode
from neuralab.caption.metrics import all_metrics
from neuralab.caption.model import CaptionModel, beam_search, build_model
from neuralab.core.errors import UserError
from neuralab.core.progress import bar
from neuralab.core.runs import config_from, load_checkpoint


def load_model(path: Path | str, device: torch.device):
    """(model in eval mode, its CaptionConfig, checkpoint metadata) from a caption checkpoint."""
    state, meta, _ = load_checkpoint(path, KIND)
    config = config_from(meta["config"], CaptionConfig, str(path))
    if config.version != CaptionConfig.version:
        raise UserError(f"{path}: made by captioner version {config.version}; this one is {CaptionConfig.version}")
    try:
        model = build_model(config)
        model.load_state_dict(state)
    except (TypeError, RuntimeError, KeyError) as e:
        raise UserError(f"{path}: checkpoint does not fit this captioner ({type(e).__name__})") from None
    return model.to(device).eval(), config, meta


@torch.no_grad()
def caption_frames(model: CaptionModel, video: torch.Tensor, beam: int = 1) -> list[str]:
    """Captions for clips (B, T, 3, 64, 64): beam search of this width (1 = greedy)."""
    model.eval()
    return [decode(row.tolist()) for row in beam_search(model, video, beam)]


def evaluate_split(model: CaptionModel, source: DigitSource, config, role: str, count: int, seed: int,
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

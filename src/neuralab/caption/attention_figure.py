"""The attention figure: for one clip, where the learned captioner looked for each word it said.

Each panel is the clip's frames laid over each other (the brightest pixel over time, so a moving digit
leaves its track), and over them the word attention summed over the frames: a window of the 10x10 grid
is drawn at its centre with the share of attention it got. The words are the model's own (greedy
decoding), fed back as it reads them at execution.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure

from neuralab.caption.attention import GRID, STRIDE, AttentionCaptioner
from neuralab.caption.clips import frames_to_tensor
from neuralab.caption.decoder import greedy
from neuralab.caption.grammar import EOS, VOCAB
from neuralab.core.io import save_figure

HALF = 14   # a window's centre, in pixels from its corner: 28x28 windows


def word_attention(model: AttentionCaptioner, video: torch.Tensor) -> tuple[list[str], np.ndarray]:
    """A clip (1, T, 3, 64, 64) -> (the words the model says, its attention (words, T, 10, 10))."""
    model.eval()
    tokens = greedy(model, video)                              # (1, <= L)
    words = tokens[0].tolist()
    said = words[:words.index(EOS)] if EOS in words else words
    weights = model.where_it_looked(video, tokens)[0, :len(said)]   # (words, T, 10, 10)
    return [VOCAB[w] for w in said], weights.numpy()


def attention_figure(model: AttentionCaptioner, frames: np.ndarray, path: Path | str, truth: str = "") -> Path:
    """Draw where `model` looked for each word of its caption of `frames` (T, 64, 64, 3) uint8."""
    video = frames_to_tensor(frames)[None]                     # (1, T, 3, 64, 64)
    words, weights = word_attention(model, video)
    track = frames.max(0)                                      # (64, 64, 3): each digit's path
    cols = max(len(words), 1)
    fig = Figure(figsize=(1.55 * cols, 2.1))
    axes = fig.subplots(1, cols, squeeze=False)[0]
    low, high = HALF - STRIDE / 2, HALF + STRIDE * (GRID - 1) + STRIDE / 2
    for ax, word, looked in zip(axes, words, weights):
        ax.imshow(track // 2, interpolation="nearest")
        ax.imshow(looked.sum(0), cmap="magma", alpha=0.6, extent=(low, high, high, low), vmin=0,
                  interpolation="nearest")
        ax.set_xlim(0, 64)
        ax.set_ylim(64, 0)
        ax.set_title(word, fontsize=10)
        ax.axis("off")
    said = " ".join(words)
    fig.suptitle(f"said: \"{said}\"" + (f"   true: \"{truth}\"" if truth else ""), fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path, dpi=100)

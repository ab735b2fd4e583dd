"""The captioning model in the published S2VT/LRCN design, small enough for a CPU.

A per-frame CNN turns each 64x64 RGB frame into a feature vector. A stack of LSTMs then runs over
T + L steps: for the first T steps the bottom layer reads the frame features (and the top layer
sees no word), for the next L steps the bottom layer reads zeros and the top layer reads the
embedding of the previous word, and a linear layer + softmax over the vocabulary predicts the next
word. With one layer, that single LSTM reads both. Training feeds the true previous word (teacher
forcing); execution feeds the model's own words, greedily or with a beam.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from neuralab.caption.grammar import BOS, EOS, MAX_WORDS, PAD, VOCAB


class FrameEncoder(nn.Module):
    """Expects frames (N, 3, 64, 64) in [0, 1]; returns features (N, features).

    The frame is first averaged down to 32x32 (a digit keeps 14x14 pixels, still legible); each
    block then is a 3x3 convolution, batch normalisation and a 2x2 max pool (32 -> 16 -> 8 -> 4), so
    most of the work is done on small maps. `maps` is that convolutional part: a (C, 4, 4) map whose
    channels say what is in each cell (digit and colour, once pretrained). `fc` flattens the map
    rather than pooling it, so the features still say where each digit is, which is what makes
    motion visible from one frame to the next.
    """

    def __init__(self, features: int, widths: tuple[int, ...] = (16, 32, 32), dropout: float = 0.0):
        super().__init__()
        layers, c_in = [nn.AvgPool2d(2)], 3
        for c_out in widths:
            layers += [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
                       nn.MaxPool2d(2)]
            c_in = c_out
        side = 32 // 2 ** len(widths)
        self.channels = c_in
        self.conv = nn.Sequential(*layers)
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(c_in * side * side, features), nn.ReLU(), nn.Dropout(dropout))

    def maps(self, x: torch.Tensor) -> torch.Tensor:
        """Frames (N, 3, 64, 64) -> convolutional maps (N, C, 4, 4), the part a frozen CNN can cache."""
        return self.conv(x.contiguous(memory_format=torch.channels_last))  # faster CPU convolutions

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.maps(x))


class CaptionModel(nn.Module):
    """Expects clips (B, T, 3, 64, 64); `forward` also takes target words (B, L) for teacher forcing."""

    def __init__(self, features: int = 128, embed: int = 32, hidden: int = 256, layers: int = 2,
                 dropout: float = 0.2, widths: tuple[int, ...] = (16, 32, 32)):
        super().__init__()
        if layers < 1:
            raise ValueError("layers must be >= 1")
        self.features, self.embed_dim = features, embed
        self.cnn_frozen = False                                # set by freeze_cnn after pretraining
        self.encoder = FrameEncoder(features, tuple(widths), dropout)
        self.embed = nn.Embedding(len(VOCAB), embed, padding_idx=PAD)
        sizes = [(features if i == 0 else hidden) + (embed if i == layers - 1 else 0) for i in range(layers)]
        self.lstms = nn.ModuleList(nn.LSTM(s, hidden, batch_first=True) for s in sizes)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, len(VOCAB))

    def freeze_cnn(self) -> None:
        """Fix the convolutional part (after pretraining): no gradients, batch norm on running statistics."""
        self.encoder.conv.requires_grad_(False)
        self.cnn_frozen = True
        self.train(self.training)

    def train(self, mode: bool = True):
        super().train(mode)
        if self.cnn_frozen:
            self.encoder.conv.eval()
        return self

    def frame_maps(self, clips: torch.Tensor) -> torch.Tensor:
        """Clips (B, T, 3, 64, 64) -> convolutional maps (B, T, C, 4, 4), the part a frozen CNN can cache."""
        maps = self.encoder.maps(clips.flatten(0, 1))
        return maps.view(*clips.shape[:2], *maps.shape[1:])

    def encode_maps(self, maps: torch.Tensor) -> torch.Tensor:
        B, T = maps.shape[:2]
        return self.encoder.fc(maps.flatten(0, 1)).view(B, T, -1)  # (B, T, features)

    def encode_frames(self, clips: torch.Tensor) -> torch.Tensor:
        return self.encode_maps(self.frame_maps(clips))         # (B, T, features)

    def stack(self, x: torch.Tensor, w: torch.Tensor, states: list | None = None):
        """Run the LSTM stack on frame inputs x (B, S, features) and word inputs w (B, S, embed)."""
        states = states or [None] * len(self.lstms)
        h, new = x, []
        for i, lstm in enumerate(self.lstms):
            inp = h if i == 0 else self.drop(h)
            if i == len(self.lstms) - 1:
                inp = torch.cat([inp, w], dim=-1)
            h, st = lstm(inp, states[i])
            new.append(st)
        return h, new  # (B, S, hidden)

    def forward(self, clips: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: logits (B, L, vocab) for target words (B, L)."""
        return self.teacher(self.encode_frames(clips), tokens)

    def teacher(self, feats: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """Teacher forcing from frame features (B, T, F): logits (B, L, vocab)."""
        B, T, L = feats.size(0), feats.size(1), tokens.size(1)
        prev = torch.cat([torch.full_like(tokens[:, :1], BOS), tokens[:, :-1]], dim=1)  # (B, L)
        x = torch.cat([feats, feats.new_zeros(B, L, self.features)], dim=1)             # (B, T+L, F)
        w = torch.cat([feats.new_zeros(B, T, self.embed_dim), self.embed(prev)], dim=1)  # (B, T+L, E)
        h, _ = self.stack(x, w)
        return self.out(self.drop(h[:, T:]))                   # (B, L, vocab)

    def start(self, clips: torch.Tensor) -> list:
        """Read the frames; returns the LSTM states to decode from."""
        feats = self.encode_frames(clips)
        _, states = self.stack(feats, feats.new_zeros(*feats.shape[:2], self.embed_dim))
        return states

    def step(self, prev: torch.Tensor, states: list) -> tuple[torch.Tensor, list]:
        """One decoding step: previous words (N,) -> log-probabilities (N, vocab), new states."""
        w = self.embed(prev)[:, None]                          # (N, 1, E)
        h, states = self.stack(w.new_zeros(len(prev), 1, self.features), w, states)
        return F.log_softmax(self.out(h[:, 0]), dim=-1), states


@torch.no_grad()
def greedy(model: CaptionModel, clips: torch.Tensor, max_len: int = MAX_WORDS + 1) -> torch.Tensor:
    """Word indices (B, max_len): the most likely word at every step, <pad> after <eos>."""
    states = model.start(clips)
    prev = torch.full((clips.size(0),), BOS, dtype=torch.long, device=clips.device)
    done = torch.zeros_like(prev, dtype=torch.bool)
    out = []
    for _ in range(max_len):
        logp, states = model.step(prev, states)
        prev = logp.argmax(-1).masked_fill(done, PAD)
        out.append(prev)
        done |= prev == EOS
        if done.all():
            break
    return torch.stack(out, dim=1)


def _pick(states: list, rows: torch.Tensor) -> list:
    return [(h[:, rows], c[:, rows]) for h, c in states]


@torch.no_grad()
def beam_search(model: CaptionModel, clips: torch.Tensor, width: int = 3,
                max_len: int = MAX_WORDS + 1) -> torch.Tensor:
    """Word indices (B, <=max_len) of the most likely sentence among `width` kept hypotheses."""
    if width <= 1:
        return greedy(model, clips, max_len)
    B, V, k = clips.size(0), len(VOCAB), width
    states = _pick(model.start(clips), torch.arange(B, device=clips.device).repeat_interleave(k))
    scores = torch.full((B, k), float("-inf"), device=clips.device)
    scores[:, 0] = 0.0                                         # one live hypothesis to start with
    prev = torch.full((B * k,), BOS, dtype=torch.long, device=clips.device)
    done = torch.zeros_like(prev, dtype=torch.bool)
    seqs = prev.new_zeros(B * k, 0)
    for _ in range(max_len):
        logp, states = model.step(prev, states)                # (B*k, V)
        logp[done] = float("-inf")
        logp[done, PAD] = 0.0                                  # a finished sentence only pads, at no cost
        top, idx = (scores.view(-1, 1) + logp).view(B, k * V).topk(k, dim=1)  # (B, k)
        rows = (torch.arange(B, device=clips.device)[:, None] * k + idx // V).view(-1)
        prev, scores = (idx % V).view(-1), top
        states, seqs = _pick(states, rows), torch.cat([seqs[rows], prev[:, None]], dim=1)
        done = done[rows] | (prev == EOS)
        if done.all():
            break
    best = scores.argmax(dim=1) + torch.arange(B, device=clips.device) * k
    return seqs[best]

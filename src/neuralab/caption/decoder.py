"""What every captioner shares: the stacked LSTMs of S2VT/LRCN over frames then words, teacher
forcing, and decoding by greedy or beam search.

A captioner encodes a clip (B, T, 3, 64, 64) into per-frame features (B, T, features) and, if it
attends, a memory the word layer can look into. A stack of LSTMs runs over T + L steps: for the first
T steps the bottom layer reads the frame features (and the top layer sees no word), for the next L
steps the bottom layer reads zeros and the top layer reads the embedding of the previous word, and a
linear layer + softmax over the vocabulary predicts the next word (from the top LSTM's output and,
in an attending captioner, what it looked at). With one layer, that single LSTM reads both. Training
feeds the true previous word (teacher forcing); execution feeds the model's own words.

The encoder is the subclass's: `cacheable` is the part of it a frozen CNN lets training compute once
per clip, `encode_cached` the rest, `frozen_part` the module that freezing fixes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from neuralab.caption.grammar import BOS, EOS, MAX_WORDS, PAD, VOCAB

Encoded = tuple   # (frame features (B, T, features), memory: a tuple of (B, ...) tensors, empty if none)


@dataclass
class Decoding:
    """The state of decoding a batch: every LSTM layer's (h, c) and the encoder's memory."""

    lstm: list
    memory: tuple

    def pick(self, rows: torch.Tensor) -> Decoding:
        """The state of these batch rows (a beam reorders and repeats them)."""
        return Decoding([(h[:, rows], c[:, rows]) for h, c in self.lstm], tuple(m[rows] for m in self.memory))


class Captioner(nn.Module):
    """The LSTM stack and word layer; `glimpse` is extra input to the word layer (0 if none)."""

    cache_dtype = torch.float32   # how training stores `cacheable`'s tensors for its pool

    def __init__(self, features: int, embed: int, hidden: int, layers: int, dropout: float, glimpse: int = 0):
        super().__init__()
        if layers < 1:
            raise ValueError("layers must be >= 1")
        self.features, self.embed_dim = features, embed
        self.cnn_frozen = False                                # set by freeze_cnn after pretraining
        self.embed = nn.Embedding(len(VOCAB), embed, padding_idx=PAD)
        sizes = [(features if i == 0 else hidden) + (embed if i == layers - 1 else 0) for i in range(layers)]
        self.lstms = nn.ModuleList(nn.LSTM(s, hidden, batch_first=True) for s in sizes)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden + glimpse, len(VOCAB))

    # the encoder, given by each captioner
    def frozen_part(self) -> nn.Module:
        raise NotImplementedError

    def cacheable(self, clips: torch.Tensor) -> tuple[torch.Tensor, ...]:
        raise NotImplementedError

    def encode_cached(self, parts: tuple[torch.Tensor, ...]) -> Encoded:
        raise NotImplementedError

    def emit(self, h: torch.Tensor, memory: tuple) -> torch.Tensor:
        """Word logits (B, L, vocab) from the top LSTM's outputs h (B, L, hidden)."""
        return self.out(self.drop(h))

    def freeze_cnn(self) -> None:
        """Fix the pretrained CNN part: no gradients, batch norm on running statistics."""
        self.frozen_part().requires_grad_(False)
        self.cnn_frozen = True
        self.train(self.training)

    def train(self, mode: bool = True):
        super().train(mode)
        if self.cnn_frozen:
            self.frozen_part().eval()
        return self

    def encode_frames(self, clips: torch.Tensor) -> Encoded:
        return self.encode_cached(self.cacheable(clips))

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

    def teacher(self, encoded: Encoded, tokens: torch.Tensor) -> torch.Tensor:
        """Teacher forcing from an encoded clip: logits (B, L, vocab)."""
        return self.emit(self.word_outputs(encoded[0], tokens), encoded[1])

    def word_outputs(self, feats: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """The top LSTM's outputs (B, L, hidden) at the word steps, fed the true previous words."""
        B, T, L = feats.size(0), feats.size(1), tokens.size(1)
        prev = torch.cat([torch.full_like(tokens[:, :1], BOS), tokens[:, :-1]], dim=1)  # (B, L)
        x = torch.cat([feats, feats.new_zeros(B, L, self.features)], dim=1)             # (B, T+L, F)
        w = torch.cat([feats.new_zeros(B, T, self.embed_dim), self.embed(prev)], dim=1)  # (B, T+L, E)
        return self.stack(x, w)[0][:, T:]

    def start(self, clips: torch.Tensor) -> Decoding:
        """Read the frames; returns the state to decode from."""
        feats, memory = self.encode_frames(clips)
        _, states = self.stack(feats, feats.new_zeros(*feats.shape[:2], self.embed_dim))
        return Decoding(states, memory)

    def step(self, prev: torch.Tensor, state: Decoding) -> tuple[torch.Tensor, Decoding]:
        """One decoding step: previous words (N,) -> log-probabilities (N, vocab), new state."""
        w = self.embed(prev)[:, None]                          # (N, 1, E)
        h, lstm = self.stack(w.new_zeros(len(prev), 1, self.features), w, state.lstm)
        return F.log_softmax(self.emit(h, state.memory)[:, 0], dim=-1), Decoding(lstm, state.memory)


@torch.no_grad()
def greedy(model: Captioner, clips: torch.Tensor, max_len: int = MAX_WORDS + 1) -> torch.Tensor:
    """Word indices (B, max_len): the most likely word at every step, <pad> after <eos>."""
    state = model.start(clips)
    prev = torch.full((clips.size(0),), BOS, dtype=torch.long, device=clips.device)
    done = torch.zeros_like(prev, dtype=torch.bool)
    out = []
    for _ in range(max_len):
        logp, state = model.step(prev, state)
        prev = logp.argmax(-1).masked_fill(done, PAD)
        out.append(prev)
        done |= prev == EOS
        if done.all():
            break
    return torch.stack(out, dim=1)


@torch.no_grad()
def beam_search(model: Captioner, clips: torch.Tensor, width: int = 3,
                max_len: int = MAX_WORDS + 1) -> torch.Tensor:
    """Word indices (B, <=max_len) of the most likely sentence among `width` kept hypotheses."""
    if width <= 1:
        return greedy(model, clips, max_len)
    B, V, k = clips.size(0), len(VOCAB), width
    state = model.start(clips).pick(torch.arange(B, device=clips.device).repeat_interleave(k))
    scores = torch.full((B, k), float("-inf"), device=clips.device)
    scores[:, 0] = 0.0                                         # one live hypothesis to start with
    prev = torch.full((B * k,), BOS, dtype=torch.long, device=clips.device)
    done = torch.zeros_like(prev, dtype=torch.bool)
    seqs = prev.new_zeros(B * k, 0)
    for _ in range(max_len):
        logp, state = model.step(prev, state)                  # (B*k, V)
        logp[done] = float("-inf")
        logp[done, PAD] = 0.0                                  # a finished sentence only pads, at no cost
        top, idx = (scores.view(-1, 1) + logp).view(B, k * V).topk(k, dim=1)  # (B, k)
        rows = (torch.arange(B, device=clips.device)[:, None] * k + idx // V).view(-1)
        prev, scores = (idx % V).view(-1), top
        state, seqs = state.pick(rows), torch.cat([seqs[rows], prev[:, None]], dim=1)
        done = done[rows] | (prev == EOS)
        if done.all():
            break
    best = scores.argmax(dim=1) + torch.arange(B, device=clips.device) * k
    return seqs[best]

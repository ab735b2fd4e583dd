"""The captioning model in the published S2VT/LRCN design, small enough for a CPU.

Each 64x64 RGB frame is read per colour. A fixed layer with no weights splits it into one grayscale
plane per palette colour; for each colour present, its centre of mass is found and a 28x28 crop
around that centre (the way MNIST itself centres its digits) goes to a small CNN pretrained on MNIST
digit classification. A frame becomes 6 slots, one per colour: (present, ink, centre row, centre
column, 10 digit probabilities), where ink is how much of the digit shows (less where another
covers it). Slot k always describes colour k, so which digit has which colour and where it is
bound by construction. Before the LSTMs each slot also gets its centre's change since the previous
frame: a second, motion stream, as S2VT adds optical flow to its RGB frames.

A dense layer turns the slots into a feature vector, and a stack of LSTMs runs over T + L steps: for
the first T steps the bottom layer reads the frame features (and the top layer sees no word), for
the next L steps the bottom layer reads zeros and the top layer reads the embedding of the previous
word, and a linear layer + softmax over the vocabulary predicts the next word. With one layer, that
single LSTM reads both. Training feeds the true previous word (teacher forcing); execution feeds the
model's own words, greedily or with a beam.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from neuralab.caption.grammar import (
    BOS,
    COLOUR_RGB,
    COLOURS,
    EOS,
    MAX_WORDS,
    PAD,
    VOCAB,
)
from neuralab.core.reader import SymbolNet

CROP = 28          # MNIST's own size: the reader sees digits as it was pretrained on them
MIN_MASS = 15.0    # summed plane intensity below this is no digit (a real one sums to 40-200)
SLOT = 14          # per colour and frame: present, ink, centre row, centre column, 10 digit probabilities
INK = 100.0        # summed intensity of a typical MNIST digit: ink is ~1 for a fully visible digit
MOTION = 2         # per colour and frame: the centre's change since the previous frame (row, column)
SCALE = 16.0       # pixels per unit of centre: the frame spans -2..2, a step of 3 pixels is ~0.2


class ColourPlanes(nn.Module):
    """Fixed, no weights: frames (N, 3, H, W) in [0, 1] -> planes (N, 6, H, W), one per palette colour.

    Each pixel goes to the palette colour whose direction in RGB space is nearest its own (largest
    cosine), and its intensity there is its length along that colour. A digit drawn as intensity x
    colour is thus recovered as its grayscale image in its colour's plane."""

    def __init__(self):
        super().__init__()
        palette = torch.tensor([COLOUR_RGB[c] for c in COLOURS], dtype=torch.float32) / 255.0  # (6, 3)
        self.register_buffer("unit", palette / palette.norm(dim=1, keepdim=True), persistent=False)
        self.register_buffer("length", palette.norm(dim=1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        cosine = torch.einsum("nchw,kc->nkhw", x, self.unit)                 # (N, 6, H, W)
        nearest = cosine == cosine.amax(1, keepdim=True)                      # ties only where black
        return torch.where(nearest, cosine / self.length[:, None, None], 0.0).clamp_(0, 1)


def centred_crops(planes: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """Planes (M, H, W) and centres (M,) -> crops (M, 1, 28, 28) with each centre at (14, 14), zero-filled."""
    half = CROP // 2
    padded = F.pad(planes, (half, half, half, half))
    offsets = torch.arange(CROP, device=planes.device)
    top = rows.round().long().clamp(0, planes.size(1) - 1)[:, None] + offsets      # (M, 28), padded coordinates
    left = cols.round().long().clamp(0, planes.size(2) - 1)[:, None] + offsets
    index = torch.arange(len(planes), device=planes.device)[:, None, None]
    return padded[index, top[:, :, None], left[:, None, :]][:, None]


class SlotEncoder(nn.Module):
    """Frames (N, 3, 64, 64) in [0, 1] -> slots (N, 6, 14): per palette colour, whether it is present,
    its ink (summed intensity / 100), its centre (row, column) in units of 16 pixels from the middle of
    the frame, and the reader's digit probabilities (zeros where the colour is absent). `reader` is the
    only part with weights."""

    def __init__(self, reader: str = "vgg"):
        super().__init__()
        self.planes = ColourPlanes()
        self.reader = SymbolNet(reader, classes=10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        planes = self.planes(x)                                              # (N, 6, 64, 64)
        N, K, H, W = planes.shape
        mass = planes.sum((2, 3))                                            # (N, 6)
        present = mass > MIN_MASS
        weight = mass.clamp_min(1e-6)
        rows = (planes.sum(3) * torch.arange(H, device=x.device)).sum(-1) / weight   # (N, 6)
        cols = (planes.sum(2) * torch.arange(W, device=x.device)).sum(-1) / weight
        probs = planes.new_zeros(N, K, 10)
        n, k = present.nonzero(as_tuple=True)
        if len(n):
            crops = centred_crops(planes[n, k], rows[n, k], cols[n, k])       # (M, 1, 28, 28)
            probs = probs.index_put((n, k), self.reader(crops).softmax(-1))
        centre = torch.stack([rows - H / 2, cols - W / 2], -1) / SCALE * present[..., None]  # (N, 6, 2)
        ink = mass * present / INK
        return torch.cat([present[..., None].float(), ink[..., None], centre, probs], -1)


def with_motion(slots: torch.Tensor) -> torch.Tensor:
    """Slots (B, T, 6, 14) -> (B, T, 6, 16): each slot's centre change since the previous frame added,
    in pixels / 4 (zero in the first frame and wherever the colour is missing from either frame)."""
    present, centre = slots[..., :1], slots[..., 2:4]
    both = present[:, 1:] * present[:, :-1]
    step = (centre[:, 1:] - centre[:, :-1]) * both * (SCALE / 4)             # (B, T-1, 6, 2)
    return torch.cat([slots, torch.cat([torch.zeros_like(step[:, :1]), step], 1)], -1)


class CaptionModel(nn.Module):
    """Expects clips (B, T, 3, 64, 64); `forward` also takes target words (B, L) for teacher forcing."""

    def __init__(self, features: int = 64, embed: int = 32, hidden: int = 192, layers: int = 2,
                 dropout: float = 0.1, reader: str = "vgg"):
        super().__init__()
        if layers < 1:
            raise ValueError("layers must be >= 1")
        self.features, self.embed_dim = features, embed
        self.cnn_frozen = False                                # set by freeze_cnn after pretraining
        self.encoder = SlotEncoder(reader)
        self.project = nn.Sequential(nn.Flatten(), nn.Linear(len(COLOURS) * (SLOT + MOTION), features),
                                     nn.ReLU(), nn.Dropout(dropout))
        self.embed = nn.Embedding(len(VOCAB), embed, padding_idx=PAD)
        sizes = [(features if i == 0 else hidden) + (embed if i == layers - 1 else 0) for i in range(layers)]
        self.lstms = nn.ModuleList(nn.LSTM(s, hidden, batch_first=True) for s in sizes)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, len(VOCAB))

    def freeze_cnn(self) -> None:
        """Fix the digit reader (after pretraining): no gradients, batch norm on running statistics."""
        self.encoder.requires_grad_(False)
        self.cnn_frozen = True
        self.train(self.training)

    def train(self, mode: bool = True):
        super().train(mode)
        if self.cnn_frozen:
            self.encoder.eval()
        return self

    def frame_slots(self, clips: torch.Tensor) -> torch.Tensor:
        """Clips (B, T, 3, 64, 64) -> slots (B, T, 6, 14), the part a frozen reader lets us cache."""
        slots = self.encoder(clips.flatten(0, 1))
        return slots.view(*clips.shape[:2], *slots.shape[1:])

    def encode_slots(self, slots: torch.Tensor) -> torch.Tensor:
        B, T = slots.shape[:2]
        return self.project(with_motion(slots).flatten(0, 1)).view(B, T, -1)  # (B, T, features)

    def encode_frames(self, clips: torch.Tensor) -> torch.Tensor:
        return self.encode_slots(self.frame_slots(clips))      # (B, T, features)

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


def build_model(config) -> CaptionModel:
    """The captioner a `CaptionConfig` describes."""
    return CaptionModel(features=config.features, embed=config.embed, hidden=config.hidden,
                        layers=config.layers, dropout=config.dropout, reader=config.reader)

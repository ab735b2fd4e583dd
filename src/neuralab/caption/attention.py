"""The learned-encoder captioner (encoder "attention"): nothing in it knows the clips' palette, where
their digits are or how they move. It learns all of that from the captions.

Per frame, a map of 10x10 windows of 28x28 pixels at a stride of 4 (the digits' corners range over
0..36), each window described by:
- the pretrained digit CNN, run over the frame's brightness (at each pixel the largest of R, G and B)
  as a sliding window: its convolutions give a 13x13 map, and its two dense layers become a 4x4 and
  a 1x1 convolution over it, so each window gets the reader's 128 hidden features and 10 digit logits;
- a small colour CNN over the RGB frame pooled to the reader's stride of 4: 16 learned features;
- two coordinate channels (CoordConv): the window's centre row and column, -1..1.
A dense layer at each window mixes them into the values that attention reads, (P = 100, values) per
frame. The maps are kept channels-last, (N, 10, 10, channels), so that mixing is one matrix product
(on a CPU ~2x faster than the same 1x1 convolution and its backward).

Two learned attentions read the maps, each a softmax over the 100 windows of a frame:
- per frame, a few learned queries: what each finds, where (its expected position) and how far that
  moved since the previous frame go through a dense layer into the bottom LSTM;
- per decoding step, the top LSTM's output is the query on every frame (Show, Attend and Tell, 2015,
  here over each of the T frames): what it finds, averaged over the frames, and the track of its
  expected positions over time go through a dense layer into the word layer beside the LSTM's output.
Motion is therefore learned from where the attention lands over time; nothing computes it by hand.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from neuralab.caption.decoder import Captioner, Encoded
from neuralab.core.reader import SlidingReader
from neuralab.core.runtime import bf16_native

GRID = 10      # windows per side: corners 0, 4, ..., 36 of a 64-pixel frame for a 28-pixel digit
STRIDE = 4     # the reader's two 2x2 poolings: the colour CNN reads the frame pooled to this stride
COLOUR = 16    # learned colour features per window: 6 hues need few


def attend(queries: torch.Tensor, values: torch.Tensor, positions: torch.Tensor):
    """Queries (..., Q, D) on values (..., P, D) at positions (P, 2) -> (weights (..., Q, P), each
    summing to 1 over P; what they read (..., Q, D); their expected positions (..., Q, 2))."""
    weights = torch.softmax(queries @ values.transpose(-1, -2) / values.size(-1) ** 0.5, dim=-1)
    return weights, weights @ values, weights @ positions


def track(positions: torch.Tensor) -> torch.Tensor:
    """Expected positions (B, ..., T, 2) over frames -> (B, ..., T, 4): each with its change since the
    previous frame (zero in the first)."""
    step = positions.diff(dim=-2, prepend=positions[..., :1, :])
    return torch.cat([positions, step], dim=-1)


class FrameMaps(nn.Module):
    """Frames (N, 3, 64, 64) in [0, 1] -> values (N, 100, values), with `positions` (100, 2)."""

    def __init__(self, reader: str = "vgg", values: int = 64):
        super().__init__()
        self.reader = SlidingReader(reader, classes=10)
        self.colour = nn.Sequential(nn.Conv2d(3, COLOUR, 1), nn.ReLU(), nn.Conv2d(COLOUR, COLOUR, 7), nn.ReLU())
        hidden = self.reader.digits.in_channels
        self.mix = nn.Sequential(nn.Linear(hidden + 10 + COLOUR + 2, values), nn.ReLU())
        axis = torch.linspace(-1, 1, GRID)
        grid = torch.stack(torch.meshgrid(axis, axis, indexing="ij"), dim=-1)         # (10, 10, 2): row, column
        self.register_buffer("grid", grid, persistent=False)
        self.register_buffer("positions", grid.flatten(0, 1), persistent=False)       # (100, 2)

    def frozen_part(self) -> nn.Module:
        """What freezing fixes after pretraining: the reader up to its hidden features."""
        return nn.ModuleList([self.reader.features, self.reader.dense])

    def cacheable(self, frames: torch.Tensor, frozen: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """Frames (N, 3, 64, 64) -> (the reader's hidden features channels-last (N, 10, 10, 128), the
        frame pooled (N, 3, 16, 16)). A frozen reader reads in bfloat16, in training and after, where
        that is native (`bf16_native`): twice as fast on an AMX CPU, and emulated (slower) elsewhere."""
        brightness = frames.amax(1, keepdim=True)
        with torch.autocast(frames.device.type, dtype=torch.bfloat16, enabled=frozen and bf16_native(frames.device)):
            hidden = self.reader.hidden(brightness)
        return hidden.permute(0, 2, 3, 1).contiguous(), F.avg_pool2d(frames, STRIDE)

    def forward(self, hidden: torch.Tensor, pooled: torch.Tensor) -> torch.Tensor:
        """(N, 10, 10, 128), (N, 3, 16, 16) -> values (N, 100, values)."""
        digits = self.reader.digits                            # the reader's last layer, a 1x1 convolution
        logits = F.linear(hidden, digits.weight.flatten(1), digits.bias)                 # (N, 10, 10, 10)
        colour = self.colour(pooled).permute(0, 2, 3, 1)       # (N, 10, 10, COLOUR)
        coords = self.grid.to(hidden.dtype).expand(len(hidden), -1, -1, -1)
        parts = [hidden, logits.to(hidden.dtype), colour.to(hidden.dtype), coords]
        return self.mix(torch.cat(parts, dim=-1)).flatten(1, 2)


class FrameAttention(nn.Module):
    """Per frame, `queries` learned queries on its values (B, T, P, D): (B, T, queries, D + 4), what
    each read, its expected position and that position's change since the previous frame."""

    def __init__(self, queries: int, values: int):
        super().__init__()
        self.queries = nn.Parameter(torch.randn(queries, values))

    def forward(self, values: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        _, read, where = attend(self.queries, values, positions)           # (B, T, Q, D), (B, T, Q, 2)
        return torch.cat([read, track(where.transpose(1, 2)).transpose(1, 2)], dim=-1)


class WordAttention(nn.Module):
    """Per decoding step, the top LSTM's output h (B, L, hidden) asks every frame of values
    (B, T, P, D): (weights (B, L, T, P), glimpse (B, L, glimpse)), the glimpse made of what it read,
    averaged over frames, and the track of its expected positions."""

    def __init__(self, hidden: int, values: int, frames: int, glimpse: int):
        super().__init__()
        self.ask = nn.Linear(hidden, values)
        self.look = nn.Sequential(nn.Linear(values + 4 * frames, glimpse), nn.ReLU())

    def forward(self, h: torch.Tensor, values: torch.Tensor, positions: torch.Tensor):
        query = self.ask(h)[:, None]                           # (B, 1, L, D): one query for every frame
        weights, read, where = attend(query, values, positions)            # (B, T, L, P), (B, T, L, D)
        moves = track(where.transpose(1, 2))                   # (B, L, T, 4)
        return weights.transpose(1, 2), self.look(torch.cat([read.mean(1), moves.flatten(2)], dim=-1))


class AttentionCaptioner(Captioner):
    """Clips (B, T, 3, 64, 64) with T = `frames`; `forward` also takes target words (B, L)."""

    cache_dtype = torch.bfloat16  # the frozen reader's own precision: half the memory

    def __init__(self, features: int = 64, embed: int = 32, hidden: int = 192, layers: int = 2,
                 dropout: float = 0.1, reader: str = "vgg", frames: int = 10, values: int = 64,
                 queries: int = 4, glimpse: int = 64):
        super().__init__(features, embed, hidden, layers, dropout, glimpse=glimpse)
        self.encoder = FrameMaps(reader, values)
        self.frame_attention = FrameAttention(queries, values)
        self.project = nn.Sequential(nn.Linear(queries * (values + 4), features), nn.ReLU(), nn.Dropout(dropout))
        self.word_attention = WordAttention(hidden, values, frames, glimpse)

    def frozen_part(self) -> nn.Module:
        return self.encoder.frozen_part()

    def cacheable(self, clips: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden, pooled = self.encoder.cacheable(clips.flatten(0, 1), self.cnn_frozen)
        return hidden.view(*clips.shape[:2], *hidden.shape[1:]), pooled.view(*clips.shape[:2], *pooled.shape[1:])

    def encode_cached(self, parts: tuple[torch.Tensor, torch.Tensor]) -> Encoded:
        hidden, pooled = parts                                 # (B, T, 10, 10, 128), (B, T, 3, 16, 16)
        if not torch.is_autocast_enabled(hidden.device.type):  # else autocast reads the bf16 cache as it is
            hidden, pooled = hidden.float(), pooled.float()
        B, T = hidden.shape[:2]
        values = self.encoder(hidden.flatten(0, 1), pooled.flatten(0, 1)).view(B, T, GRID * GRID, -1)
        feats = self.project(self.frame_attention(values, self.encoder.positions).flatten(2))  # (B, T, features)
        return feats, (values,)

    def emit(self, h: torch.Tensor, memory: tuple) -> torch.Tensor:
        _, glimpse = self.word_attention(h, memory[0], self.encoder.positions)
        return self.out(self.drop(torch.cat([h, glimpse], dim=-1)))

    @torch.no_grad()
    def where_it_looked(self, clips: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """Word attention (B, L, T, 10, 10) for each word of `tokens` (B, L), fed as teacher forcing."""
        feats, (values,) = self.encode_frames(clips)
        weights = self.word_attention(self.word_outputs(feats, tokens), values, self.encoder.positions)[0]
        return weights.view(*weights.shape[:3], GRID, GRID)

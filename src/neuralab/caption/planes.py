"""The colour-plane captioner (encoder "planes"): a front end fixed by hand for the generated clips'
palette, a pretrained digit CNN, and the shared LSTM stack (`decoder`).

Each 64x64 RGB frame is read per colour. A fixed layer with no weights splits it into one grayscale
plane per palette colour; for each colour present, its centre of mass is found and a 28x28 crop
around that centre (the way MNIST itself centres its digits) goes to a small CNN pretrained on MNIST
digit classification. A frame becomes 6 slots, one per colour: (present, ink, centre row, centre
column, 10 digit probabilities), where ink is how much of the digit shows (less where another
covers it). Slot k always describes colour k, so which digit has which colour and where it is
bound by construction. Before the LSTMs each slot also gets its centre's change since the previous
frame: a second, motion stream, as S2VT adds optical flow to its RGB frames.

A dense layer turns the slots into the feature vector the LSTM stack reads for each frame.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from neuralab.caption.decoder import Captioner
from neuralab.caption.grammar import COLOUR_RGB, COLOURS
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


class PlanesCaptioner(Captioner):
    """The colour-plane captioner: clips (B, T, 3, 64, 64) read as per-colour slots, then the LSTMs."""

    def __init__(self, features: int = 64, embed: int = 32, hidden: int = 192, layers: int = 2,
                 dropout: float = 0.1, reader: str = "vgg"):
        super().__init__(features, embed, hidden, layers, dropout)
        self.encoder = SlotEncoder(reader)
        self.project = nn.Sequential(nn.Flatten(), nn.Linear(len(COLOURS) * (SLOT + MOTION), features),
                                     nn.ReLU(), nn.Dropout(dropout))

    def frozen_part(self) -> nn.Module:
        return self.encoder

    def cacheable(self, clips: torch.Tensor) -> tuple[torch.Tensor]:
        """Clips (B, T, 3, 64, 64) -> (slots (B, T, 6, 14),), the part a frozen reader lets us cache."""
        slots = self.encoder(clips.flatten(0, 1))
        return (slots.view(*clips.shape[:2], *slots.shape[1:]),)

    def encode_cached(self, parts: tuple[torch.Tensor]):
        slots = parts[0]
        B, T = slots.shape[:2]
        return self.project(with_motion(slots).flatten(0, 1)).view(B, T, -1), ()  # (B, T, features), no memory

"""SepiaBlurNet: the assignment's fixed-weight CNN (sepia, then a 5x5 Gaussian blur), and its answer.

Layer 1 is a 1x1 convolution whose three filters are the sepia rows; layer 2 is a 5x5 convolution
whose filter c holds the Gaussian kernel / 273 on input channel c and zeros elsewhere. Neither has
a bias and no weight is trained. `describe` reads the assignment's answer (layers, filters, shapes,
every value, output sizes) from the model's own tensors and by running it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from neuralab.core.errors import UserError

# Rows give (R', G', B') as weights on (R, G, B): the assignment's sepia definition.
SEPIA = ((0.393, 0.769, 0.189),
         (0.349, 0.686, 0.168),
         (0.272, 0.534, 0.131))
# The assignment's truncated Gaussian (sigma 1), in integers; the filter is this / GAUSS_SCALE.
GAUSS_5X5 = ((1, 4, 7, 4, 1),
             (4, 16, 26, 16, 4),
             (7, 26, 41, 26, 7),
             (4, 16, 26, 16, 4),
             (1, 4, 7, 4, 1))
GAUSS_SCALE = 273

Padding = Literal["valid", "same"]
SepiaRange = Literal["clip", "rescale", "none"]
PADDINGS: tuple[str, ...] = ("valid", "same")
SEPIA_RANGES: tuple[str, ...] = ("clip", "rescale", "none")
SEPIA_RANGE_HELP = {
    "clip": "clamp the sepia output to [0, 1] before the blur (bright pixels saturate)",
    "rescale": "divide the sepia output by the largest sepia row sum (1.351), so [0, 1] input stays "
               "in [0, 1] and the sepia tone (ratio between channels) is kept; the image is darker",
    "none": "no range handling: values above 1 pass on to the blur (needed for the fused form)",
}


MAX_SIZE = 4096   # --size: a 4096 x 4096 picture is filtered in about 1 GB of float32 tensors


@dataclass
class FilterConfig:
    padding: Padding = "valid"        # the assignment's answer (and Keras's default): 128 -> 124
    sepia_range: SepiaRange = "clip"  # sepia rows sum to 1.351, so the image must be brought back to [0, 1]
    fused: bool = False               # two explicit layers, as the assignment asks
    size: int = 128                   # the assignment's input is 128x128x3

    def __post_init__(self):
        """A config that exists is valid: every field is checked here, naming its flag."""
        if self.padding not in PADDINGS:
            raise UserError(f"--padding: unknown padding {self.padding!r} (choose from valid, same)")
        if self.sepia_range not in SEPIA_RANGES:
            raise UserError(f"--sepia-range: unknown mode {self.sepia_range!r} (choose from clip, rescale, none)")
        if self.fused and self.sepia_range == "clip":
            raise UserError("--fused: the fused form is one linear convolution and cannot clamp between "
                            "layers; use --sepia-range none or rescale")
        if self.size < 0 or 0 < self.size < 5 or self.size > MAX_SIZE:
            raise UserError(f"--size: {self.size} is not 0 (keep the size) or 5..{MAX_SIZE} (the blur is 5x5)")


def per_channel(kernel: np.ndarray, channels: int) -> np.ndarray:
    """Filter c holds `kernel` on input channel c and zeros elsewhere: (C, C, k, k)."""
    w = np.zeros((channels, channels, *kernel.shape), kernel.dtype)
    for c in range(channels):
        w[c, c] = kernel
    return w


class SepiaBlurNet(nn.Module):
    """Expects (B, 3, H, W) float RGB in [0, 1]; returns (B, 3, H-4, W-4) (valid) or (B, 3, H, W) (same)."""

    def __init__(self, padding: Padding = "valid", sepia_range: SepiaRange = "clip"):
        super().__init__()
        FilterConfig(padding=padding, sepia_range=sepia_range)   # checks both
        self.padding, self.sepia_range = padding, sepia_range
        self.sepia = nn.Conv2d(3, 3, kernel_size=1, bias=False)
        self.blur = nn.Conv2d(3, 3, kernel_size=5, bias=False, padding=2 if padding == "same" else 0)
        with torch.no_grad():
            self.sepia.weight.copy_(torch.tensor(SEPIA).view(3, 3, 1, 1))      # (out, in, 1, 1)
            g = np.array(GAUSS_5X5, np.float32) / np.float32(GAUSS_SCALE)      # (5, 5)
            self.blur.weight.copy_(torch.from_numpy(per_channel(g, 3)))        # (out, in, 5, 5)
        self.requires_grad_(False)  # fixed filters: nothing here is trained

    def range_scale(self) -> torch.Tensor:
        """The largest sepia row sum, read from the weights: the brightest a [0, 1] input can get."""
        return self.sepia.weight.sum(dim=(1, 2, 3)).max()

    def sepia_stage(self, x: torch.Tensor) -> torch.Tensor:
        """Layer 1 and the range handling: (B, 3, H, W) -> (B, 3, H, W)."""
        y = self.sepia(x)
        if self.sepia_range == "clip":
            return y.clamp(0.0, 1.0)
        if self.sepia_range == "rescale":
            return y / self.range_scale()
        return y

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blur(self.sepia_stage(x))

    def fused_weight(self) -> torch.Tensor:
        """Both layers as one (3, 3, 5, 5) kernel: W[o, i] = sum_c blur[o, c] * sepia[c, i] (/ scale).

        Exact for `none` and `rescale` (both linear). Zero padding commutes with the 1x1 layer
        because it has no bias, so `same` padding folds too.
        """
        if self.sepia_range == "clip":
            raise UserError("--fused: the clamp between the layers is not linear and cannot be folded")
        w = torch.einsum("ockl,ci->oikl", self.blur.weight, self.sepia.weight[:, :, 0, 0])
        return w / self.range_scale() if self.sepia_range == "rescale" else w

    def fused(self, x: torch.Tensor) -> torch.Tensor:
        """The one-layer form: a single 5x5x3 -> 3 convolution."""
        return F.conv2d(x, self.fused_weight().to(x.dtype), padding=self.blur.padding)


def output_shape(model: SepiaBlurNet, size: int = 128) -> tuple[int, int, int]:
    """(H, W, C) of the model's output for one size x size x 3 input, by running it."""
    with torch.no_grad():
        y = model(torch.zeros(1, 3, size, size))  # (1, 3, H', W')
    return (y.shape[2], y.shape[3], y.shape[1])

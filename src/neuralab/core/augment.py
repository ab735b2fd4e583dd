"""Random distortions of 28x28 digit images, so that a reader trained on MNIST also reads real pens.

People's digits differ from MNIST's in ways that survive MNIST's own framing (fit 20x20, centre of
mass at the centre): the pen is thinner or thicker, the hand slants and wobbles, a photo is blurred
and noisy. Each image of a batch gets its own draw of every distortion, in one batched pass:

- stroke width: a blend towards a 3x3 dilation (thicker) or erosion (thinner) of the image;
- a small rotation and scale, and an elastic wobble (a smooth random displacement field), applied
  together by one `grid_sample`;
- a Gaussian blur of random width, then Gaussian sensor noise.
The strongest ink is brought back to 1 before the noise, as the image intake stretches it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Augment:
    stroke: float = 0.6        # blend of up to 60% towards a 1-pixel thicker or thinner stroke
    degrees: float = 10.0      # rotation within ±10°: handwriting slants about this much
    scale: float = 0.1         # size within ±10%: what is left after fitting 20x20 (aspect, flourishes)
    elastic: float = 1.0       # wobble of up to ~1 pixel: a hand's tremor at MNIST's size
    blur: float = 0.8          # Gaussian sigma up to 0.8 pixel: an out-of-focus phone photo, scaled down
    noise: float = 0.04        # sensor noise sigma up to 4% of full scale
    chance: float = 0.5        # each distortion is applied to about half the images: the rest stay as MNIST

    def scaled(self, strength: float) -> Augment:
        """Every distortion's size times `strength` (the stroke blend and the size change capped at
        100% and 50%); how many images get each is unchanged."""
        return replace(self, stroke=min(1.0, self.stroke * strength), degrees=self.degrees * strength,
                       scale=min(0.5, self.scale * strength), elastic=self.elastic * strength,
                       blur=self.blur * strength, noise=self.noise * strength)


def augment(images: torch.Tensor, spec: Augment, generator: torch.Generator | None = None) -> torch.Tensor:
    """Images (N, 1, 28, 28) in [0, 1] -> distorted copies (N, 1, 28, 28) in [0, 1]."""
    if len(images) == 0:
        return images
    n, device = len(images), images.device

    def uniform(low: float, high: float) -> torch.Tensor:          # (N,), where each image is distorted
        value = low + (high - low) * torch.rand(n, generator=generator, device=device)
        on = torch.rand(n, generator=generator, device=device) < spec.chance
        return torch.where(on, value, torch.zeros_like(value))

    x = _stroke(images, uniform(-spec.stroke, spec.stroke))
    x = _warp(x, uniform(-spec.degrees, spec.degrees), uniform(-spec.scale, spec.scale),
              uniform(0.0, spec.elastic), generator)
    x = _blur(x, uniform(0.0, spec.blur))
    x = x / x.amax((1, 2, 3), keepdim=True).clamp(min=1e-6)       # ink at full scale, as intake gives it
    sigma = uniform(0.0, spec.noise)[:, None, None, None]
    x = x + sigma * torch.randn(x.shape, generator=generator, device=device)
    return x.clamp(0.0, 1.0)


def _stroke(x: torch.Tensor, amount: torch.Tensor) -> torch.Tensor:
    """amount (N,) in [-1, 1]: > 0 blends towards a dilation (thicker), < 0 towards an erosion."""
    thick, thin = _max3x3(x), -_max3x3(-x)
    a = amount[:, None, None, None]
    return torch.where(a >= 0, x + a * (thick - x), x + (-a) * (thin - x))


def _max3x3(x: torch.Tensor) -> torch.Tensor:
    """3x3 maximum filter (N, 1, H, W), separable; about 5x faster than max_pool2d with stride 1 on CPU."""
    p = F.pad(x, (1, 1, 1, 1), value=float(x.min()))
    rows = torch.maximum(torch.maximum(p[..., :-2], p[..., 1:-1]), p[..., 2:])          # (N, 1, H + 2, W)
    return torch.maximum(torch.maximum(rows[..., :-2, :], rows[..., 1:-1, :]), rows[..., 2:, :])


def _warp(x: torch.Tensor, degrees: torch.Tensor, scale: torch.Tensor, wobble: torch.Tensor,
          generator: torch.Generator | None) -> torch.Tensor:
    """Rotate by `degrees`, scale by 1 + `scale`, displace by a smooth field of size `wobble` pixels."""
    n, _, h, w = x.shape
    angle = degrees * math.pi / 180
    cos, sin = torch.cos(angle) / (1 + scale), torch.sin(angle) / (1 + scale)
    zero = torch.zeros_like(cos)
    theta = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)  # (N, 2, 3)
    grid = F.affine_grid(theta, (n, 1, h, w), align_corners=False)                       # (N, h, w, 2)
    coarse = torch.randn((n, 2, 4, 4), generator=generator, device=x.device)
    field = F.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False)      # (N, 2, h, w)
    field = field * (wobble * 2 / w)[:, None, None, None]                                # pixels -> grid units
    return F.grid_sample(x, grid + field.permute(0, 2, 3, 1), mode="bilinear", padding_mode="zeros",
                         align_corners=False)


def _blur(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """A separable 5-tap Gaussian of each image's own sigma (0 leaves the image as it is)."""
    taps = torch.arange(-2, 3, device=x.device, dtype=x.dtype)                          # (5,)
    s = sigma.clamp(min=1e-3)[:, None]
    kernel = torch.exp(-0.5 * (taps / s) ** 2)
    kernel = kernel / kernel.sum(1, keepdim=True)                                        # (N, 5)
    n, _, h, w = x.shape
    rows = F.conv2d(x.view(1, n, h, w), kernel.view(n, 1, 1, 5), padding=(0, 2), groups=n)   # zeros: background
    both = F.conv2d(rows, kernel.view(n, 1, 5, 1), padding=(2, 0), groups=n)
    return both.view(n, 1, h, w)

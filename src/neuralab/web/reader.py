"""Reading digit images for the web page: decode, preprocess as `calc predict` does, classify.

A digit arrives either as a PNG data URL (a canvas the user drew on) or as a 28x28 array of
numbers in [0, 1] that is already MNIST-like (light ink on black, centred). Data URLs go through
the same preprocessing as `neuralab calc predict`: invert a light background, crop to the ink,
fit to 20x20 and centre by mass in 28x28.
"""

from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from neuralab.calc.models import SymbolicCalc
from neuralab.calc.preprocess import INK, crop, to_ink, to_mnist
from neuralab.core.errors import UserError

DATA_URL_PREFIX = "data:image/png;base64,"
MAX_IMAGE_SIDE = 1024   # a drawn digit box is a few hundred pixels; refuse anything far larger


def decode_data_url(url: str, where: str) -> np.ndarray:
    """A PNG data URL -> (28, 28) uint8 MNIST-like digit."""
    if not url.startswith(DATA_URL_PREFIX):
        raise UserError(f"{where}: expected a PNG data URL starting with {DATA_URL_PREFIX!r}")
    try:
        raw = base64.b64decode(url[len(DATA_URL_PREFIX):], validate=True)
        with Image.open(io.BytesIO(raw)) as im:
            if im.format != "PNG":
                raise UserError(f"{where}: not a PNG image")
            if max(im.size) > MAX_IMAGE_SIDE:
                raise UserError(f"{where}: image is {im.size[0]}x{im.size[1]}, at most {MAX_IMAGE_SIDE} a side")
            rgba = im.convert("RGBA")
    except (binascii.Error, UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise UserError(f"{where}: not a readable PNG image") from None
    # transparent canvas pixels count as background: composite onto white
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    gray = np.asarray(Image.alpha_composite(white, rgba).convert("L"), dtype=np.float64) / 255.0
    ink = crop(to_ink(gray))
    if not (ink > INK).any():
        raise UserError(f"{where}: the box is empty (no ink)")
    return to_mnist(ink)


def decode_array(values: list, where: str) -> np.ndarray:
    """A 28x28 nested list of numbers in [0, 1] -> (28, 28) uint8."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise UserError(f"{where}: array must be 28x28 numbers") from None
    if arr.shape != (28, 28) or not np.isfinite(arr).all() or arr.min() < 0 or arr.max() > 1:
        raise UserError(f"{where}: array must be 28x28 numbers in [0, 1], got shape {arr.shape}")
    return np.rint(arr * 255).astype(np.uint8)


def decode_digit(digit, where: str) -> np.ndarray:
    return decode_data_url(digit, where) if isinstance(digit, str) else decode_array(digit, where)


@dataclass
class Reading:
    digits: list[int]
    probabilities: list[float]   # the probability of each digit as read
    number: int


class DigitReader:
    """Wraps a symbolic calculator's per-image reader."""

    def __init__(self, model: SymbolicCalc, device: torch.device | str = "cpu"):
        if not isinstance(model, SymbolicCalc):
            raise UserError("the web page needs a symbolic calc checkpoint (the seed model reads no digits)")
        self.model, self.device = model.eval(), torch.device(device)

    @torch.no_grad()
    def read(self, groups: list[np.ndarray]) -> list[Reading]:
        """Numbers as (D, 28, 28) uint8 digit stacks -> one Reading each, in one CNN call."""
        x = torch.from_numpy(np.concatenate(groups)).float().div(255.0).unsqueeze(1)   # (sum D, 1, 28, 28)
        probs = self.model.reader(x.to(self.device))[:, :10].softmax(-1).cpu()         # (sum D, 10)
        best, digit = probs.max(-1)
        readings, start = [], 0
        for g in groups:
            ds = digit[start:start + len(g)].tolist()
            readings.append(Reading(ds, [round(p, 4) for p in best[start:start + len(g)].tolist()],
                                    int("".join(map(str, ds)))))
            start += len(g)
        return readings

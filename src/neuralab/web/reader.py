"""Reading the web page's pictures: decode them, find their digits as `calc predict` does, read them.

A digit arrives as a picture data URL (a canvas box the user drew on) or as a 28x28 array of
numbers in [0, 1] that is already MNIST-like (light ink on black, centred). A whole picture (a
photo upload, or the wide box in which a number is written freely) arrives as a data URL and is
segmented into numbers. Pictures go through the shared intake and the same digit finding as
`neuralab calc predict` (`calc.inputs`), and numbers are read by `calc.predict.read_numbers`.
"""

from __future__ import annotations

import base64
import binascii
import re

import numpy as np
import torch

from neuralab.calc.inputs import Group, read_box, read_picture
from neuralab.calc.models import SymbolicCalc
from neuralab.calc.predict import Answer, read_numbers
from neuralab.core.errors import UserError

DATA_URL = re.compile(r"^data:image/[a-z0-9.+-]+;base64,")
MAX_PIXELS = 16_000_000   # a 16-megapixel photo; a drawn box is a few hundred pixels a side


def _data_url_bytes(url: str, where: str) -> bytes:
    match = DATA_URL.match(url[:64])
    if match is None:
        raise UserError(f"{where}: expected a picture data URL such as 'data:image/png;base64,...'")
    try:
        return base64.b64decode(url[match.end():], validate=True)
    except (binascii.Error, ValueError):
        raise UserError(f"{where}: not valid base64") from None


def decode_array(values: list, where: str) -> np.ndarray:
    """A 28x28 nested list of numbers in [0, 1] -> (28, 28) uint8."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise UserError(f"{where}: array must be 28x28 numbers") from None
    if arr.shape != (28, 28) or not np.isfinite(arr).all() or arr.min() < 0 or arr.max() > 1:
        raise UserError(f"{where}: array must be 28x28 numbers in [0, 1], got shape {arr.shape}")
    image = np.rint(arr * 255).astype(np.uint8)
    if image.max() == 0:   # as a blank box picture is refused: there is no digit to read
        raise UserError(f"{where}: the array is blank (no ink)")
    return image


def decode_digit(digit, where: str, max_pixels: int = MAX_PIXELS) -> tuple[np.ndarray, int]:
    """One digit: a data URL of its box, or a 28x28 array -> ((28, 28) uint8 MNIST-like, pixels decoded).
    A picture of more than `max_pixels` is refused from its header, before it is decoded."""
    if isinstance(digit, str):
        return read_box(_data_url_bytes(digit, where), where, max_pixels)
    return decode_array(digit, where), 28 * 28


def decode_picture(url: str, where: str) -> list[Group]:
    """A picture data URL -> one Group per number found in it."""
    return read_picture(_data_url_bytes(url, where), where, MAX_PIXELS)


class DigitReader:
    """Reads numbers with a symbolic calculator."""

    def __init__(self, model: SymbolicCalc, device: torch.device | str = "cpu"):
        if not isinstance(model, SymbolicCalc):
            raise UserError("the web page needs a symbolic calc checkpoint (the seed model reads no digits)")
        self.model, self.device = model.eval(), torch.device(device)

    def read(self, groups: list[np.ndarray]) -> Answer:
        """Numbers as (D, 28, 28) uint8 digit stacks -> their readings and running totals, in one CNN call."""
        return read_numbers(self.model, groups, self.device)

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
from neuralab.calc.joined import Judge
from neuralab.calc.models import SymbolicCalc
from neuralab.calc.predict import Answer, read_numbers
from neuralab.calc.reading import judge
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


def decode_array(values, where: str) -> np.ndarray:
    """A 28x28 nested list of numbers in [0, 1] -> (28, 28) uint8. Strings and booleans are not numbers."""
    if not (isinstance(values, list) and len(values) == 28 and all(isinstance(r, list) and len(r) == 28 for r in values)):
        raise UserError(f"{where}: must be a picture data URL or 28 rows of 28 numbers")
    bad = next(((r, c, v) for r, row in enumerate(values) for c, v in enumerate(row)
                if isinstance(v, bool) or not isinstance(v, (int, float))), None)
    if bad is not None:
        raise UserError(f"{where}[{bad[0]}][{bad[1]}]: {bad[2]!r} is not a number")
    arr = np.asarray(values, dtype=np.float64)
    if not np.isfinite(arr).all():
        raise UserError(f"{where}: holds NaN or infinity; values must lie in [0, 1]")
    if arr.min() < 0 or arr.max() > 1:
        raise UserError(f"{where}: values must lie in [0, 1], found {arr.min():g} to {arr.max():g}")
    image = np.rint(arr * 255).astype(np.uint8)
    if image.max() == 0:   # as a blank box picture is refused: there is no digit to read
        raise UserError(f"{where}: the array is blank (no ink)")
    return image


def decode_digit(digit, where: str, max_pixels: int = MAX_PIXELS) -> tuple[np.ndarray, int]:
    """One digit: a data URL of its box, or a 28x28 array -> ((28, 28) uint8 MNIST-like, pixels decoded).
    A picture of more than `max_pixels` is refused from its header, before it is decoded."""
    if isinstance(digit, str):
        return read_box(_data_url_bytes(digit, where), where, max_pixels)
    if not isinstance(digit, list):
        raise UserError(f"{where}: must be a picture data URL or 28 rows of 28 numbers, got {type(digit).__name__}")
    return decode_array(digit, where), 28 * 28


def decode_picture(url: str, where: str, judge: Judge | None = None) -> list[Group]:
    """A picture data URL -> one Group per number found in it (digits that touch split where the
    reader's `judge` reads them best)."""
    return read_picture(_data_url_bytes(url, where), where, MAX_PIXELS, judge)


class DigitReader:
    """Reads numbers with a symbolic calculator."""

    def __init__(self, model: SymbolicCalc, device: torch.device | str = "cpu"):
        if not isinstance(model, SymbolicCalc):
            raise UserError("the web page needs a symbolic calc checkpoint (the seed model reads no digits)")
        self.model, self.device = model.eval(), torch.device(device)
        self.judge = judge(self.model, self.device)              # where to cut digits that touch

    def read(self, groups: list[np.ndarray], ceilings: list[list[float] | None] | None = None) -> Answer:
        """Numbers as (D, 28, 28) uint8 digit stacks -> their readings and running totals, in one CNN call
        (`ceilings`: as `read_numbers` takes them)."""
        return read_numbers(self.model, groups, self.device, ceilings)

"""Turn people's pictures of digits into MNIST-like 28x28 images (used by `calc predict` and the web page).

MNIST digits were made this way: the digit is cropped to its ink, scaled (keeping its aspect) to
fit a 20x20 box, and placed in a 28x28 image so that its centre of mass is at the centre. We do
the same. A picture on a light background (dark ink on paper) is inverted first, since MNIST is
light ink on black. A picture holding several digits side by side is split at the empty columns.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from neuralab.core.errors import UserError

INK = 0.2          # a pixel counts as ink above this (after inversion, in [0, 1])
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm")


def read_gray(path: Path | str) -> np.ndarray:
    """An image file -> float gray (H, W) in [0, 1]; UserError if it is not an image."""
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("L"), dtype=np.float64) / 255.0
    except (UnidentifiedImageError, OSError, ValueError):
        raise UserError(f"{path}: not a readable image") from None


def to_ink(gray: np.ndarray) -> np.ndarray:
    """Light ink on black: inverted when the border (the background) is mostly light."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return 1.0 - gray if np.median(border) > 0.5 else gray


def split_columns(ink: np.ndarray) -> list[np.ndarray]:
    """Cut an ink image (H, W) at its empty columns; each piece is cropped to its ink."""
    inked = (ink > INK).any(0)
    pieces, start = [], None
    for x, on in enumerate(np.append(inked, False)):
        if on and start is None:
            start = x
        elif not on and start is not None:
            pieces.append(crop(ink[:, start:x]))
            start = None
    return pieces


def crop(ink: np.ndarray) -> np.ndarray:
    """The smallest box holding all ink (the whole image if there is none)."""
    rows, cols = np.nonzero(ink > INK)
    if len(rows) == 0:
        return ink
    return ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1]


def to_mnist(piece: np.ndarray) -> np.ndarray:
    """A cropped digit -> (28, 28) uint8: fit in 20x20 keeping aspect, centre of mass at the centre."""
    h, w = piece.shape
    scale = 20.0 / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = np.asarray(Image.fromarray((piece * 255).astype(np.uint8)).resize(size, Image.LANCZOS),
                       dtype=np.float64)                                # (h', w') <= (20, 20)
    out = np.zeros((28, 28))
    top, left = (28 - small.shape[0]) // 2, (28 - small.shape[1]) // 2
    out[top:top + small.shape[0], left:left + small.shape[1]] = small
    mass = out.sum()
    if mass > 0:
        ys, xs = np.indices(out.shape)
        dy, dx = round(13.5 - (ys * out).sum() / mass), round(13.5 - (xs * out).sum() / mass)
        out = _shift(out, dy, dx)
    return np.clip(out, 0, 255).astype(np.uint8)


def _shift(image: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Move the content by (dy, dx), filling with zeros (no wrap-around)."""
    out = np.zeros_like(image)
    H, W = image.shape
    ys, yd = (slice(0, H - dy), slice(dy, H)) if dy >= 0 else (slice(-dy, H), slice(0, H + dy))
    xs, xd = (slice(0, W - dx), slice(dx, W)) if dx >= 0 else (slice(-dx, W), slice(0, W + dx))
    out[yd, xd] = image[ys, xs]
    return out


def read_number(path: Path | str) -> np.ndarray:
    """One number -> its digit images (D, 28, 28) uint8, most significant first.

    `path` is a directory of single-digit images (read in file-name order) or one image with the
    digits side by side.
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        if not files:
            raise UserError(f"{path}: empty group (no digit images in the directory)")
        pieces = [crop(to_ink(read_gray(f))) for f in files]
        blank = [f.name for f, p in zip(files, pieces) if not (p > INK).any()]
        if blank:
            raise UserError(f"{path}: {blank[0]} holds no digit (the image is empty)")
    elif path.is_file():
        pieces = split_columns(to_ink(read_gray(path)))
        if not pieces:
            raise UserError(f"{path}: empty group (no digit found in the image)")
    else:
        raise UserError(f"{path}: no such file or directory")
    return np.stack([to_mnist(p) for p in pieces])

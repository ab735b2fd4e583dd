"""Image files in and out: any Pillow-readable image to float RGB in [0, 1], and PNG / .npy out.

Conversion rules (so every mode gives an H x W x 3 float32 array in [0, 1]):
- 16-bit and 32-bit integer greyscale (I;16*, I) are read as numbers and divided by 65535
  (clipped), instead of Pillow's RGB conversion, which saturates them at 255;
- float greyscale (F) is taken as already in [0, 1] and clipped;
- modes with transparency (RGBA, LA, PA, P with a transparent colour) are composited onto white;
- everything else (1, L, P, CMYK, YCbCr, LAB, HSV, RGBX ...) goes through Pillow's `convert("RGB")`.
EXIF orientation is applied. Images with more pixels than `PIL.Image.MAX_IMAGE_PIXELS` are
refused from their header alone, before any pixel is decoded.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps

from neuralab.core.errors import UserError
from neuralab.core.io import atomic_path

log = logging.getLogger(__name__)

SAMPLE_PHOTO = "grace_hopper.jpg"  # a real photograph shipped inside matplotlib: works offline
_WIDE_GREY = ("I;16", "I;16B", "I;16L", "I;16N", "I")


def sample_photo() -> Path:
    from matplotlib import cbook

    return Path(cbook.get_sample_data(SAMPLE_PHOTO, asfileobj=False))


def _open_checked(path: Path) -> Image.Image:
    """Open lazily (header only) and refuse decompression bombs before decoding."""
    if not path.exists():
        raise UserError(f"{path}: no such file")
    if path.is_dir():
        raise UserError(f"{path}: is a directory, not an image")
    if path.stat().st_size == 0:
        raise UserError(f"{path}: empty file (0 bytes)")
    try:
        with warnings.catch_warnings():  # over the limit is refused below, so no warning either
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(path)
    except Image.DecompressionBombError as e:
        raise UserError(f"{path}: refused, decompression bomb ({e})".splitlines()[0]) from None
    except PermissionError:
        raise UserError(f"{path}: permission denied") from None
    except Exception as e:  # Pillow signals unreadable input with many exception types
        raise UserError(f"{path}: not a readable image ({type(e).__name__}: {e})".splitlines()[0]) from None
    limit = Image.MAX_IMAGE_PIXELS
    w, h = im.size
    if limit is not None and w * h > limit:
        im.close()
        raise UserError(f"{path}: refused, decompression bomb: header says {w}x{h} = {w * h} pixels, "
                        f"more than the {limit} allowed")
    return im


def _to_rgb_array(im: Image.Image) -> np.ndarray:
    """Any mode -> (H, W, 3) float32 in [0, 1], by the rules in the module docstring."""
    if im.mode in _WIDE_GREY:
        a = np.asarray(im, dtype=np.float32).clip(0, 65535) / 65535.0  # (H, W)
        return np.repeat(a[:, :, None], 3, axis=2)
    if im.mode == "F":
        a = np.asarray(im, dtype=np.float32).clip(0.0, 1.0)
        return np.repeat(a[:, :, None], 3, axis=2)
    if im.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        im = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    return np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0


def resize(x: np.ndarray, size: int) -> np.ndarray:
    """(H, W, 3) -> (size, size, 3), antialiased bilinear in float; size 0 keeps the image."""
    if size == 0 or x.shape[:2] == (size, size):
        return x
    t = torch.from_numpy(np.ascontiguousarray(x)).permute(2, 0, 1)[None]  # (1, 3, H, W)
    t = F.interpolate(t, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return t[0].permute(1, 2, 0).clamp(0.0, 1.0).contiguous().numpy()


def load_rgb(path: Path | str, size: int = 0) -> np.ndarray:
    """Read one image as (H, W, 3) float32 RGB in [0, 1]; resized to size x size unless size is 0."""
    path = Path(path)
    im = _open_checked(path)
    try:
        with im:
            im = ImageOps.exif_transpose(im)
            x = _to_rgb_array(im)
    except UserError:
        raise
    except Exception as e:  # truncated or corrupt data shows up only while decoding
        raise UserError(f"{path}: cannot decode image ({type(e).__name__}: {e})".splitlines()[0]) from None
    log.debug("read %s: %dx%d", path, x.shape[1], x.shape[0])
    return resize(x, size)


def to_uint8(x: np.ndarray) -> np.ndarray:
    return np.round(np.clip(x, 0.0, 1.0) * 255.0).astype(np.uint8)


def save_output(x: np.ndarray, path: Path | str) -> Path:
    """Write (H, W, 3) floats atomically: float32 .npy as they are, else an 8-bit PNG (clipped)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        if path.suffix.lower() == ".npy":
            with open(tmp, "wb") as f:
                np.save(f, np.asarray(x, dtype=np.float32))
        else:
            Image.fromarray(to_uint8(x)).save(tmp, format="PNG")
    return path

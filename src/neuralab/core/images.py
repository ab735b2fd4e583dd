"""The one image intake: a file or the bytes of an upload -> float RGB or grey in [0, 1].

`filters apply`, `calc predict` and the web page all read pictures through here. Every common
format Pillow decodes is taken, with these rules (so any mode gives the same float array):
- the size is checked from the header, before any pixel is decoded: more than `MAX_PIXELS`
  (or the caller's smaller limit) is refused as a decompression bomb;
- EXIF orientation is applied, so a phone photo is upright;
- 16-bit and 32-bit integer greyscale (I;16*, I) are divided by 65535, where Pillow's own
  conversion would saturate them at 255; float greyscale (F) is taken as [0, 1];
- modes with transparency (RGBA, LA, PA, P with a transparent colour) are composited on white;
- everything else (1, L, P, CMYK, YCbCr, LAB, HSV ...) goes through Pillow's `convert("RGB")`;
- an animation gives its first frame.
Every refusal is one `ImageError` (a `UserError`) that names the picture.
"""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image, ImageOps
from skimage.color import rgb2gray

from neuralab.core.errors import UserError
from neuralab.core.io import path_fault

MAX_PIXELS = 50_000_000     # a 48-megapixel phone photo fits; grey float32 of it is 200 MB
_WIDE_GREY = ("I;16", "I;16B", "I;16L", "I;16N", "I")
_ALPHA = ("RGBA", "LA", "PA", "La", "RGBa")
_REDUCIBLE = ("RGB", "L", "CMYK", "YCbCr")   # modes decoded reduced: what cameras and scanners write


_BUFFER = re.compile(r"<_io\.BytesIO object at 0x[0-9a-f]+>")


class ImageError(UserError):
    """A picture that cannot be read: missing, empty, not an image, corrupt, or too large."""


def _open(source: Path | bytes, where: str, max_pixels: int) -> Image.Image:
    """Open lazily (header only) and refuse bombs before decoding."""
    if isinstance(source, Path):
        if (fault := path_fault(source)) is not None:
            raise ImageError(f"{where}: {fault}")
        if source.stat().st_size == 0:
            raise ImageError(f"{where}: empty file (0 bytes)")
    elif not source:
        raise ImageError(f"{where}: empty image (0 bytes)")
    try:
        with warnings.catch_warnings():   # over the limit is refused below, so no warning either
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(source if isinstance(source, Path) else io.BytesIO(source))
    except Image.DecompressionBombError as e:
        raise ImageError(f"{where}: refused, decompression bomb ({e})".splitlines()[0]) from None
    except PermissionError:
        raise ImageError(f"{where}: permission denied") from None
    except Exception as e:  # Pillow signals unreadable input with many exception types
        said = _BUFFER.sub("the data", str(e))   # Pillow names an upload by its Python object
        raise ImageError(f"{where}: not a readable image ({type(e).__name__}: {said})".splitlines()[0]) from None
    w, h = im.size
    if w * h > max_pixels:
        im.close()
        raise ImageError(f"{where}: refused, decompression bomb: header says {w}x{h} = {w * h} pixels, "
                         f"more than the {max_pixels} allowed")
    if w * h == 0:
        im.close()
        raise ImageError(f"{where}: the picture is empty (0 pixels)")
    return im


def _to_rgb_array(im: Image.Image) -> np.ndarray:
    """Any mode -> (H, W, 3) float32 in [0, 1], by the rules in the module docstring."""
    if im.mode in _WIDE_GREY:
        a = np.asarray(im, dtype=np.float32).clip(0, 65535) / 65535.0           # (H, W)
        return np.repeat(a[:, :, None], 3, axis=2)
    if im.mode == "F":
        a = np.asarray(im, dtype=np.float32).clip(0.0, 1.0)
        return np.repeat(a[:, :, None], 3, axis=2)
    if im.mode in _ALPHA or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        im = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    return np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0


def _decode(source: Path | str | bytes, where: str | None, max_pixels: int | None,
            max_side: int | None) -> tuple[np.ndarray, tuple[int, int]]:
    """(H, W, 3) float32 RGB in [0, 1], and the picture's upright (width, height) in pixels. With
    `max_side`, a larger picture is decoded reduced (a JPEG at 1/2, 1/4 or 1/8 straight from its
    data, then area-averaged), so a 12-megapixel photo never exists at full size as floats."""
    if isinstance(source, str):
        source = Path(source)
    where = where or str(source)
    im = _open(source, where, min(max_pixels or MAX_PIXELS, MAX_PIXELS))
    try:
        with im:
            im.seek(0)
            w, h = im.size
            reduce = max_side is not None and max(w, h) > max_side and im.mode in _REDUCIBLE
            if reduce:
                factor = max_side / max(w, h)
                im.draft(im.mode, (int(w * factor), int(h * factor)))
            size = (h, w) if im.getexif().get(ExifTags.Base.Orientation, 1) in (5, 6, 7, 8) else (w, h)
            upright = ImageOps.exif_transpose(im)
            if reduce:
                upright = upright.resize((max(1, round(size[0] * factor)), max(1, round(size[1] * factor))),
                                         Image.Resampling.BOX)
            return _to_rgb_array(upright), size
    except Exception as e:  # truncated or corrupt data shows up only while decoding
        raise ImageError(f"{where}: cannot decode image ({type(e).__name__}: {e})".splitlines()[0]) from None


def read_rgb(source: Path | str | bytes, where: str | None = None, max_pixels: int | None = None) -> np.ndarray:
    """A picture file (or its bytes) -> (H, W, 3) float32 RGB in [0, 1]; ImageError if it can't be read.

    `where` names the picture in errors (default: the path); `max_pixels` lowers `MAX_PIXELS`.
    """
    return _decode(source, where, max_pixels, None)[0]


def read_gray(source: Path | str | bytes, where: str | None = None, max_pixels: int | None = None) -> np.ndarray:
    """A picture -> (H, W) float32 luminance in [0, 1] (ITU-R 709 weights, as scikit-image's)."""
    return rgb2gray(read_rgb(source, where, max_pixels)).astype(np.float32)


def read_gray_reduced(source: Path | str | bytes, where: str | None, max_pixels: int | None,
                      max_side: int) -> tuple[np.ndarray, tuple[int, int]]:
    """`read_gray`, at most `max_side` pixels on its longer side -> (the grey (h, w), the picture's
    own upright (width, height)): positions found on it are scaled by width / w."""
    rgb, size = _decode(source, where, max_pixels, max_side)
    return rgb2gray(rgb).astype(np.float32), size


def to_uint8(x: np.ndarray) -> np.ndarray:
    """Floats in [0, 1] (clipped) -> uint8, rounded."""
    return np.round(np.clip(x, 0.0, 1.0) * 255.0).astype(np.uint8)


def shrink(x: np.ndarray, factor: float) -> np.ndarray:
    """(h, w) floats reduced by `factor` < 1 to (round(h * factor), round(w * factor)) float32, each
    pixel the mean of those it covers (Pillow's box filter, as `read_gray_reduced` reduces a photo):
    the anti-aliasing a reduction needs, at a cost that does not grow with the factor."""
    size = (max(1, round(x.shape[1] * factor)), max(1, round(x.shape[0] * factor)))
    return np.asarray(Image.fromarray(np.asarray(x, np.float32)).resize(size, Image.Resampling.BOX))

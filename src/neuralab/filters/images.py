"""The filters' pictures in and out: the shared intake (`core.images`) resized to the model's size,
and PNG / .npy out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from neuralab.core.images import read_rgb, to_uint8
from neuralab.core.io import atomic_path

SAMPLE_PHOTO = "grace_hopper.jpg"  # a real photograph shipped inside matplotlib: works offline
KEEP_MAX_PIXELS = 4096 * 4096      # size 0 filters the picture as it is: at most what --size allows


def sample_photo() -> Path:
    from matplotlib import cbook

    return Path(cbook.get_sample_data(SAMPLE_PHOTO, asfileobj=False))


def resize(x: np.ndarray, size: int) -> np.ndarray:
    """(H, W, 3) -> (size, size, 3), antialiased bilinear in float; size 0 keeps the image."""
    if size == 0 or x.shape[:2] == (size, size):
        return x
    t = torch.from_numpy(np.ascontiguousarray(x)).permute(2, 0, 1)[None]  # (1, 3, H, W)
    t = F.interpolate(t, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return t[0].permute(1, 2, 0).clamp(0.0, 1.0).contiguous().numpy()


def load_rgb(path: Path | str, size: int = 0) -> np.ndarray:
    """One picture through the shared intake, as (H, W, 3) float32 RGB; size x size unless size is 0."""
    return resize(read_rgb(path, max_pixels=KEEP_MAX_PIXELS if size == 0 else None), size)


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

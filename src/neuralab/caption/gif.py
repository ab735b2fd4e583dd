"""Clips as animated GIFs: reading a user's clip for `predict`, and writing a clip, optionally
enlarged with its caption drawn under it (`predict --show`, the report's examples)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageSequence

from neuralab.caption.clips import MAX_FRAMES, MIN_FRAMES, SIZE
from neuralab.core.errors import UserError
from neuralab.core.io import path_fault
from neuralab.core.io import atomic_path

VISIBLE = 32  # a clip whose brightest pixel stays below this shows no digit


def read_gif(path: Path | str) -> np.ndarray:
    """A clip (T, 64, 64, 3) uint8 from an animated GIF of 10..20 frames of 64x64 pixels."""
    path = Path(path)
    if (fault := path_fault(path)) is not None:
        raise UserError(f"{path}: {fault}")
    if path.stat().st_size == 0:
        raise UserError(f"{path}: empty file, expected an animated GIF")
    try:
        with Image.open(path) as image:
            if image.format != "GIF":
                raise UserError(f"{path}: a {image.format} image, expected an animated GIF")
            if image.size != (SIZE, SIZE):   # from the header, before any frame is decoded
                raise UserError(f"{path}: frames are {image.size[0]}x{image.size[1]} pixels, expected {SIZE}x{SIZE}")
            frames = []
            for frame in ImageSequence.Iterator(image):   # decoded one by one, and no more than a clip holds
                if len(frames) == MAX_FRAMES:
                    raise UserError(f"{path}: more than {MAX_FRAMES} frames, expected {MIN_FRAMES} to {MAX_FRAMES}")
                frames.append(np.asarray(frame.convert("RGB")))
    except UserError:
        raise
    except Exception as e:   # truncated or corrupt data shows up only while decoding
        raise UserError(f"{path}: not a readable GIF ({type(e).__name__})") from None
    if len(frames) < MIN_FRAMES:
        raise UserError(f"{path}: {len(frames)} frames, expected {MIN_FRAMES} to {MAX_FRAMES}")
    clip = np.stack(frames)
    if clip.max() < VISIBLE:
        raise UserError(f"{path}: empty clip, every frame is black (no digit visible)")
    return clip


def _caption_strip(text: str, width: int) -> Image.Image:
    font = ImageFont.load_default(size=max(12, width // 22))
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    chars = max(8, int(len(text) * width * 0.92 / max(probe.textlength(text, font=font), 1)))
    lines = textwrap.wrap(text, chars) or [""]
    line_h = int(font.size * 1.3)
    strip = Image.new("RGB", (width, line_h * len(lines) + 8), "white")
    draw = ImageDraw.Draw(strip)
    for i, line in enumerate(lines):
        draw.text((width / 2, 4 + i * line_h), line, fill="black", font=font, anchor="ma")
    return strip


def write_gif(path: Path | str, clip: np.ndarray, caption: str | None = None, scale: int = 1,
              frame_ms: int = 120) -> Path:
    """Write clip (T, 64, 64, 3) uint8 as a looping GIF, enlarged `scale` times, with the caption
    drawn in a white strip under the frames when given. Written atomically."""
    path = Path(path)
    frames = [Image.fromarray(f).resize((SIZE * scale, SIZE * scale), Image.NEAREST) for f in clip]
    if caption is not None:
        strip = _caption_strip(caption, frames[0].width)
        framed = []
        for f in frames:
            canvas = Image.new("RGB", (f.width, f.height + strip.height), "white")
            canvas.paste(f, (0, 0))
            canvas.paste(strip, (0, f.height))
            framed.append(canvas)
        frames = framed
    with atomic_path(path) as tmp:
        frames[0].save(tmp, format="GIF", save_all=True, append_images=frames[1:], duration=frame_ms,
                       loop=0, optimize=False, disposal=1)
    return path

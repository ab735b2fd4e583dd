"""Captioned clips of moving coloured MNIST digits, generated on the fly and fixed by seed.

A clip is T frames (10 to 20) of 64x64 RGB holding one or two 28x28 MNIST digits, each with a
colour and a motion (see `grammar`). Clip `i` of a role is drawn from its own generator seeded
by `(seed, role, i)`, so any clip can be rebuilt alone, in any order, on any machine.

Digit images never cross roles: `train` clips use MNIST-train images 0..54999, `val` clips (model
selection) MNIST-train 55000..59999, and `test` clips MNIST-test only.

Two splits decide which (digit, colour, motion) actors may appear:
- `random`: every actor in every role;
- `compositional`: the actors with (digit + colour + motion) % 6 == 0 (60 of the 360) appear only
  in test clips, and test clips hold only those. Each digit, colour and motion, and each pair of
  them, is still seen in training; only the combination is new.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from neuralab.caption.grammar import (
    COLOUR_RGB,
    COLOURS,
    DIGITS,
    MOTIONS,
    PAD,
    Actor,
    caption,
    encode,
)
from neuralab.core.errors import UserError
from neuralab.core.mnist import MNIST

SIZE, DIGIT = 64, 28
SPAN = SIZE - DIGIT          # top-left corner positions 0..36 keep the digit inside the frame
ROLES = {"train": 0, "val": 1, "test": 2}
SPLITS = ("random", "compositional")
MIN_FRAMES, MAX_FRAMES = 10, 20
VAL_START = 55_000           # MNIST-train images from here on are kept for validation clips
COLOUR_JITTER = 25         # of 255 per channel: at most 43 away, under half the closest two colours' 156
_RGB = np.array([COLOUR_RGB[c] for c in COLOURS], np.float32) / 255.0  # (6, 3)


def held_out(actor: Actor) -> bool:
    """Actors kept for the compositional test clips."""
    return (actor.digit + actor.colour + actor.motion) % 6 == 0


@dataclass(frozen=True)
class Clip:
    frames: np.ndarray        # (T, 64, 64, 3) uint8
    caption: str
    actors: tuple[Actor, ...]
    images: tuple[int, ...]   # indices of the digit images in the role's MNIST array
    corners: np.ndarray       # (actors, T, 2) top-left (row, col) of each digit in each frame


class DigitSource:
    """The MNIST images each role may use, grouped by label."""

    def __init__(self, data: MNIST):
        self.images = {"train": data.x_train[:VAL_START], "val": data.x_train[VAL_START:], "test": data.x_test}
        self.labels = {"train": data.y_train[:VAL_START], "val": data.y_train[VAL_START:], "test": data.y_test}
        self.by_label = {role: [np.flatnonzero(y == d) for d in range(10)] for role, y in self.labels.items()}
        self.sha256 = data.sha256

    def pick(self, role: str, digit: int, rng: np.random.Generator) -> int:
        pool = self.by_label[role][digit]
        if len(pool) == 0:
            raise UserError(f"MNIST {role} images hold no digit {digit}")
        return int(pool[rng.integers(len(pool))])


def _allowed(actor: Actor, split: str, role: str) -> bool:
    if split == "random":
        return True
    return held_out(actor) == (role == "test")


def _sample_actors(rng: np.random.Generator, split: str, role: str) -> tuple[Actor, ...]:
    count = 1 + int(rng.integers(2))
    while True:
        actors = tuple(Actor(int(rng.integers(len(DIGITS))), int(rng.integers(len(COLOURS))),
                             int(rng.integers(len(MOTIONS)))) for _ in range(count))
        if all(_allowed(a, split, role) for a in actors) and len({a.colour for a in actors}) == count:
            return actors


def trajectory(motion: int, T: int, rng: np.random.Generator) -> np.ndarray:
    """Top-left corners (T, 2) as (row, col) for one motion; steady motions never touch a wall,
    bouncing ones travel far enough to reflect off one at least once."""
    name = MOTIONS[motion]
    axis = 0 if name.endswith(("up", "down", "vertically")) else 1
    fixed = rng.integers(SPAN + 1)
    if name.startswith("moves"):
        top = SPAN // (T - 1)                                  # fastest speed that stays inside
        speed = int(rng.integers(max(1, top - 1), top + 1))
        sign = -1 if name.endswith(("up", "left")) else 1
        lo = speed * (T - 1) if sign < 0 else 0
        start = int(rng.integers(lo, SPAN - (0 if sign < 0 else speed * (T - 1)) + 1))
        along = start + sign * speed * np.arange(T)
    else:
        low = -(-(SPAN + 9) // (T - 1))                        # ceil: at least one reflection
        v = int(rng.integers(low, low + 3)) * (1 if rng.integers(2) else -1)
        pos, along = int(rng.integers(SPAN + 1)), []
        for _ in range(T):
            along.append(pos)
            pos += v
            if pos < 0 or pos > SPAN:
                pos, v = (-pos if pos < 0 else 2 * SPAN - pos), -v
        along = np.array(along)
    out = np.empty((T, 2), np.int64)
    out[:, axis], out[:, 1 - axis] = along, fixed
    return out


def make_clip(source: DigitSource, role: str, split: str, seed: int, index: int, frames: int = 10) -> Clip:
    """Clip number `index` of (role, split, seed): the same arguments always give the same clip."""
    if split not in SPLITS:
        raise UserError(f"--split: unknown split {split!r} (choose from {', '.join(SPLITS)})")
    if not MIN_FRAMES <= frames <= MAX_FRAMES:
        raise UserError(f"frames must be {MIN_FRAMES}..{MAX_FRAMES}, got {frames}")
    rng = np.random.default_rng([seed, ROLES[role], index, SPLITS.index(split)])
    actors = _sample_actors(rng, split, role)
    images, corners = [], []
    for actor in actors:
        images.append(source.pick(role, actor.digit, rng))
        corners.append(trajectory(actor.motion, frames, rng))
    colours = [_RGB[a.colour] for a in actors]
    return Clip(_paint(source.images[role], images, np.stack(corners), colours), caption(actors), actors,
                tuple(images), np.stack(corners))


def _paint(pool: np.ndarray, images, corners: np.ndarray, colours) -> np.ndarray:
    """Frames (T, 64, 64, 3) uint8 of digits `images` of `pool`, in `colours` (RGB in 0..1), with
    top-left corners (actors, T, 2)."""
    video = np.zeros((corners.shape[1], SIZE, SIZE, 3), np.float32)
    for image, path, rgb in zip(images, corners, colours):
        glyph = pool[image].astype(np.float32)[..., None] / 255.0 * rgb
        for t, (r, c) in enumerate(path):
            patch = video[t, r:r + DIGIT, c:c + DIGIT]
            np.maximum(patch, glyph, out=patch)                # overlapping digits: the channel-wise maximum
    return np.rint(video * 255).astype(np.uint8)


def perturbed(source: DigitSource, role: str, clip: Clip, rng: np.random.Generator, shift: int = 2,
              jitter: int = COLOUR_JITTER) -> Clip:
    """The same clip, its caption unchanged, with every digit moved by up to `shift` pixels (one offset
    per digit for the whole clip, kept inside the frame) and each colour's R, G and B moved by up to
    `jitter` of 255: a nearby clip a captioner that has learned the task should caption the same."""
    corners = clip.corners.copy()
    for path in corners:
        for axis in (0, 1):
            low, high = max(-shift, -path[:, axis].min()), min(shift, SPAN - path[:, axis].max())
            path[:, axis] += int(rng.integers(low, high + 1))
    colours = [np.clip(_RGB[a.colour] + rng.integers(-jitter, jitter + 1, 3) / 255.0, 0, 1) for a in clip.actors]
    return Clip(_paint(source.images[role], clip.images, corners, colours), clip.caption, clip.actors,
                clip.images, corners)


def frames_to_tensor(frames: np.ndarray) -> torch.Tensor:
    """uint8 (..., T, 64, 64, 3) -> float32 (..., T, 3, 64, 64) in [0, 1]."""
    x = torch.from_numpy(np.ascontiguousarray(frames)).float().div_(255.0)
    return x.movedim(-1, -3)


def tokens_tensor(captions: list[str]) -> torch.Tensor:
    """Captions -> (B, L) word indices with <eos>, right-padded with <pad>."""
    rows = [encode(c) for c in captions]
    out = torch.full((len(rows), max(map(len, rows))), PAD, dtype=torch.long)
    for i, row in enumerate(rows):
        out[i, :len(row)] = torch.tensor(row)
    return out


def make_batch(source: DigitSource, role: str, split: str, seed: int, indices, frames: int = 10):
    """Clips `indices` as (frames (B, T, 3, 64, 64) float, tokens (B, L) long, captions)."""
    clips = [make_clip(source, role, split, seed, int(i), frames) for i in indices]
    video = frames_to_tensor(np.stack([c.frames for c in clips]))
    captions = [c.caption for c in clips]
    return video, tokens_tensor(captions), captions

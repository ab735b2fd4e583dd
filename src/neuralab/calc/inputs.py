"""What `calc predict` and the web page read: pictures of numbers, turned into MNIST-framed digits.

- a folder: one number, one digit per picture, in file-name order;
- a picture: every number it holds: one number, a row like "294 + 61", or a column sum written on
  paper (one number per line, with or without a '+' and a rule under it);
- the web's canvas boxes: one digit per box.
Every picture comes in through the shared intake (`core.images`) and is segmented by `segment`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neuralab.calc.joined import Judge
from neuralab.calc.segment import WORK_SIDE, find_digit, find_numbers
from neuralab.core.errors import UserError
from neuralab.core.images import read_gray, read_gray_reduced
from neuralab.core.io import path_fault

MAX_FOLDER_FILES = 1000     # digits in one folder-number: far beyond any number a person writes


@dataclass
class Group:
    """One number as found: its digit images and, for a picture, where each digit was."""
    images: np.ndarray                                        # (D, 28, 28) uint8
    source: str                                               # the picture or folder it came from
    boxes: list[tuple[int, int, int, int]] | None = None      # per digit (x0, y0, x1, y1), or None
    line: int | None = None                                   # the line of the picture, from the top
    picture: np.ndarray | None = None                         # (h, w) grey: the picture it was found in, reduced
    size: tuple[int, int] | None = None                       # the picture's own (width, height): the boxes' frame
    ceilings: list[float] | None = None                       # per digit, the most its reading is trusted (`Digit.ceiling`)


def read_folder(folder: Path) -> Group:
    """A folder of single-digit pictures -> one number, digits in file-name order."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise UserError(f"{folder}: empty group (no digit images in the directory)")
    if len(files) > MAX_FOLDER_FILES:
        raise UserError(f"{folder}: {len(files)} files, at most {MAX_FOLDER_FILES} digits in one number")
    digits = [find_digit(read_gray(f), str(f)) for f in files]
    return Group(np.stack([d.image for d in digits]), str(folder))


def read_picture(source: Path | bytes, where: str, max_pixels: int | None = None,
                 judge: Judge | None = None) -> list[Group]:
    """A picture (a file or an upload's bytes) -> one Group per number it holds; with the reader's
    `judge` (`reading.judge`), digits that touch are split where it reads them best."""
    gray, size = read_gray_reduced(source, where, max_pixels, WORK_SIDE)
    factor = size[0] / gray.shape[1]                                  # reduced pixels -> the picture's own
    return [Group(np.stack([d.image for d in n.digits]), where, [_scaled(d.box, factor, size) for d in n.digits],
                  n.line, gray, size, [d.ceiling for d in n.digits])
            for n in find_numbers(gray, where, judge)]


def _scaled(box: tuple[int, int, int, int], factor: float, size: tuple[int, int]) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    return (int(x0 * factor), int(y0 * factor), min(int(np.ceil(x1 * factor)), size[0]),
            min(int(np.ceil(y1 * factor)), size[1]))


def read_box(source: bytes, where: str, max_pixels: int | None = None) -> tuple[np.ndarray, int]:
    """One canvas box (the bytes of its picture) -> ((28, 28) uint8, the pixels the picture held)."""
    gray = read_gray(source, where, max_pixels)
    return find_digit(gray, where).image, gray.size


def read_paths(paths: list[Path], judge: Judge | None = None) -> list[Group]:
    """`calc predict`'s NUMBER arguments, in order, each a folder or a picture (`read_picture`)."""
    groups = []
    for path in paths:
        if path.is_dir():
            groups.append(read_folder(path))
        elif (fault := path_fault(path)) is None:
            groups.extend(read_picture(path, str(path), judge=judge))
        else:
            raise UserError(f"{path}: {fault}")
    return groups

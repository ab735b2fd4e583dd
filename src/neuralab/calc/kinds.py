"""The kinds of people's pictures that `bench/calc_real.py` scores: numbers drawn from MNIST, written
on strips, photographed column sums and rows, scans, exercise-book pages (`calc.pages`,
`calc.paper`) and column sums in a looser hand (wide and uneven spacing, small digits, '+' signs of
any size: `pages.HANDS`), a fast one (digits touching: `pages.JOINED`), or other pens and slants
(each digit redrawn along its centre lines: `pages.PENS`), read as `calc predict`
reads them, and tallied beside the same digits as raw arrays. The browser kinds (`canvas`, `wide`)
are drawn on the page by `web.browser`.
"""

from __future__ import annotations

import io
import sys
import time

import numpy as np
from PIL import Image

from neuralab.calc.inputs import read_picture
from neuralab.calc.pages import HANDS, JOINED, PAPER, PENS, Hand, Page, photograph, scan, write_page
from neuralab.calc.paper import INKS, on_paper
from neuralab.calc.predict import read_groups
from neuralab.calc.reading import judge, read_digits
from neuralab.core import mnist
from neuralab.core.errors import UserError

KINDS = ("strip", "photo", "row", "scan", "squared", "lined", "turned", "tilted", "canvas", "wide", "camera", "hands",
         "joined", "pens", "desk")
PAPER_KINDS = ("squared", "lined", "turned", "tilted", "camera", "desk")
PHOTO_KINDS = ("photo", "row", "hands", "joined", "pens")       # written on plain paper and photographed
CAMERA = (4000, 3000)                           # a 12-megapixel phone photo
_HAND_OF = {"hands": HANDS, "joined": JOINED, "pens": PENS}     # the kinds written in another hand than the tidy one
TARGETS = {"ratio": 0.98, "photo": 0.97}        # the targets: of the raw-array figure; photo numbers right
DESKS = ((0.55, 0.42, 0.3), (0.45, 0.45, 0.47), (0.78, 0.74, 0.68))   # wood, grey laminate, a light desk


def draw_numbers(data: mnist.MNIST, split: str, count: int, rng: np.random.Generator):
    """`count` numbers of 1-5 digits: (digit images (D, 28, 28), digit labels) each."""
    x, y = (data.x_train, data.y_train) if split == "train" else (data.x_test, data.y_test)
    out = []
    for _ in range(count):
        picks = rng.integers(0, len(x), int(rng.integers(1, 6)))
        if y[picks[0]] == 0 and len(picks) > 1:       # no leading zero: a person would not write it
            picks[0] = rng.choice(np.flatnonzero(y != 0))
        out.append((x[picks], [int(d) for d in y[picks]]))
    return out


def pictures(kind: str, numbers, rng: np.random.Generator):
    """Yield (picture bytes, [digit labels per number]) for a paper kind."""
    k = 0
    while k < len(numbers):
        per_page = 1 if kind == "strip" else int(rng.integers(2, 5))
        chunk = numbers[k:k + per_page]
        k += per_page
        images, labels = [c[0] for c in chunk], [c[1] for c in chunk]
        if kind == "strip":
            page = write_page(images, labels, rng, height=int(rng.integers(28, 57)), plus=False, rule=False)
        elif kind in PAPER_KINDS:
            page = notebook(kind, images, labels, rng)
        else:
            page = write_page(images, labels, rng, height=int(rng.integers(56, 113)),
                              layout="row" if kind == "row" else "column", plus=bool(rng.random() < 0.7),
                              rule=kind != "row" and bool(rng.random() < 0.7), hand=_HAND_OF.get(kind, Hand()))
            page = photograph(page, rng) if kind in PHOTO_KINDS else scan(page, rng)
        buffer = io.BytesIO()
        image = page.image if page.image.dtype == np.uint8 else np.round(page.image * 255).astype(np.uint8)
        photo = kind in PHOTO_KINDS or kind in PAPER_KINDS
        Image.fromarray(image).save(buffer, format="JPEG" if photo else "PNG",
                                    **({"quality": int(rng.integers(60, 90))} if photo else {}))
        yield buffer.getvalue(), labels


def notebook(kind: str, images, labels, rng: np.random.Generator):
    """A column sum on exercise-book paper in a random ink, photographed as `kind` says."""
    height = int(rng.integers(56, 113))
    page = write_page(images, labels, rng, height=height, plus=bool(rng.random() < 0.7), rule=bool(rng.random() < 0.7))
    if kind == "camera":
        page = frame_shaped(page)
    paper = kind if kind in ("squared", "lined") else "squared" if kind in ("camera", "desk") else "plain"
    page = on_paper(page, rng, paper=paper, ink=str(rng.choice(list(INKS))), height=height)
    if kind == "desk":
        page = on_desk(page, rng)
    if kind == "turned":
        return photograph(page, rng, turn=10.0, shadow=True)
    if kind == "tilted":
        return photograph(page, rng, tilt=25.0)
    photo = photograph(page, rng, shadow=bool(rng.random() < 0.5))
    return at_camera_size(photo) if kind == "camera" else photo


def on_desk(page: Page, rng: np.random.Generator) -> Page:
    """A ruled page (RGB, `paper.on_paper`) lying on a desk that fills 10-35% of the page's width on
    either side, as a phone held over it sees it (lit, blurred and shot with the page)."""
    H, W = page.image.shape[:2]
    side = int(rng.uniform(0.1, 0.35) * W)
    rgb = np.empty((H, W + 2 * side, 3))
    rgb[:] = DESKS[int(rng.integers(len(DESKS)))]
    rgb[:, side:side + W] = page.image
    return Page(rgb, page.numbers, _moved(page.boxes, side, 0))


def frame_shaped(page: Page) -> Page:
    """A written page (grey, `pages.write_page`) with more blank paper on two sides, to the camera
    frame's shape: a phone photo of a page is filled with paper, ruled and lit as the rest of it."""
    h, w = page.image.shape
    H, W = max(h, -(-w * CAMERA[1] // CAMERA[0])), max(w, -(-h * CAMERA[0] // CAMERA[1]))
    top, left = (H - h) // 2, (W - w) // 2
    image = np.pad(page.image, ((top, H - h - top), (left, W - w - left)), constant_values=PAPER)
    return Page(image, page.numbers, _moved(page.boxes, left, top))


def _moved(boxes, left: int, top: int):
    """Each number's digit boxes (x0, y0, x1, y1), for a page grown by `left` and `top` pixels."""
    return [[(x0 + left, y0 + top, x1 + left, y1 + top) for x0, y0, x1, y1 in number] for number in boxes]


def at_camera_size(photo: Page) -> Page:
    """The photo filling a 12-megapixel frame, its shape kept (a lens does not stretch the page): scaled
    to fit, and the frame's spare width or height (a pixel or so after `frame_shaped`) is more of the
    paper at the photo's edges."""
    h, w = photo.image.shape[:2]
    scale = min(CAMERA[0] / w, CAMERA[1] / h)
    size = (min(round(w * scale), CAMERA[0]), min(round(h * scale), CAMERA[1]))
    left, top = (CAMERA[0] - size[0]) // 2, (CAMERA[1] - size[1]) // 2
    image = np.asarray(Image.fromarray(photo.image).resize(size, Image.Resampling.BICUBIC))
    image = np.pad(image, ((top, CAMERA[1] - size[1] - top), (left, CAMERA[0] - size[0] - left), (0, 0)), mode="edge")
    boxes = [[(left + int(x0 * scale), top + int(y0 * scale), left + int(x1 * scale), top + int(y1 * scale))
              for x0, y0, x1, y1 in number] for number in photo.boxes]
    return Page(image, photo.numbers, boxes)


class Tally:
    """Counts for one kind of picture."""

    def __init__(self):
        self.digits = self.digits_right = self.numbers = self.numbers_right = 0
        self.pictures = self.layout_right = self.total_checked = self.total_right = 0
        self.marks_known = False                 # whether the reader said which digits it doubts
        self.unmarked_wrong = 0                  # pictures given a sum read wrong, with no digit marked '?'
        self.seconds = 0.0
        self.times: list[float] = []             # per picture: finding and reading its digits

    def add(self, truth: list[list[int]], read: list[list[int]] | None, totals_right: bool | None,
            marked: bool | None = None) -> None:
        """`read`: the numbers as read (None: refused); `marked`: whether any digit was marked doubtful
        (None: not known)."""
        self.pictures += 1
        if marked is not None:
            self.marks_known = True
            self.unmarked_wrong += read is not None and read != truth and not marked
        self.layout_right += read is not None and len(read) == len(truth)
        for k, digits in enumerate(truth):
            got = read[k] if read is not None and len(read) == len(truth) else None
            self.numbers += 1
            self.digits += len(digits)
            if got is not None and len(got) == len(digits):
                self.digits_right += sum(a == b for a, b in zip(got, digits))
                self.numbers_right += got == digits
        if totals_right is not None:
            self.total_checked += 1
            self.total_right += totals_right

    def figures(self) -> dict:
        return {"pictures": self.pictures, "numbers": self.numbers, "digits": self.digits,
                "digit_accuracy": self.digits_right / self.digits, "number_accuracy": self.numbers_right / self.numbers,
                "layout_accuracy": self.layout_right / self.pictures,
                "running_total_right_when_all_digits_right": (self.total_right / self.total_checked
                                                              if self.total_checked else None),
                **({"wrong_unmarked": self.unmarked_wrong / self.pictures} if self.marks_known else {}),
                "seconds": round(self.seconds, 1),
                "read_seconds_p95": round(float(np.percentile(self.times, 95)), 3) if self.times else None}


def score_paper(model, kind: str, numbers, rng, cut: bool = True) -> Tally:
    """Read each picture of `kind` as `calc predict` does; `cut`: digits that touch are cut apart."""
    tally, reader = Tally(), judge(model) if cut else None
    for data, labels in pictures(kind, numbers, rng):
        t0 = time.perf_counter()
        try:
            groups = read_picture(data, kind, judge=reader)
            answer = read_groups(model, groups, "cpu")
            answer.check_trusted(kind)                         # as `calc predict` and the page do
        except UserError as e:  # a picture refused (nothing found, or nothing trusted) counts as all wrong
            print(f"  {kind}: {type(e).__name__}: {e}", file=sys.stderr)
            tally.add(labels, None, None, marked=False)
            tally.times.append(time.perf_counter() - t0)
            continue
        tally.times.append(time.perf_counter() - t0)
        tally.seconds += tally.times[-1]
        got = [[int(c) for c in r] for r in answer.readings]
        truth_running = np.cumsum([int("".join(map(str, ds))) for ds in labels]).tolist()
        tally.add(labels, got, answer.running == truth_running if got == labels else None, answer.doubts() > 0)
    return tally


def score_arrays(model, numbers) -> Tally:
    """The same digits as raw MNIST arrays: the reference each kind is compared with."""
    tally = Tally()
    digits, _ = read_digits(model, np.concatenate([n[0] for n in numbers]))
    start = 0
    for images, labels in numbers:
        tally.add([labels], [digits[start:start + len(images)]], None)
        start += len(images)
    return tally

"""Digits drawn with the mouse on the real web page, in Chromium: the browser kinds of `bench/calc_real.py`.

The page is served on loopback by the same app `neuralab serve` runs and driven in Debian's
Chromium. Each digit's skeleton becomes pen strokes; the reading is the number the page adds to
its tape (boxes) or the page's own `/api/picture` answer (wide box).
"""

from __future__ import annotations

import time

import numpy as np

from neuralab.report.pdf import CHROMIUM_ARGS, find_chromium
from neuralab.web.app import Limits, create_app
from neuralab.web.reader import DigitReader
from neuralab.web.serve import in_background


def _stroke(page, box: dict, points, x0: float, y0: float, size: float) -> None:
    """One pen stroke: points (x, y) in [0, 1] of a size x size frame at (x0, y0) of the canvas box."""
    sx, sy = box["width"] / box["canvas_w"], box["height"] / box["canvas_h"]
    at = lambda p: (box["x"] + (x0 + p[0] * size) * sx, box["y"] + (y0 + p[1] * size) * sy)  # noqa: E731
    page.mouse.move(*at(points[0]))
    page.mouse.down()
    for p in points[1:]:
        page.mouse.move(*at(p))
    page.mouse.up()


def _box(page, selector: str, index: int = 0) -> dict:
    element = page.locator(selector).nth(index)
    box = element.bounding_box()
    box["canvas_w"], box["canvas_h"] = element.evaluate("c => [c.width, c.height]")
    return box


def score_browser(model, kind: str, numbers, pen_strokes, tally):
    """Draw every number of `numbers` on the page and add the readings to `tally` (a `calc.kinds.Tally`)."""
    from playwright.sync_api import sync_playwright

    with in_background(create_app(DigitReader(model), Limits())) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1000, "height": 1400})
        page.goto(f"{base}/")
        for images, labels in numbers:
            t0 = time.perf_counter()
            got = _boxes(page, images, pen_strokes) if kind == "canvas" else _wide(page, images, pen_strokes)
            tally.add([labels], got, None)
            tally.seconds += time.perf_counter() - t0
        browser.close()
    return tally


def _boxes(page, images: np.ndarray, pen_strokes) -> list[list[int]] | None:
    """One digit per box, as a person fills the boxes; the number the tape shows is the reading."""
    for i, image in enumerate(images):
        box = _box(page, "canvas.box", i)
        for stroke in pen_strokes(image):
            _stroke(page, box, stroke, 0, 0, box["canvas_w"])
    page.wait_for_function(f"[...document.querySelectorAll('.reading')].slice(0, {len(images)})"
                           ".every(r => r.textContent !== '')")
    entries = page.locator("#tape li").count()
    page.click("#add")                           # its answer alone fills the tape (live reads do not)
    page.wait_for_function(f"document.querySelectorAll('#tape li').length > {entries} || "
                           "document.getElementById('status').textContent !== ''")
    if page.locator("#tape li").count() == entries:
        return None
    shown = page.locator("#tape li").nth(entries).locator(".digit").all_inner_texts()
    return [[int(text.split()[0]) for text in shown]]


def _wide(page, images: np.ndarray, pen_strokes) -> list[list[int]] | None:
    """The digits of one number side by side in the wide box, each a fifth of its height after the last."""
    box = _box(page, "#wide")
    size = 0.8 * box["canvas_h"]                       # each digit's 28x28 frame; the digit fills 20/28 of it
    x = 10.0
    for image in images:
        strokes = pen_strokes(image)
        left = min(p[0] for st in strokes for p in st) * size
        right = max(p[0] for st in strokes for p in st) * size
        for stroke in strokes:
            _stroke(page, box, stroke, x - left, 0.1 * box["canvas_h"], size)
        x += right - left + 0.2 * (20 / 28) * size      # the next digit a fifth of a digit's height on
    with page.expect_response(lambda r: r.url.endswith("/api/picture")) as response:
        page.click("#read-wide")
    if not response.value.ok:
        page.click("#clear-wide")
        return None
    return [[d["digit"] for d in n["digits"]] for n in response.value.json()["numbers"]]

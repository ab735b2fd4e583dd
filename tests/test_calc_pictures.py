"""`calc predict` and the web API on pictures of real handwriting (MNIST-test digits written on
generated pages, photographed and scanned), read by a trained fixture model: the readings must be
the true digits, not only add up.

The reader is conftest.py's `fixture_checkpoint` (trained for seconds on labelled MNIST-train
digits), and the digits on the pages are `digits_read_right`: MNIST-test digits it reads right as
plain arrays, so any error is the intake's or the segmentation's.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from neuralab.calc.evaluate import load_model
from neuralab.calc.inputs import read_paths, read_picture
from neuralab.calc.reading import read_digits
from neuralab.calc.pages import Hand, photograph, scan, write_page
from neuralab.core.errors import UserError
from neuralab.core.images import read_gray
from neuralab.web.app import Limits, create_app
from neuralab.web.reader import DigitReader

from .helpers import run_cli

pytestmark = pytest.mark.mnist


def write(numbers, bank, seed, **kw):
    rng = np.random.default_rng(seed)
    labels = [[int(c) for c in str(n)] for n in numbers]
    images = [np.stack([bank[d][rng.integers(len(bank[d]))] for d in ds]) for ds in labels]
    return write_page(images, labels, rng, **kw)


def save(page, path: Path) -> Path:
    image = page.image if page.image.dtype == np.uint8 else (page.image * 255).astype(np.uint8)
    Image.fromarray(image).save(path, **({"quality": 85} if path.suffix == ".jpg" else {}))
    return path


@pytest.mark.parametrize("kind", ["photo", "scan"])
def test_predict_reads_a_column_sum_from_a_photo_or_scan(fixture_checkpoint, digits_read_right, tmp_path, kind):
    numbers = [294, 61, 7035]
    page = write(numbers, digits_read_right, seed=3)
    page = photograph(page, np.random.default_rng(4)) if kind == "photo" else scan(page, np.random.default_rng(4))
    path = save(page, tmp_path / ("sum.jpg" if kind == "photo" else "sum.png"))
    result = run_cli(["calc", "predict", str(path), "--checkpoint", str(fixture_checkpoint), "--json",
                      "--show", str(tmp_path / "shown.png")])
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["numbers"] == numbers
    assert out["running"] == [294, 355, 7390] and out["sum"] == 7390
    assert [r["line"] for r in out["read"]] == [0, 1, 2]
    for read, boxes in zip(out["read"], page.boxes):
        assert [d["digit"] for d in read["digits"]] == [int(c) for c in read["reading"]]
        for digit, (x0, y0, x1, y1) in zip(read["digits"], boxes):
            cx, cy = (digit["box"][0] + digit["box"][2]) / 2, (digit["box"][1] + digit["box"][3]) / 2
            assert x0 - 5 <= cx <= x1 + 5 and y0 - 5 <= cy <= y1 + 5
            assert 0.5 < digit["probability"] <= 1
    assert Image.open(tmp_path / "shown.png").size[0] > 300


def test_predict_reads_a_row_and_a_folder(fixture_checkpoint, digits_read_right, tmp_path):
    save(write([38, 507], digits_read_right, seed=5, layout="row"), tmp_path / "row.png")
    folder = tmp_path / "number"
    folder.mkdir()
    for i, d in enumerate((4, 2)):
        Image.fromarray(255 - np.pad(digits_read_right[d][i], 10)).save(folder / f"{i}.png")
    result = run_cli(["calc", "predict", str(tmp_path / "row.png"), str(folder), "--checkpoint",
                      str(fixture_checkpoint)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "38 + 507 + 42 = 587  (running 38, 545, 587)"


def test_doubtful_digits_are_marked_and_a_picture_of_doubts_gets_no_sum(fixture_checkpoint, digits_read_right, tmp_path):
    page = photograph(write([294, 61], digits_read_right, seed=3), np.random.default_rng(4))
    base = ["calc", "predict", str(save(page, tmp_path / "sum.jpg")), "--checkpoint", str(fixture_checkpoint)]
    sure = json.loads(run_cli(base + ["--json", "--doubt", "0"]).stdout)
    probabilities = [d["probability"] for r in sure["read"] for d in r["digits"]]
    assert sure["doubtful"] == 0 and sure["numbers"] == [294, 61]
    low, second = sorted(set(probabilities))[:2]
    doubt = (low + second) / 2                                   # the least sure digit is doubtful
    flags = [p < doubt for p in probabilities]
    marked = json.loads(run_cli(base + ["--json", "--doubt", str(doubt)]).stdout)
    assert marked["doubtful"] == sum(flags) >= 1 and marked["sum"] == 355
    assert [d["doubtful"] for r in marked["read"] for d in r["digits"]] == flags
    line = run_cli(base + ["--doubt", str(doubt)]).stdout.strip()
    assert line.split(" = ")[0].count("?") == sum(flags) and line.endswith("marked ?: check them]") and "= 355" in line
    refused = run_cli(base + ["--doubt", "1"])                   # every mark doubtful: no sum, one line
    assert refused.exit_code == 2 and "not digits the reader trusts" in refused.stderr and refused.stdout == ""


@pytest.mark.parametrize("kind", ["noise", "face", "text", "grid"])
def test_pictures_of_no_numbers_are_refused(fixture_checkpoint, tmp_path, kind):
    from neuralab.calc.paper import on_paper
    from neuralab.calc.pages import PAPER, Page

    rng = np.random.default_rng(0)
    if kind == "noise":
        Image.fromarray((rng.random((600, 800)) * 255).astype(np.uint8)).save(tmp_path / "p.png")
    elif kind == "face":
        import matplotlib.cbook as cbook

        Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).save(tmp_path / "p.png")
    elif kind == "text":
        from PIL import ImageDraw, ImageFont

        text = Image.new("L", (900, 200), 245)
        for i in range(2):
            ImageDraw.Draw(text).text((30, 30 + 70 * i), "Notes for Monday: bring the book.", fill=20,
                                      font=ImageFont.load_default(size=40))
        text.save(tmp_path / "p.png")
    else:
        blank = Page(np.full((400, 500), PAPER), [], [[(200, 150, 240, 200)]])
        save(photograph(on_paper(blank, rng, paper="squared"), rng), tmp_path / "p.png")
    result = run_cli(["calc", "predict", str(tmp_path / "p.png"), "--checkpoint", str(fixture_checkpoint)])
    assert result.exit_code == 2 and result.stdout == "", result.stdout
    assert len(result.stderr.strip().splitlines()) == 1
    assert any(words in result.stderr for words in ("no digit found", "no sum"))


def test_bad_pictures_are_one_line_and_exit_2(fixture_checkpoint, tmp_path):
    from .test_filters_io import png_header_only

    (tmp_path / "notes.png").write_text("not a picture")
    Image.new("L", (200, 100), 235).save(tmp_path / "blank.png")
    png_header_only(tmp_path / "bomb.png", 20_000, 20_000)
    for name, words in (("notes.png", "not a readable image"), ("blank.png", "no digit found"),
                        ("missing.png", "no such file"), ("bomb.png", "decompression bomb")):
        result = run_cli(["calc", "predict", str(tmp_path / name), "--checkpoint", str(fixture_checkpoint)])
        assert result.exit_code == 2 and words in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_web_reads_a_photo_upload(fixture_checkpoint, digits_read_right):
    model, _, _ = load_model(fixture_checkpoint, device="cpu")
    client = TestClient(create_app(DigitReader(model)), raise_server_exceptions=False)
    page = photograph(write([52, 9], digits_read_right, seed=6), np.random.default_rng(7))
    buffer = io.BytesIO()
    Image.fromarray(page.image).save(buffer, format="JPEG", quality=85)
    url = "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()
    response = client.post("/api/picture", json={"picture": url})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [n["number"] for n in body["numbers"]] == [52, 9] and body["running"] == [52, 61]
    assert all(len(d["box"]) == 4 for n in body["numbers"] for d in n["digits"])
    blank = io.BytesIO()
    Image.new("L", (64, 64), 255).save(blank, format="PNG")
    refused = client.post("/api/picture", json={"picture": "data:image/png;base64,"
                                                + base64.b64encode(blank.getvalue()).decode()})
    assert refused.status_code == 400 and "no digit found" in refused.json()["detail"]


def test_digits_that_touch_are_cut_apart_where_the_reader_reads_them(fixture_checkpoint, digits_read_right, tmp_path):
    """A fast hand runs each digit into the next, so each two-digit number below is one shape of ink:
    read whole, not one number is right. `calc predict` and the photo upload cut the shapes where the
    reader reads them best. The fixture reader, trained for seconds, reads 6 of these 24 right (10
    before cuts paid for the strokes they cross: its '3's and '8's touching a neighbour are cut
    through two strokes)."""
    rng = np.random.default_rng(0)
    numbers = [int(rng.integers(10, 100)) for _ in range(24)]
    model, _, _ = load_model(fixture_checkpoint, device="cpu")
    client = TestClient(create_app(DigitReader(model), Limits(doubt=0.0)), raise_server_exceptions=False)
    whole, cut, uploaded = [], [], []
    for k in range(3):
        page = photograph(write(numbers[8 * k:8 * k + 8], digits_read_right, seed=k, hand=Hand(touch=1.0)),
                          np.random.default_rng(k))
        path = save(page, tmp_path / f"joined{k}.jpg")
        whole += [int("".join(map(str, read_digits(model, g.images)[0]))) for g in read_picture(path, "p")]
        result = run_cli(["calc", "predict", str(path), "--checkpoint", str(fixture_checkpoint), "--json",
                          "--doubt", "0"])
        assert result.exit_code == 0, result.stderr
        cut += json.loads(result.stdout)["numbers"]
        url = "data:image/jpeg;base64," + base64.b64encode(path.read_bytes()).decode()
        response = client.post("/api/picture", json={"picture": url})
        assert response.status_code == 200, response.text
        uploaded += [n["number"] for n in response.json()["numbers"]]
    assert len(whole) == len(cut) == len(numbers) and uploaded == cut
    assert sum(a == b for a, b in zip(whole, numbers)) == 0
    assert sum(a == b for a, b in zip(cut, numbers)) >= 5


def test_predict_compose_reads_the_composed_digits(fixture_checkpoint, real_mnist_session):
    """The reading itself is checked, not only that the sum adds up the readings."""
    rng = np.random.default_rng(3)
    numbers = [int(rng.integers(1, 10 ** int(rng.integers(1, 5)))) for _ in range(20)]
    result = run_cli(["calc", "predict", "--checkpoint", str(fixture_checkpoint), "--json",
                      "--compose", "+".join(map(str, numbers))])
    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    truth, read = "".join(map(str, numbers)), "".join(r["reading"] for r in answer["read"])
    assert len(read) == len(truth) and sum(a == b for a, b in zip(read, truth)) >= 0.9 * len(truth)
    assert sum(n == m for n, m in zip(answer["numbers"], numbers)) >= 12
    assert answer["sum"] == sum(answer["numbers"]) and answer["running"][-1] == answer["sum"]


def test_a_picture_path_that_is_not_a_file_says_what_it_is(tmp_path):
    import os

    os.mkfifo(tmp_path / "fifo.png")
    (tmp_path / "loop.png").symlink_to(tmp_path / "loop.png")
    for path, what in ((tmp_path / "fifo.png", "not a regular file (a FIFO)"), (tmp_path / "loop.png", "a symlink loop"),
                       (Path("/dev/zero"), "not a regular file (a character device)")):
        for read in (read_gray, lambda path: read_paths([path])):   # the intake, and `calc predict`'s arguments
            with pytest.raises(UserError) as e:
                read(path)
            assert str(e.value) == f"{path}: {what}", e.value

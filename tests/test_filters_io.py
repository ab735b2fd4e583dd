"""Filters I/O: every Pillow mode to RGB floats, resizing, bad files and decompression bombs, the CLI."""

from __future__ import annotations

import json
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image

from neuralab.core.errors import UserError
from neuralab.filters.images import load_rgb
from tests.helpers import run_cli

RGB8 = np.random.default_rng(0).integers(0, 256, (16, 20, 3), dtype=np.uint8)


def save(tmp_path, name: str, im: Image.Image, **kw):
    path = tmp_path / name
    im.save(path, **kw)
    return path


def png_header_only(path, width: int, height: int):
    """A PNG whose IHDR claims width x height, with one tiny IDAT: decoding it would need ~GBs."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0"))
                     + chunk(b"IEND", b""))
    return path


# --- modes -------------------------------------------------------------------------------------

def test_rgb_and_grey_exact(tmp_path):
    x = load_rgb(save(tmp_path, "rgb.png", Image.fromarray(RGB8)))
    assert x.dtype == np.float32 and x.shape == (16, 20, 3)
    np.testing.assert_array_equal(x, RGB8 / np.float32(255))
    grey = Image.fromarray(RGB8).convert("L")
    g = load_rgb(save(tmp_path, "l.png", grey))
    for c in range(3):
        np.testing.assert_array_equal(g[:, :, c], np.asarray(grey) / np.float32(255))


def test_sixteen_bit_is_scaled_not_saturated(tmp_path):
    a = np.array([[0, 257, 32768, 65535]], dtype=np.uint16)
    path = save(tmp_path, "g16.png", Image.fromarray(a))
    assert Image.open(path).mode.startswith("I")
    x = load_rgb(path)
    np.testing.assert_allclose(x[0, :, 1], a[0] / 65535, atol=1e-7)
    assert 0.49 < x[0, 2, 0] < 0.51  # Pillow's convert("RGB") would give 1.0 here
    big = save(tmp_path, "g16.tif", Image.new("I;16B", (4, 3), 65535))
    assert load_rgb(big).min() == 1.0


def test_alpha_is_composited_on_white(tmp_path):
    rgba = np.dstack([RGB8, np.full(RGB8.shape[:2], 255, np.uint8)])
    rgba[0, 0, 3] = 0
    x = load_rgb(save(tmp_path, "rgba.png", Image.fromarray(rgba)))
    np.testing.assert_array_equal(x[1:], RGB8[1:] / np.float32(255))  # opaque: the colour itself
    np.testing.assert_array_equal(x[0, 0], [1, 1, 1])                  # transparent: white
    la = load_rgb(save(tmp_path, "la.png", Image.fromarray(rgba).convert("LA")))
    assert la.shape == (16, 20, 3) and (la[0, 0] == 1).all()


GREY = np.asarray(Image.fromarray(RGB8).convert("L"))  # (16, 20) uint8
MODES = {  # name -> image in that mode; I holds 16-bit range numbers, F holds [0, 1] floats
    "P": lambda: Image.fromarray(RGB8).convert("P"), "1": lambda: Image.fromarray(RGB8).convert("1"),
    "CMYK": lambda: Image.fromarray(RGB8).convert("CMYK"), "YCbCr": lambda: Image.fromarray(RGB8).convert("YCbCr"),
    "RGBX": lambda: Image.fromarray(RGB8).convert("RGBX"),
    "I": lambda: Image.fromarray(GREY.astype(np.int32) * 257), "F": lambda: Image.fromarray(GREY / np.float32(255)),
}


@pytest.mark.parametrize("mode,name", [("P", "p.png"), ("1", "bw.png"), ("CMYK", "c.tif"), ("CMYK", "c.jpg"),
                                       ("YCbCr", "y.jpg"), ("I", "i.tif"), ("F", "f.tif"), ("RGBX", "x.tif")])
def test_other_modes_become_rgb(tmp_path, mode, name):
    im = MODES[mode]()
    assert im.mode == mode
    path = save(tmp_path, name, im)
    x = load_rgb(path)
    assert x.shape == (16, 20, 3) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0 and x.std() > 0.05
    if mode in ("I", "F"):
        np.testing.assert_allclose(x[:, :, 2], GREY / 255, atol=1e-6)
    elif not name.endswith("jpg"):  # lossless: exactly Pillow's own RGB conversion
        np.testing.assert_array_equal(x, np.asarray(Image.open(path).convert("RGB")) / np.float32(255))


def test_resize(tmp_path):
    path = save(tmp_path, "rgb.png", Image.fromarray(RGB8))
    assert load_rgb(path, 0).shape == (16, 20, 3)
    assert load_rgb(path, 64).shape == (64, 64, 3)
    flat = save(tmp_path, "flat.png", Image.new("RGB", (40, 30), (200, 100, 50)))
    np.testing.assert_allclose(load_rgb(flat, 7)[3, 3], np.array([200, 100, 50]) / 255, atol=1e-6)


# --- bad input ---------------------------------------------------------------------------------

def test_bad_files_are_one_line_user_errors(tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not an image\n")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    good = save(tmp_path, "good.png", Image.fromarray(RGB8))
    truncated = tmp_path / "cut.png"
    truncated.write_bytes(good.read_bytes()[:80])
    for path, words in ((text, "not a readable image"), (empty, "empty"), (tmp_path / "missing.png", "no such"),
                        (tmp_path, "a folder, not a file"), (truncated, "decode")):
        with pytest.raises(UserError, match=words) as e:
            load_rgb(path)
        assert str(path) in str(e.value) and "\n" not in str(e.value)


def test_decompression_bomb_refused_from_header(tmp_path, monkeypatch):
    bomb = png_header_only(tmp_path / "bomb.png", 100_000, 100_000)
    t = time.perf_counter()
    with pytest.raises(UserError, match="decompression bomb"):
        load_rgb(bomb)
    assert time.perf_counter() - t < 2.0  # 3e10 bytes were never decoded
    # our own limit, far below what Pillow refuses, is checked from the header too
    monkeypatch.setattr("neuralab.core.images.MAX_PIXELS", 300)
    with pytest.raises(UserError, match="20x16 = 320 pixels"):
        load_rgb(save(tmp_path, "rgb.png", Image.fromarray(RGB8)))


# --- CLI ---------------------------------------------------------------------------------------

def test_cli_explain():
    r = run_cli(["filters", "explain"])
    assert r.exit_code == 0
    assert "2 convolutional layers" in r.stdout and "valid padding: 124x124x3" in r.stdout
    assert "same padding: 128x128x3" in r.stdout and "0.393 R + 0.769 G + 0.189 B" in r.stdout
    d = json.loads(run_cli(["filters", "explain", "--json"]).stdout)
    assert d["layers"] == 2 and d["filters"] == [3, 3] and d["filter_shapes"] == [[1, 1, 3], [5, 5, 3]]
    assert d["output_shape"] == {"valid": [124, 124, 3], "same": [128, 128, 3]}
    blur = np.array(d["parameters"]["blur.weight"])  # (3, 3, 5, 5)
    assert blur.shape == (3, 3, 5, 5) and np.allclose(blur.sum(axis=(2, 3)), np.eye(3), atol=1e-6)
    assert np.allclose(np.array(d["parameters"]["sepia.weight"])[:, :, 0, 0].sum(axis=1), [1.351, 1.203, 0.937])


def test_cli_default_photo_writes_image_and_figure(tmp_path):
    r = run_cli(["filters", "apply", "--out", str(tmp_path / "o")])
    assert r.exit_code == 0, r.stderr
    assert Image.open(tmp_path / "o" / "grace_hopper.png").size == (124, 124)
    assert Image.open(tmp_path / "o" / "grace_hopper-figure.png").size[0] > 500


def test_cli_batch_reports_each_bad_file_and_exits_2(tmp_path):
    a = save(tmp_path, "a.png", Image.fromarray(RGB8))
    (tmp_path / "sub").mkdir()
    b = save(tmp_path / "sub", "a.jpg", Image.fromarray(RGB8).convert("CMYK"))
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"")
    out = tmp_path / "out"
    r = run_cli(["filters", "apply", str(a), str(bad), str(tmp_path / "nope.tif"), str(b), "--out", str(out),
                 "--size", "32", "--padding", "same"])
    assert r.exit_code == 2
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 2 and "bad.png" in errors[0] and "nope.tif" in errors[1]
    assert sorted(p.name for p in out.iterdir()) == ["a-2.png", "a.png"]  # no temp files left behind
    assert Image.open(out / "a.png").size == (32, 32)


def test_cli_npy_output_and_size_zero(tmp_path):
    src = save(tmp_path, "a.png", Image.new("RGB", (20, 16), "white"))
    r = run_cli(["filters", "apply", str(src), "--out", str(tmp_path / "y.npy"), "--size", "0",
                 "--sepia-range", "none", "--fused"])
    assert r.exit_code == 0, r.stderr
    y = np.load(tmp_path / "y.npy")
    assert y.dtype == np.float32 and y.shape == (12, 16, 3) and abs(y.max() - 1.351) < 1e-5  # none: no clamp


@pytest.mark.parametrize("args,words", [
    (["--padding", "full"], "--padding"), (["--sepia-range", "wrap"], "--sepia-range"),
    (["--fused"], "--fused"), (["--size", "3"], "--size"), (["--out", "x.jpg"], "--out"),
    (["--format", "tiff"], "--format"), (["IN1", "IN2", "--out", "one.png"], "2 inputs")])
def test_cli_bad_flags(tmp_path, args, words):
    r = run_cli(["filters", "apply", *[str(tmp_path / a) if a.startswith(("IN", "x.", "one")) else a for a in args]])
    assert r.exit_code == 2 and words in r.stderr and len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("size", ["100000", "-1", "3"])
def test_size_out_of_range_is_one_line(tmp_path, size):
    r = run_cli(["filters", "apply", "--size", size, "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and r.stderr.startswith("error: --size") and not (tmp_path / "o").exists()


def test_keeping_the_size_of_a_huge_picture_is_refused_before_decoding(tmp_path):
    big = tmp_path / "big.png"
    Image.new("1", (5000, 5000)).save(big)              # a few kB that decode to 25 Mpx
    r = run_cli(["filters", "apply", str(big), "--size", "0", "--out", str(tmp_path / "o.png")])
    assert r.exit_code == 2 and "decompression bomb" in r.stderr and not (tmp_path / "o.png").exists()

"""The shared image intake (`core.images`) as calc and the web page use it: grey pictures from every
kind of file or upload, and one error type for what cannot be read. (`test_filters_io` covers the
RGB modes through `filters`.)"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from neuralab.core.images import ImageError, read_gray, read_rgb, shrink

from .test_filters_io import png_header_only

INK = np.full((30, 40), 230, np.uint8)
INK[5:25, 18:22] = 20                     # a dark upright stroke on light paper


def png_bytes(im: Image.Image, **kw) -> bytes:
    buffer = io.BytesIO()
    im.save(buffer, format=kw.pop("format", "PNG"), **kw)
    return buffer.getvalue()


def test_sixteen_bit_grey_reads_as_its_eight_bit_copy(tmp_path):
    Image.fromarray(INK.astype(np.uint16) * 257).save(tmp_path / "ink16.png")
    Image.fromarray(INK).save(tmp_path / "ink8.png")
    assert Image.open(tmp_path / "ink16.png").mode.startswith("I")
    np.testing.assert_allclose(read_gray(tmp_path / "ink16.png"), read_gray(tmp_path / "ink8.png"), atol=1e-6)


def test_exif_orientation_is_applied(tmp_path):
    im = Image.fromarray(INK)
    exif = Image.Exif()
    exif[0x0112] = 6                       # "rotate 90 clockwise to view"
    im.save(tmp_path / "phone.jpg", exif=exif, quality=95)
    gray = read_gray(tmp_path / "phone.jpg")
    assert gray.shape == (40, 30)          # turned upright: the stroke now lies across
    assert gray[18:22].mean() < gray[:5].mean() - 0.3


def test_rgba_palette_and_bytes_give_the_same_grey():
    expected = INK / np.float32(255)
    rgba = Image.fromarray(INK).convert("RGBA")
    transparent = np.asarray(rgba).copy()
    transparent[:, :, 3] = np.where(INK < 128, 255, 0)    # only the ink is opaque: paper is see-through
    sources = {"rgba": png_bytes(Image.fromarray(transparent)), "palette": png_bytes(Image.fromarray(INK).convert("P")),
               "grey": png_bytes(Image.fromarray(INK))}
    for name, data in sources.items():
        gray = read_gray(data, name)
        assert gray.shape == (30, 40)
        ink_error = np.abs(gray[5:25, 18:22] - expected[5:25, 18:22]).max()
        assert ink_error < 0.01, name
    assert read_gray(sources["rgba"], "rgba")[0, 0] > 0.9999    # transparent paper is white


def test_an_animation_gives_its_first_frame():
    frames = [Image.fromarray(INK), Image.fromarray(255 - INK)]
    data = png_bytes(frames[0], format="GIF", save_all=True, append_images=frames[1:])
    np.testing.assert_allclose(read_gray(data, "clip.gif"), INK / 255, atol=0.02)


@pytest.mark.parametrize("name,data,words", [
    ("empty", b"", "empty"),
    ("text", b"not a picture at all", "not a readable image"),
    ("truncated gif", png_bytes(Image.fromarray(INK), format="GIF")[:40], "decode|readable"),
    ("truncated png", png_bytes(Image.fromarray(INK))[:60], "decode|readable"),
])
def test_unreadable_uploads_are_one_image_error(name, data, words):
    with pytest.raises(ImageError, match=words) as e:
        read_gray(data, f"upload {name}")
    assert str(e.value).startswith(f"upload {name}:") and "\n" not in str(e.value)


def test_bombs_are_refused_from_the_header_and_callers_can_lower_the_limit(tmp_path):
    bomb = png_header_only(tmp_path / "bomb.png", 20_000, 20_000)
    with pytest.raises(ImageError, match="decompression bomb"):
        read_gray(bomb)
    small = png_bytes(Image.fromarray(INK))
    assert read_rgb(small, "ok", max_pixels=1200).shape == (30, 40, 3)
    with pytest.raises(ImageError, match="30 = 1200 pixels, more than the 1000"):
        read_rgb(small, "web upload", max_pixels=1000)


def test_a_reduction_averages_the_pixels_each_one_covers():
    from skimage.transform import downscale_local_mean

    x = np.random.default_rng(0).random((60, 84))
    np.testing.assert_allclose(shrink(x, 1 / 4), downscale_local_mean(x, (4, 4)), atol=1e-6)
    assert shrink(x, 0.3).shape == (18, 25)

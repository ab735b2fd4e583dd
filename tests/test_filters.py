"""SepiaBlurNet against numpy + scipy.ndimage (1e-6), Pillow (1/255) and its own fused form (1e-5)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image, ImageFilter
from scipy import ndimage

from neuralab.core.errors import UserError
from neuralab.filters import FilterConfig, SepiaBlurNet
from neuralab.filters.apply import run_model
from neuralab.filters.images import load_rgb, sample_photo

# The assignment's numbers, typed here independently of the package.
SEPIA = np.array([[.393, .769, .189], [.349, .686, .168], [.272, .534, .131]])
KERNEL = np.array([[1, 4, 7, 4, 1], [4, 16, 26, 16, 4], [7, 26, 41, 26, 7],
                   [4, 16, 26, 16, 4], [1, 4, 7, 4, 1]], dtype=np.float64)


def reference(x: np.ndarray, padding: str, sepia_range: str) -> np.ndarray:
    """(H, W, 3) -> filtered, in float64: einsum sepia, then per-channel scipy correlate, zero border."""
    s = np.einsum("oi,hwi->hwo", SEPIA, x.astype(np.float64))
    if sepia_range == "clip":
        s = np.clip(s, 0.0, 1.0)
    elif sepia_range == "rescale":
        s = s / 1.351
    y = np.stack([ndimage.correlate(s[:, :, c], KERNEL / 273, mode="constant") for c in range(3)], axis=2)
    return y[2:-2, 2:-2] if padding == "valid" else y


def ours(x: np.ndarray, padding="valid", sepia_range="clip", fused=False) -> np.ndarray:
    return run_model(SepiaBlurNet(padding, sepia_range).eval(), x, fused)[1]


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return load_rgb(sample_photo(), 128)  # (128, 128, 3)


def random_image(h=37, w=45, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).random((h, w, 3), dtype=np.float32)


# --- correctness -------------------------------------------------------------------------------

@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("sepia_range", ["clip", "rescale", "none"])
def test_matches_numpy_scipy(padding, sepia_range, photo):
    for x in (random_image(), random_image(128, 128, seed=1), photo):
        y = ours(x, padding, sepia_range)
        ref = reference(x, padding, sepia_range)
        assert y.shape == ref.shape and y.dtype == np.float32
        assert np.abs(y - ref).max() <= 1e-6


def pillow_filter(x8: np.ndarray) -> np.ndarray:
    """Pillow in uint8: sepia via a colour matrix, then the 5x5 kernel (border left unfiltered)."""
    matrix = tuple(v for row in SEPIA for v in (*row, 0.0))
    sep = Image.fromarray(x8).convert("RGB", matrix)
    return np.asarray(sep.filter(ImageFilter.Kernel((5, 5), KERNEL.ravel().tolist(), scale=273)))


def test_matches_pillow_on_interior(photo):
    for x8 in (np.random.default_rng(2).integers(0, 256, (128, 128, 3), dtype=np.uint8),
               np.round(photo * 255).astype(np.uint8)):
        y = ours(x8.astype(np.float32) / 255, "valid", "clip")  # (124, 124, 3)
        ref = pillow_filter(x8)[2:-2, 2:-2].astype(np.float64) / 255
        assert y.shape == ref.shape == (124, 124, 3)
        assert np.abs(y - ref).max() <= 1 / 255 + 1e-6


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("sepia_range", ["rescale", "none"])
def test_fused_equals_two_layers(padding, sepia_range, photo):
    for x in (random_image(seed=3), photo):
        assert np.abs(ours(x, padding, sepia_range, fused=True) - ours(x, padding, sepia_range)).max() <= 1e-5


def test_fused_refuses_clip():
    with pytest.raises(UserError, match="fused"):
        FilterConfig(sepia_range="clip", fused=True)
    with pytest.raises(UserError, match="clamp"):
        SepiaBlurNet("valid", "clip").fused_weight()


def test_model_is_the_assignment_answer():
    model = SepiaBlurNet()
    assert [p.requires_grad for p in model.parameters()] == [False, False]
    assert model.sepia.bias is None and model.blur.bias is None
    np.testing.assert_array_equal(model.sepia.weight[:, :, 0, 0].double().numpy(), SEPIA.astype(np.float32))
    w = model.blur.weight.double().numpy()  # (3, 3, 5, 5)
    for o in range(3):
        for i in range(3):
            expect = (KERNEL / 273).astype(np.float32) if o == i else np.zeros((5, 5))
            np.testing.assert_array_equal(w[o, i], expect)
    assert model(torch.zeros(2, 3, 128, 128)).shape == (2, 3, 124, 124)
    assert SepiaBlurNet("same")(torch.zeros(2, 3, 128, 128)).shape == (2, 3, 128, 128)


def test_sepia_range_keeps_unit_interval():
    white = np.ones((9, 9, 3), np.float32)
    assert ours(white, "valid", "none").max() == pytest.approx(1.351, abs=1e-6)
    assert ours(white, "valid", "clip").max() == pytest.approx(1.0, abs=1e-6)
    y = ours(white, "valid", "rescale")
    np.testing.assert_allclose(y[0, 0], np.array([1.351, 1.203, 0.937]) / 1.351, atol=1e-6)


def test_section_answers_and_reuses_its_run(tmp_path):
    from neuralab.core.section import SectionContext
    from neuralab.filters.section import build

    ctx = SectionContext(tmp_path / "r", tmp_path / "r" / "assets" / "filters", tmp_path / "runs", "budget")
    s = build(ctx)
    assert "124×124×3" in s.text() and "128×128×3" in s.text()
    assert '"the output image is 124×124"' in s.text() and '"128×128"' in s.text()
    assert s.ours["output size"] == "124x124x3 (valid), 128x128x3 (same)" and s.ours["layers"] == 2
    for link in ("assets/filters/filters-photo.png", "assets/filters/filters-padding.png"):
        assert f"]({link})" in s.text() and (ctx.out_dir / link).is_file()
    assert build(ctx).run_dirs == s.run_dirs  # a finished run with the same config is reused

"""Throughput of the sepia + 5x5 Gaussian blur on 1,000 random 128x128 RGB float32 images.

Side by side in one run, all computing the same operation with valid (interior) output:
- ours, two layers (SepiaBlurNet, clamp between layers) and fused (one 5x5x3->3 conv, no clamp);
- numpy einsum + scipy.ndimage.correlate (zero border, interior kept), clamp between steps;
- Pillow in uint8 (colour matrix, then ImageFilter.Kernel), one image at a time.
Anchor: ours >= 2x scipy's images/s on 2 cores. Usage: python bench/filters.py [--n 1000] [--threads 2]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageFilter
from scipy import ndimage

from neuralab.core.args import number_in, output_file, script_main
from neuralab.core.io import atomic_write_json
from neuralab.core.provenance import provenance
from neuralab.filters import SepiaBlurNet
from neuralab.filters.model import GAUSS_5X5, GAUSS_SCALE, SEPIA


def ours(model: SepiaBlurNet, x: np.ndarray, batch: int, fused: bool) -> np.ndarray:
    """(N, H, W, 3) float32 -> (N, H-4, W-4, 3); the NHWC array is viewed as channels-last NCHW, no copy."""
    t = torch.from_numpy(x).permute(0, 3, 1, 2)  # (N, 3, H, W), channels-last strides
    outs = []
    with torch.no_grad():
        for i in range(0, len(t), batch):
            chunk = t[i:i + batch]
            outs.append(model.fused(chunk) if fused else model(chunk))
    return torch.cat(outs).permute(0, 2, 3, 1).numpy()


def scipy_ref(x: np.ndarray, clip: bool) -> np.ndarray:
    """The same operation in numpy + scipy.ndimage, whole batch per call."""
    s = np.einsum("oi,nhwi->nhwo", np.asarray(SEPIA, np.float32), x)      # (N, H, W, 3)
    if clip:
        np.clip(s, 0.0, 1.0, out=s)
    k = (np.asarray(GAUSS_5X5, np.float32) / GAUSS_SCALE)[None, :, :, None]  # (1, 5, 5, 1)
    return ndimage.correlate(s, k, mode="constant")[:, 2:-2, 2:-2, :]


def pillow(x8: np.ndarray) -> list[Image.Image]:
    matrix = tuple(v for row in SEPIA for v in (*row, 0.0))
    kernel = ImageFilter.Kernel((5, 5), [v for row in GAUSS_5X5 for v in row], scale=GAUSS_SCALE)
    return [Image.fromarray(img).convert("RGB", matrix).filter(kernel) for img in x8]


def timed(fn, repeats: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


@script_main
def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=number_in(int, 1, 10_000), default=1000, help="images (default 1000, the issue's batch)")
    p.add_argument("--threads", type=number_in(int, 1, 256), default=2, help="torch threads (default 2: the target machine)")
    p.add_argument("--batch", type=number_in(int, 1, 1000), default=100, help="images per forward pass (default 100)")
    p.add_argument("--repeats", type=number_in(int, 1, 100), default=3, help="best of this many runs (default 3)")
    p.add_argument("--json", type=output_file(".json"), default=None, help="write the figures, with their provenance, to this file")
    args = p.parse_args()
    where = provenance()
    torch.set_num_threads(args.threads)
    x = np.random.default_rng(0).random((args.n, 128, 128, 3), dtype=np.float32)  # (N, H, W, 3)
    x8 = np.round(x * 255).astype(np.uint8)
    two, fused = SepiaBlurNet("valid", "clip").eval(), SepiaBlurNet("valid", "none").eval()
    ours(two, x[:8], args.batch, False), ours(fused, x[:8], args.batch, True)  # warm-up

    rows = {}
    rows["ours, two layers (clip)"] = timed(lambda: ours(two, x, args.batch, False), args.repeats)
    rows["ours, fused (none)"] = timed(lambda: ours(fused, x, args.batch, True), args.repeats)
    rows["numpy+scipy.ndimage (clip)"] = timed(lambda: scipy_ref(x, True), args.repeats)
    rows["numpy+scipy.ndimage (none)"] = timed(lambda: scipy_ref(x, False), args.repeats)
    rows["Pillow uint8 (clip)"] = timed(lambda: pillow(x8), args.repeats)

    err_two = np.abs(rows["ours, two layers (clip)"][1] - rows["numpy+scipy.ndimage (clip)"][1]).max()
    err_fused = np.abs(rows["ours, fused (none)"][1] - rows["numpy+scipy.ndimage (none)"][1]).max()
    print(f"{args.n} images 128x128x3 float32, valid output 124x124x3, torch threads {args.threads}, "
          f"torch {torch.__version__}, best of {args.repeats}")
    print(f"max |ours - scipy|: two layers {err_two:.2e}, fused {err_fused:.2e}")
    scipy_rate = {m: args.n / rows[f"numpy+scipy.ndimage ({m})"][0] for m in ("clip", "none")}
    print(f"{'method':30s} {'seconds':>8s} {'images/s':>9s} {'vs scipy':>9s}")
    for name, (sec, _) in rows.items():
        rate = args.n / sec
        base = scipy_rate["none" if "none" in name else "clip"]
        print(f"{name:30s} {sec:8.3f} {rate:9.0f} {rate / base:8.2f}x")
    for name, mode in (("ours, two layers (clip)", "clip"), ("ours, fused (none)", "none")):
        ratio = args.n / rows[name][0] / scipy_rate[mode]
        print(f"anchor: {name} >= 2.00x scipy -> measured {ratio:.2f}x ({'met' if ratio >= 2 else 'MISSED'})")
    if args.json:
        atomic_write_json(Path(args.json), {
            **where, "images": args.n, "threads": args.threads, "repeats": args.repeats, "target_ratio": 2.0,
            "max_abs_error": {"two layers": float(err_two), "fused": float(err_fused)},
            "methods": {name: {"seconds": sec, "images_per_second": args.n / sec,
                               "vs_scipy": args.n / sec / scipy_rate["none" if "none" in name else "clip"]}
                        for name, (sec, _) in rows.items()}})
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

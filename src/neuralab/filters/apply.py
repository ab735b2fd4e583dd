"""Run SepiaBlurNet on image files: one output per input, per-file errors that do not stop a batch.

`apply_files` returns one `Outcome` per input; a bad file becomes an outcome with a one-line error
(the CLI prints it and exits 2 at the end) while the other files are still written.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from neuralab.core.errors import UserError
from neuralab.core.io import check_folder, check_writable, save_figure
from neuralab.core.progress import bar
from neuralab.filters.images import load_rgb, save_output
from neuralab.filters.model import FilterConfig, SepiaBlurNet

log = logging.getLogger(__name__)

OUTPUT_SUFFIXES = (".png", ".npy")


@dataclass
class Outcome:
    source: Path
    output: Path | None = None
    shape: tuple[int, int, int] | None = None  # (H, W, 3) of the written output
    error: str | None = None


def build_model(config: FilterConfig) -> SepiaBlurNet:
    return SepiaBlurNet(padding=config.padding, sepia_range=config.sepia_range).eval()


def run_model(model: SepiaBlurNet, x: np.ndarray, fused: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(H, W, 3) in [0, 1] -> (sepia stage (H, W, 3), output (H', W', 3)), both float32."""
    if model.padding == "valid" and min(x.shape[:2]) < 5:
        raise UserError(f"image is {x.shape[1]}x{x.shape[0]}; valid padding needs at least 5x5 pixels")
    t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).permute(2, 0, 1)[None]  # (1, 3, H, W)
    with torch.no_grad():
        mid = model.sepia_stage(t)                      # (1, 3, H, W)
        y = model.fused(t) if fused else model.blur(mid)  # (1, 3, H', W')
    return mid[0].permute(1, 2, 0).numpy(), y[0].permute(1, 2, 0).numpy()

OUTPUT_FORMATS = ("png", "npy")   # what a folder of outputs may hold


def plan_outputs(inputs: list[Path], out: Path, fmt: str = "png") -> list[Path]:
    """Where each input's result goes: `out` itself if it names a .png/.npy file, else out/<stem>.<fmt>."""
    if fmt not in OUTPUT_FORMATS:
        raise UserError(f"--format: unknown format {fmt!r} (choose from {', '.join(OUTPUT_FORMATS)})")
    if out.suffix.lower() in OUTPUT_SUFFIXES:
        if len(inputs) != 1:
            raise UserError(f"--out {out}: {len(inputs)} inputs need a directory, not one file")
        return [check_writable(out, flag="--out")]
    if out.suffix.lower() in Image.registered_extensions():
        raise UserError(f"--out {out}: outputs are PNG (.png) or float32 arrays (.npy)")
    check_folder(out, "--out")
    paths, seen = [], set()
    for src in inputs:
        name, k = f"{src.stem}.{fmt}", 1
        while name in seen:  # a/x.png and b/x.jpg must not overwrite each other
            k += 1
            name = f"{src.stem}-{k}.{fmt}"
        seen.add(name)
        paths.append(out / name)
    return paths


def apply_files(inputs: list[Path], out: Path, config: FilterConfig, fmt: str = "png") -> list[Outcome]:
    """Filter every input into its planned output; returns one Outcome per input, in order."""
    model = build_model(config)
    outcomes = []
    with bar("filters", total=len(inputs)) as progress:
        for src, dst in zip(inputs, plan_outputs(inputs, out, fmt)):
            try:
                _, y = run_model(model, load_rgb(src, config.size), config.fused)
                outcomes.append(Outcome(src, save_output(y, dst), tuple(y.shape)))
                log.debug("filtered %s -> %s", src, dst)
            except UserError as e:
                msg = str(e) if str(e).startswith(str(src)) else f"{src}: {e}"
                outcomes.append(Outcome(src, error=msg))
            progress.advance()
    return outcomes


def panels_figure(panels: list[tuple[str, np.ndarray]], path: Path | str, title: str = "") -> Path:
    """Images side by side (e.g. input, sepia stage, blurred output), each titled with its size."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3.4 * len(panels), 4.0), dpi=120, layout="constrained")
    FigureCanvasAgg(fig)
    for ax, (name, img) in zip(np.atleast_1d(fig.subplots(1, len(panels))), panels):
        ax.imshow(np.clip(img, 0.0, 1.0), interpolation="nearest")
        ax.set_title(f"{name}\n{img.shape[0]}x{img.shape[1]}x{img.shape[2]}", fontsize=10)
        ax.set_axis_off()
    if title:
        fig.suptitle(title, fontsize=11)
    return save_figure(fig, path, dpi="figure")


def demo(source: Path, out: Path, config: FilterConfig, fmt: str = "png") -> tuple[Outcome, Path]:
    """Filter one photo; write its output (planned like any input) and a before/sepia/blurred figure."""
    (dst,) = plan_outputs([source], out, fmt)
    x = load_rgb(source, config.size)
    mid, y = run_model(build_model(config), x, config.fused)
    result = Outcome(source, save_output(y, dst), tuple(y.shape))
    title = f"SepiaBlurNet, {config.padding} padding, sepia range {config.sepia_range}"
    panels = [("input", x), ("after layer 1 (sepia)", mid), ("after layer 2 (blur)", y)]
    figure = panels_figure(panels, dst.with_name(f"{dst.stem}-figure.png"), title)
    return result, figure

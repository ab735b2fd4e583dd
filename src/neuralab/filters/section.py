"""The report's answer to 1.4/1.5: the fixed-weight sepia + blur CNN, from the model's own tensors.

A run (`runs/filters/...`) stores the resolved config, the answer read from the model (`describe`)
and before/after photographs; the section renders them and reuses a finished run when asked.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neuralab.core.reference import load_result, reference_paragraph
from neuralab.core.runs import Run, find_reusable
from neuralab.core.section import Fold, Section, SectionContext, teachers_fold
from neuralab.filters.apply import build_model, panels_figure, run_model
from neuralab.filters.explain import describe
from neuralab.filters.images import SAMPLE_PHOTO, load_rgb, sample_photo
from neuralab.filters.model import GAUSS_SCALE, FilterConfig
from neuralab.filters.tables import throughput_rows

FIGURES = ("filters-photo.png", "filters-padding.png")
PUBLISHED = {"layers": 2, "filters per layer": "3, 3", "filter shapes": "1x1x3, 5x5x3",
             "output size": "124x124 (text), 128x128 (conclusion)"}


TEACHERS = ("new filter-design exercises: one or two fixed convolutions (greyscale, inversion, box blur, sharpen, "
            "emboss, Sobel edges, a Gaussian of another size and sigma) on other image sizes, paddings and strides, "
            "each key checked against scipy")


@dataclass
class SectionConfig:
    filters: FilterConfig            # the assignment's form: valid padding, clip, two layers, 128x128
    photo: str = SAMPLE_PHOTO        # a real photo shipped with matplotlib, so the report runs offline


def _make_run(ctx: SectionContext, config: SectionConfig) -> Run:
    run = Run.create(ctx.runs_root, "filters", config)
    x = load_rgb(sample_photo(), config.filters.size)                        # (128, 128, 3)
    mid, valid = run_model(build_model(config.filters), x)                   # (128, 128, 3), (124, 124, 3)
    same_config = FilterConfig(padding="same", sepia_range=config.filters.sepia_range)
    _, same = run_model(build_model(same_config), x)                         # (128, 128, 3)
    panels_figure([("input", x), ("after layer 1: sepia", mid), ("after layer 2: blur", valid)],
                run.path / FIGURES[0], "SepiaBlurNet on a real photograph (valid padding)")
    panels_figure([("valid padding", valid), ("same (zero) padding", same)], run.path / FIGURES[1],
                "The same blur, two paddings")
    run.finish({"answer": describe(config.filters.sepia_range, config.filters.size)})
    return run


def _shape(s) -> str:
    return "×".join(str(v) for v in s)


def _parameter_tables(params: dict) -> str:
    sepia = np.array(params["sepia.weight"])[:, :, 0, 0]   # (out, in)
    blur = np.array(params["blur.weight"])                 # (out, in, 5, 5)
    rgb = "RGB"
    rows = ["| layer 1 filter | weight on R | weight on G | weight on B | row sum |", "|---|---|---|---|---|"]
    rows += [f"| {o} ({rgb[o]}′) | " + " | ".join(f"{v:.3f}" for v in sepia[o]) + f" | {sepia[o].sum():.3f} |"
             for o in range(3)]
    cells = ["| layer 2 filter | slice on R | slice on G | slice on B |", "|---|---|---|---|"]
    kernels = set()
    for o in range(3):
        names = []
        for i in range(3):
            k = np.rint(blur[o, i] * GAUSS_SCALE).astype(int)
            if not k.any():
                names.append("0 (all 25)")
            else:
                kernels.add(tuple(k.ravel()))
                names.append(f"K/{GAUSS_SCALE}")
        cells.append(f"| {o} ({rgb[o]}′) | " + " | ".join(names) + " |")
    (k,) = kernels  # every non-zero slice holds the same kernel
    matrix = r" \\ ".join(" & ".join(str(v) for v in k[r * 5:(r + 1) * 5]) for r in range(5))
    kernel = f"$$K = \\begin{{bmatrix}} {matrix} \\end{{bmatrix}}$$"
    return "\n".join(rows) + "\n\n" + "\n".join(cells) + "\n\n" + kernel


def _reference(ctx: SectionContext) -> list[Fold]:
    record = load_result(ctx.bench_dir, "filters/throughput.json")
    if record is None:
        return []
    rows = throughput_rows(record)
    return [Fold("Throughput: the CNN against numpy and scipy",
                 reference_paragraph(f"throughput on {record['images']} images of 128×128", rows, record))]


QUESTION = ("Design a CNN that applies the sepia filter and then a 5×5 Gaussian blur to 128×128×3 images with "
            "values in [0, 1]: its architecture, layers, filters per layer, filter shapes, every parameter's value "
            "and the size of the output image.")


def _answer(answer: dict) -> str:
    shapes, f, fs = answer["output_shape"], answer["filters"], answer["filter_shapes"]
    return (f"{answer['layers']} convolutional layers, stride 1, no bias, no activation, nothing trained "
            f"({answer['parameter_count']} fixed parameters): layer 1 is sepia as {f[0]} filters of "
            f"{_shape(fs[0])}, layer 2 blurs each colour channel with {f[1]} filters of {_shape(fs[1])} (the "
            f"kernel $K/{GAUSS_SCALE}$ on its own channel, zeros on the other two). A 128×128×3 image comes out "
            f"{_shape(shapes['valid'])} without padding, {_shape(shapes['same'])} with 2 pixels of zeros. The 2017 "
            "solution states both 124×124 and 128×128; with its own no-padding premise only the first holds. Every "
            "figure is read from the model's tensors or measured by running it (`neuralab filters explain`).")


def _lead(answer: dict, photo: str) -> str:
    f, fs = answer["filters"], answer["filter_shapes"]
    return f"""| | layer 1: sepia | layer 2: Gaussian blur |
|---|---|---|
| type | Conv2D, 1×1 kernel | Conv2D, 5×5 kernel |
| filters | {f[0]} | {f[1]} |
| filter shape (h×w×in) | {_shape(fs[0])} | {_shape(fs[1])} |
| parameters | {3 * int(np.prod(fs[0]))} | {3 * int(np.prod(fs[1]))} |

![SepiaBlurNet on a real photograph]({photo})"""


def _folds(answer: dict, padding: str) -> list[Fold]:
    shapes, n = answer["output_shape"], answer["input_shape"][0]
    between = answer["between_layers"]
    parameters = f"""{_parameter_tables(answer['parameters'])}

The sepia rows sum to more than 1, so a white pixel leaves [0, 1]. Between the layers we {between['meaning']} \
(`--sepia-range {between['sepia_range']}`); `rescale` and `none` are the alternatives, and only those two can be \
folded into one 5×5×3→3 convolution. The 2017 solution leaves out that sepia outputs exceed 1."""
    output = f"""Output dimensions for a {n}×{n}×3 input, from a forward pass:

| padding | output |
|---|---|
| valid (no padding; Keras's default, and the 2017 solution's stated premise) | {_shape(shapes['valid'])} |
| same (2 pixels of zeros on each side) | {_shape(shapes['same'])} |

The 2017 solution says "the output image is 124×124" (no padding, stride 1) and then concludes "128×128". \
Those cannot both hold: 128×128 needs zero padding, which it never mentions. With `same` padding the output \
keeps 128×128, but its 2-pixel border averages in the zeros around the image:

![valid against same padding]({padding})"""
    return [Fold("Every parameter's value", parameters), Fold("The output size with and without padding", output)]


def build(ctx: SectionContext) -> Section:
    config = SectionConfig(filters=FilterConfig())
    run = find_reusable(ctx.runs_root, "filters", config, ctx.reuse) or _make_run(ctx, config)
    ctx.assets_dir.mkdir(parents=True, exist_ok=True)
    links = []
    for name in FIGURES:
        shutil.copyfile(run.path / name, ctx.assets_dir / name)
        links.append(Path(os.path.relpath(ctx.assets_dir / name, ctx.out_dir)).as_posix())
    answer = run.result["answer"]
    ours = {"layers": answer["layers"], "filters per layer": ", ".join(map(str, answer["filters"])),
            "filter shapes": ", ".join("x".join(map(str, s)) for s in answer["filter_shapes"]),
            "output size": ", ".join(f"{'x'.join(map(str, s))} ({p})" for p, s in answer["output_shape"].items())}
    return Section(key="filters", number="1.4", title="A CNN with fixed weights: sepia and Gaussian blur",
                   question=QUESTION, answer=_answer(answer), lead=_lead(answer, links[0]),
                   folds=_folds(answer, links[1]) + _reference(ctx) + [teachers_fold(
                       "filters", "neuralab exercise filters --count N --seed S", TEACHERS)],
                   published=dict(PUBLISHED), ours=ours,
                   run_dirs=[str(run.path)],
                   summary=f"{ours['layers']} layers of {ours['filters per layer']} filters, shapes "
                           f"{ours['filter shapes']}, output {ours['output size']} (published: output "
                           f"{PUBLISHED['output size']})",
                   command="neuralab filters apply; neuralab filters explain")

"""The report's answer to question 1.1: one gradient-descent step by hand, derived by the engine.

Runs (or reuses, with ctx.reuse) the assignment's case and two variants of it, copies the
compute-graph pictures into ctx.assets_dir, and returns the derivation with the 2017 solution's
numbers beside ours. Every number is read from the runs' result.json and derivation.md.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from neuralab.backprop.answer import PART, solve
from neuralab.backprop.network import BackpropConfig
from neuralab.core.runs import Run, find_reusable
from neuralab.core.section import Section, SectionContext

TITLE = "Backpropagation by hand"
# The 2017 solution: it names its loss "mean squared error" but differentiates 1/2 (yhat - y)^2
# per point, and gets these weights after the two points.
PUBLISHED = {"w0": 0.6, "w1": 1.8}
VARIANTS = {  # key -> (loss, reduction), the three reference cases
    "half-squared, sgd": ("half-squared", "sgd"),
    "squared, sgd": ("squared", "sgd"),
    "half-squared, mean": ("half-squared", "mean"),
}


def _run(config: BackpropConfig, ctx: SectionContext) -> Run:
    return find_reusable(ctx.runs_root, PART, config.to_json(), ctx.reuse) or solve(config, None, ctx.runs_root)[0]


def _embed(run: Run, ctx: SectionContext) -> str:
    """The run's derivation, headings moved under the report's section heading, pictures in assets."""
    ctx.assets_dir.mkdir(parents=True, exist_ok=True)
    for picture in sorted(run.path.glob("graph-point*.*")):
        shutil.copyfile(picture, ctx.assets_dir / picture.name)
    link = Path(os.path.relpath(ctx.assets_dir, ctx.out_dir)).as_posix()
    md = (run.path / "derivation.md").read_text()
    md = md.split("\n", 1)[1] if md.startswith("# ") else md  # the report gives the title
    md = re.sub(r"^(#+) ", r"#\1 ", md, flags=re.M)
    return re.sub(r"\]\((graph-point\d+\.(?:png|svg))\)", rf"]({link}/\1)", md)


def _variants_table(results: dict[str, dict]) -> str:
    lines = ["| loss, reduction | $w_0$ | $w_1$ | the 2017 solution |", "|---|---|---|---|"]
    for key, result in results.items():
        exact = result["final_exact"]
        published = "$w_0 = 0.6$, $w_1 = 1.8$" if key == "half-squared, sgd" else "–"
        lines.append(f"| {key} | {exact['w0']} | {exact['w1']} | {published} |")
    return "\n".join(lines)


def build(ctx: SectionContext) -> Section:
    runs = {}
    for key, (loss, reduction) in VARIANTS.items():
        runs[key] = _run(BackpropConfig(loss=loss, reduction=reduction), ctx)
    results = {key: run.result for key, run in runs.items()}
    main = results["half-squared, sgd"]
    ours = {"w0": main["final"]["w0"], "w1": main["final"]["w1"]}
    agree = ours == PUBLISHED
    intro = (
        "The network is $\\hat{y} = \\operatorname{relu}(w_1 \\operatorname{relu}(w_0 x))$ with $w_0 = 1$, "
        "$w_1 = 2$, data points $(1, 2)$ and $(2, 3)$ and learning rate $0.1$. Everything below is written "
        "by `neuralab backprop` from the scalar autograd engine's own forward and backward passes, in "
        "exact arithmetic.\n\n"
        "**On the published loss.** The 2017 solution says its loss is the *mean squared error*, but the "
        "loss it differentiates is $\\tfrac{1}{2}(\\hat{y} - y)^2$ for one point at a time: half the squared "
        "error, neither squared nor averaged. We call it *half-squared* and use it, so our numbers can be "
        f"set beside the published ones: they {'agree' if agree else 'differ'} "
        f"($w_0 = {main['final_exact']['w0']}$, $w_1 = {main['final_exact']['w1']}$ against $0.6$ and "
        "$1.8$). With the squared error as named, or with a true mean over the two points, the answers "
        "differ:\n\n" + _variants_table(results) + "\n\n"
        "The first point is fitted exactly ($\\hat{y} = 2$), so its gradient is zero: one update per point "
        "(sgd) and one update with the summed gradient give the same weights. The published solution also "
        "labels the prediction $y_2$ and the target $\\hat{y}$; here $\\hat{y}$ is the prediction.")
    return Section(key="backprop", number="1.1", title=TITLE,
                   markdown=intro + "\n\n" + _embed(runs["half-squared, sgd"], ctx),
                   published={f"{k} (half-squared, per point)": v for k, v in PUBLISHED.items()},
                   ours={f"{k} (half-squared, per point)": v for k, v in ours.items()},
                   run_dirs=[str(run.path) for run in runs.values()],
                   summary=f"after one epoch $w_0 = {ours['w0']:g}$, $w_1 = {ours['w1']:g}$ (published "
                           f"{PUBLISHED['w0']:g} and {PUBLISHED['w1']:g}: they {'agree' if agree else 'differ'})",
                   command="neuralab backprop")

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
from neuralab.core.section import Fold, Section, SectionContext, teachers_fold

TITLE = "Backpropagation by hand"
# The 2017 solution: it names its loss "mean squared error" but differentiates 1/2 (yhat - y)^2
# per point, and gets these weights after the two points.
PUBLISHED = {"w0": 0.6, "w1": 1.8}
VARIANTS = {  # key -> (loss, reduction), the three reference cases
    "half-squared, sgd": ("half-squared", "sgd"),
    "squared, sgd": ("squared", "sgd"),
    "half-squared, mean": ("half-squared", "mean"),
}


TEACHERS = ("new one-step exercises on small networks (a 1-1-1 chain, 1-2-1, or 1-2-2 and 2-2-2 where a weight "
            "reaches the loss by two paths), each with clean numbers and a teaching point its key names: an "
            "inactive ReLU, a point already fitted, a weight with two paths")


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
    question = ("One gradient-descent step by hand for $\\hat{y} = \\operatorname{relu}(w_1 \\operatorname{relu}(w_0 x))$, "
                "from $w_0 = 1$, $w_1 = 2$, over the points $(1, 2)$ and $(2, 3)$ at learning rate $0.1$: a loss, "
                "the compute graph, the partial derivatives, the update expressions and the final weights.")
    answer = (
        f"With the loss $\\tfrac{{1}}{{2}}(\\hat{{y}} - y)^2$ per point, one step gives "
        f"$w_0 = {main['final_exact']['w0']}$, $w_1 = {main['final_exact']['w1']}$: the 2017 figures "
        f"({'they agree' if agree else 'they differ'}). The first point is fitted exactly, so its gradient is zero; "
        "only $(2, 3)$ moves the weights. The 2017 solution calls its loss the *mean squared error*, but it "
        "differentiates half the squared error of one point at a time, neither squared nor averaged; the table "
        "shows what the loss it names would give. Every number here is written by `neuralab backprop` from a scalar "
        "autograd engine's own passes, in exact arithmetic.")
    derivation = Fold("The whole derivation: compute graph, partial derivatives, updates per point",
                      "The published solution labels the prediction $y_2$ and the target $\\hat{y}$; here "
                      "$\\hat{y}$ is the prediction.\n\n" + _embed(runs["half-squared, sgd"], ctx))
    return Section(key="backprop", number="1.1", title=TITLE,
                   question=question, answer=answer, lead=_variants_table(results),
                   folds=[derivation, teachers_fold(PART, "neuralab exercise backprop --level easy|medium|hard "
                                                          "--count N --seed S", TEACHERS)],
                   published={f"{k} (half-squared, per point)": v for k, v in PUBLISHED.items()},
                   ours={f"{k} (half-squared, per point)": v for k, v in ours.items()},
                   run_dirs=[str(run.path) for run in runs.values()],
                   summary=f"after one epoch $w_0 = {ours['w0']:g}$, $w_1 = {ours['w1']:g}$ (published "
                           f"{PUBLISHED['w0']:g} and {PUBLISHED['w1']:g}: they {'agree' if agree else 'differ'})",
                   command="neuralab backprop")

"""The completed assignment as a Jupyter notebook (`assignment4.ipynb`), and the API its cells call.

The report writes the notebook with nbformat in the assignment's order: each question in Markdown,
then a code cell that answers it through `Notebook.answer`, with this run's answer already in place
as the cell's output. A parameter cell at the top picks the scale. Run top to bottom, the notebook
reuses the report's finished runs (or trains them) and draws every answer again, as the page shows it.
"""

from __future__ import annotations

import json
import operator
import os
from dataclasses import replace
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from neuralab.core.io import atomic_write_bytes
from neuralab.report.parts import (PARTS, RenderedSection, ReportConfig, build_section, make_plan,
                                   section_context)
from neuralab.report.render import render_section_html

SCALES = {   # scale -> (report profile, seconds for the whole notebook)
    "smoke": ("budget", 60.0),     # every part at its dry-run size: seconds, for tests
    "budget": ("budget", 600.0),   # the report's: every part trains to its share of 10 minutes
    "full": ("full", 0.0),         # the assignment's own scale, however long it takes
}
SMOKE_IMAGES = 1000   # smoke: depth's protocol over this many training images, 8 steps an epoch


def smoke(setitem=operator.setitem, setattr_=setattr) -> None:
    """Shrink every part's budget profile to its dry-run size (`setitem`/`setattr_` let a test undo it)."""
    from neuralab.calc import config as calc_config
    from neuralab.caption import config as caption_config
    from neuralab.depth import experiment, plan

    whole = experiment.load_tensors

    def few_images(data_dir, device):
        t = whole(data_dir, device)
        return experiment.Tensors(t.x_train[:SMOKE_IMAGES], t.y_train[:SMOKE_IMAGES], t.x_test[:SMOKE_IMAGES // 2],
                                  t.y_test[:SMOKE_IMAGES // 2], t.sha256)
    setattr_(experiment, "load_tensors", few_images)
    setitem(plan.PROFILES, "budget", [replace(plan.ASSIGNMENT, seeds=1, epochs=1)])
    setitem(caption_config.PROFILES, "budget", caption_config.PROFILES["dry-run"])
    setitem(caption_config.ATTENTION, "budget", {})
    setitem(calc_config.PROFILES, ("budget", "symbolic"),
            dict(warmup=8, train_size=8, epochs=1, batch_size=4, val_size=4, test_count=4, reader="lenet"))


class Notebook:
    """The notebook's session: one plan over the parts, as the report has, and each answer as HTML."""

    def __init__(self, scale: str = "budget", runs: str = "runs", out: str = "notebook-files", budget: float | None = None):
        """`budget`: seconds for the whole notebook on the budget scale (default the scale's), so that the
        report's runs are reused when it had another budget."""
        if scale not in SCALES:
            raise ValueError(f"SCALE: {scale!r} is not one of {', '.join(SCALES)}")
        profile, seconds = SCALES[scale]
        if scale == "smoke":
            smoke()
        self.config = ReportConfig(out_dir=Path(out), runs_root=Path(runs), profile=profile,
                                   budget=budget if budget and scale == "budget" else seconds or 600.0)
        self.plan = make_plan(self.config)

    def answer(self, key: str):
        """Answer one question: build (or reuse) its part, and show its section as the page does."""
        from IPython.display import HTML

        number, title = next((n, t) for k, n, t in PARTS if k == key)
        share = self.plan.share(key)
        done = build_section(key, number, title, section_context(self.config, key, share))
        done.share = share if self.config.profile == "budget" else None
        self.plan.record(key, done.seconds)
        return HTML(render_section_html(done, self.config.out_dir))


def _answer_cell(key: str, section: RenderedSection, out_dir: Path):
    cell = new_code_cell(f'notebook.answer("{key}")')
    html = render_section_html(section, out_dir)
    cell.outputs = [new_output("execute_result", {"text/html": html, "text/plain": f"<{section.number} {section.title}>"},
                               execution_count=None)]
    return cell


def write_notebook(config: ReportConfig, sections: list[RenderedSection], header: str, path: Path) -> None:
    """`path`: the assignment in its order, each question then its answer, this run's outputs in place."""
    runs = Path(os.path.relpath(config.runs_root.resolve(), path.parent.resolve())).as_posix()
    scale = "full" if config.profile == "full" else "budget"
    cells = [
        new_markdown_cell(f"# Assignment 4, completed by neuralab\n\n{header}"),
        new_code_cell(f'SCALE = "{scale}"   # "smoke": seconds, for tests; "budget": the report\'s 10 minutes; '
                      f'"full": the assignment\'s scale\nBUDGET = {config.budget:g}   # seconds, on the budget scale: '
                      f'the report\'s\nRUNS = {json.dumps(runs)}   # finished runs are reused from '
                      'here\nOUT = "notebook-files"   # where this notebook writes its figures',
                      metadata={"tags": ["parameters"]}),
        new_code_cell("from neuralab.report.notebook import Notebook\n\nnotebook = Notebook(SCALE, RUNS, OUT, BUDGET)"),
    ]
    for section in sections:
        question = f"\n\n**Question.** {section.question}" if section.question else ""
        cells += [new_markdown_cell(f"## {section.number} {section.title}{question}"),
                  _answer_cell(section.key, section, config.out_dir)]
    notebook = new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}})
    nbformat.validate(notebook)
    atomic_write_bytes(path, nbformat.writes(notebook).encode())

"""`neuralab report`: run (or reuse) every part and write one self-contained page.

Each part answers its question through `neuralab.<part>.section.build` (see `core/section.py`). A part
that fails does not stop the report: its section is marked failed with a one-line reason, and
the report's exit status says so.

On the budget profile one wall-time budget is shared by a `core.budget.Plan`: each part is given
its weight's share of what the parts before it left, and trains to that share. The page prints
the plan beside what each part used.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from neuralab.core.io import atomic_write_bytes
from neuralab.core.progress import bar, live
from neuralab.core.provenance import machine, provenance
from neuralab.report.exercises import write_samples
from neuralab.report.notebook import write_notebook
from neuralab.report.parts import (PARTS, RENDER_RESERVE, WEIGHTS, RenderedSection, ReportConfig,  # noqa: F401
                                   build_section, make_plan, section_context)
from neuralab.report.pdf import write_pdf
from neuralab.report.render import render_html, render_markdown

log = logging.getLogger(__name__)
NOTEBOOK, PDF = "assignment4.ipynb", "assignment4.pdf"   # the assignment asks for both


def _record(config: ReportConfig, sections: list[RenderedSection], context: dict) -> dict:
    """report.json: what each part was given and used and its figures, with the run's provenance."""
    return {**provenance(), "profile": config.profile, "budget": config.budget,
            "total_seconds": context["total_seconds"],
            "parts": {s.key: {"share": s.share, "seconds": s.seconds, "failed": s.failed, "reason": s.reason,
                              "summary": s.summary, "ours": s.ours} for s in sections}}


@dataclass
class Report:
    sections: list[RenderedSection]
    written: list[Path]                # every file written, the page first; none when every part failed over a report
    pdf_problem: str | None = None     # why the PDF is not there, in one line; None when it is


def build_report(config: ReportConfig) -> Report:
    """Build every requested part's section, then write the page (index.html, index.md), the notebook and
    its PDF, each atomically."""
    out = config.out_dir
    chosen = [p for p in PARTS if p[0] in config.parts]
    plan = make_plan(config)
    t0 = time.perf_counter()
    sections = []
    with live(), bar("report", len(chosen)) as parts_bar:
        for key, number, title in chosen:
            share = plan.share(key)
            log.info("report: %s (%s)%s", key, number, f", {share:.0f} s" if config.profile == "budget" else "")
            done = build_section(key, number, title, section_context(config, key, share))
            done.share = share if config.profile == "budget" else None
            plan.record(key, done.seconds)
            sections.append(done)
            parts_bar.advance(1)
    if all(s.failed for s in sections) and (out / "index.html").exists():
        log.error("every part failed: %s keeps the report it holds", out)
        return Report(sections, [])
    context = {"sections": sections, "profile": config.profile, "budget": config.budget,
               "total_seconds": time.perf_counter() - t0, "machine": machine(),
               "generated": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
               "command": config.command}
    atomic_write_bytes(out / "report.json", json.dumps(_record(config, sections, context), indent=2).encode())
    atomic_write_bytes(out / "index.md", render_markdown(context).encode())
    atomic_write_bytes(out / "index.html", render_html(context, out).encode())
    where = machine()
    header = (f"Generated {context['generated']} by `{config.command}` on {where['cpu']} ({where['cores']} cores), "
              f"torch {where['torch']}. Each answer below is this run's; `index.html` beside this notebook is the "
              "same report as one page.")
    write_notebook(config, sections, header, out / NOTEBOOK)
    samples = write_samples(out, [s.key for s in sections if not s.failed])
    written = [out / "index.html", out / "index.md", out / NOTEBOOK, *(folder / "sheet.html" for folder in samples)]
    if (problem := write_pdf(out / "index.html", out / PDF)) is None:
        written.append(out / PDF)
    else:
        log.warning("no PDF: %s", problem)
    return Report(sections, written, problem)

"""`neuralab report`: run (or reuse) every part and write one self-contained page.

Each part answers its question through `neuralab.<part>.section.build` (see `core/section.py`). A part
that fails does not stop the report: its section is marked failed with a one-line reason, and
the report's exit status says so.

On the budget profile one wall-time budget is shared by a `core.budget.Plan`: each part is given
its weight's share of what the parts before it left, and trains to that share. The page prints
the plan beside what each part used.
"""

from __future__ import annotations

import importlib
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from neuralab.core.budget import Plan
from neuralab.core.io import atomic_write_bytes
from neuralab.core.progress import bar, live
from neuralab.core.provenance import REFERENCE_RESULTS, machine, provenance
from neuralab.core.section import Profile, Section, SectionContext
from neuralab.report.render import render_html, render_markdown

log = logging.getLogger(__name__)

# (part, the assignment's question number, title used if the part cannot be built)
PARTS = (
    ("backprop", "1.1", "Backpropagation by hand"),
    ("depth", "1.3", "Training deep models"),
    ("filters", "1.4", "A CNN with fixed weights: sepia and Gaussian blur"),
    ("caption", "1.6", "Video captioning"),
    ("calc", "1.8", "The MNIST calculator"),
)
# Shares of the budget, from the parts' costs on 2 CPU cores at the default 10 minutes: depth's six
# 10-epoch runs take 3.5 to 4 minutes, the captioner needs about 3 for 0.90 and the calculator about
# 2 for 96%, and backprop and filters train nothing.
WEIGHTS = {"backprop": 1, "depth": 40, "filters": 1, "caption": 33, "calc": 24}
RENDER_RESERVE = 0.015  # of the budget, kept for writing the page (inlining figures, MathML): ~5 s of 600


@dataclass
class ReportConfig:
    out_dir: Path = Path("report")       # index.html, index.md and assets/ go here
    runs_root: Path = Path("runs")       # finished runs are reused from here
    profile: Profile = "budget"          # budget: every part trains to its share of `budget`; full: assignment scale
    budget: float = 600.0                # seconds for the whole page: 10 minutes, what a reader waits for
    reuse: bool = True                   # reuse finished runs whose resolved config matches
    parts: tuple[str, ...] = tuple(p for p, _, _ in PARTS)
    command: str = "neuralab report"     # shown in the page, so a reader can regenerate it
    bench_dir: Path | None = REFERENCE_RESULTS   # the project's result files, quoted as reference figures


@dataclass
class RenderedSection:
    key: str
    number: str
    title: str
    markdown: str = ""
    failed: bool = False
    reason: str = ""
    seconds: float = 0.0
    share: float | None = None           # budget profile: the seconds the plan gave this part
    summary: str = ""
    command: str = ""
    ours: dict = field(default_factory=dict)
    run_dirs: list[str] = field(default_factory=list)
    comparison: list[tuple[str, str, str]] = field(default_factory=list)


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return f"{type(error).__name__}: {text}"


def _fmt(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _comparison(section: Section) -> list[tuple[str, str, str]]:
    """Rows only for the figures both sides report under the same name."""
    return [(k, _fmt(v), _fmt(section.ours[k])) for k, v in section.published.items() if k in section.ours]


def make_plan(config: ReportConfig) -> Plan:
    return Plan(config.budget, {part: WEIGHTS[part] for part in config.parts},
                reserve=RENDER_RESERVE * config.budget)


def build_section(key: str, number: str, title: str, ctx: SectionContext) -> RenderedSection:
    t0 = time.perf_counter()
    try:
        module = importlib.import_module(f"neuralab.{key}.section")
        ctx.assets_dir.mkdir(parents=True, exist_ok=True)
        section: Section = module.build(ctx)
        done = RenderedSection(key, section.number, section.title, section.markdown,
                               run_dirs=list(section.run_dirs), comparison=_comparison(section),
                               summary=section.summary, command=section.command, ours=dict(section.ours))
    except Exception as error:  # one failed part must not sink the report
        log.error("%s failed: %s", key, _one_line(error))
        log.debug("traceback", exc_info=True)
        done = RenderedSection(key, number, title, failed=True, reason=_one_line(error))
    done.seconds = time.perf_counter() - t0
    return done


def _record(config: ReportConfig, sections: list[RenderedSection], context: dict) -> dict:
    """report.json: what each part was given and used and its figures, with the run's provenance."""
    return {**provenance(), "profile": config.profile, "budget": config.budget,
            "total_seconds": context["total_seconds"],
            "parts": {s.key: {"share": s.share, "seconds": s.seconds, "failed": s.failed, "reason": s.reason,
                              "summary": s.summary, "ours": s.ours} for s in sections}}


def build_report(config: ReportConfig) -> list[RenderedSection]:
    """Build every requested part's section, then write index.md and index.html atomically."""
    out = config.out_dir
    chosen = [p for p in PARTS if p[0] in config.parts]
    plan = make_plan(config)
    t0 = time.perf_counter()
    sections = []
    with live(), bar("report", len(chosen)) as parts_bar:
        for key, number, title in chosen:
            share = plan.share(key)
            log.info("report: %s (%s)%s", key, number, f", {share:.0f} s" if config.profile == "budget" else "")
            ctx = SectionContext(out_dir=out, assets_dir=out / "assets" / key, runs_root=config.runs_root,
                                 profile=config.profile, reuse=config.reuse, seconds=share,
                                 bench_dir=config.bench_dir)
            done = build_section(key, number, title, ctx)
            done.share = share if config.profile == "budget" else None
            plan.record(key, done.seconds)
            sections.append(done)
            parts_bar.advance(1)
    context = {"sections": sections, "profile": config.profile, "budget": config.budget,
               "total_seconds": time.perf_counter() - t0, "machine": machine(),
               "generated": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
               "command": config.command}
    atomic_write_bytes(out / "report.json", json.dumps(_record(config, sections, context), indent=2).encode())
    atomic_write_bytes(out / "index.md", render_markdown(context).encode())
    atomic_write_bytes(out / "index.html", render_html(context, out).encode())
    return sections

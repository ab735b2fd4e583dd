"""The report's parts: which questions it answers, how its budget is shared, and how one part's
section is built (a part that fails becomes a section marked failed, with its reason in one line).
The page (`build`) and the notebook (`notebook`) both build their sections here.
"""

from __future__ import annotations

import importlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from neuralab.core.budget import Plan
from neuralab.core.provenance import REFERENCE_RESULTS
from neuralab.core.section import Fold, Profile, Section, SectionContext

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
    question: str = ""
    answer: str = ""
    lead: str = ""
    folds: list[Fold] = field(default_factory=list)
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


def section_context(config: ReportConfig, key: str, share: float) -> SectionContext:
    out = config.out_dir
    return SectionContext(out_dir=out, assets_dir=out / "assets" / key, runs_root=config.runs_root,
                          profile=config.profile, reuse=config.reuse, seconds=share, bench_dir=config.bench_dir)


def build_section(key: str, number: str, title: str, ctx: SectionContext) -> RenderedSection:
    t0 = time.perf_counter()
    try:
        module = importlib.import_module(f"neuralab.{key}.section")
        ctx.assets_dir.mkdir(parents=True, exist_ok=True)
        section: Section = module.build(ctx)
        done = RenderedSection(key, section.number, section.title, section.question, section.answer,
                               section.lead, list(section.folds), run_dirs=list(section.run_dirs), comparison=_comparison(section),
                               summary=section.summary, command=section.command, ours=dict(section.ours))
    except Exception as error:  # one failed part must not sink the report
        log.error("%s failed: %s", key, _one_line(error))
        log.debug("traceback", exc_info=True)
        done = RenderedSection(key, number, title, failed=True, reason=_one_line(error))
    done.seconds = time.perf_counter() - t0
    return done

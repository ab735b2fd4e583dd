"""`neuralab report`: run (or reuse) every part and write one self-contained page.

Each part answers its question through `neuralab.<part>.section.build` (see `core/section.py`). A part
that fails does not stop the report: its section is marked failed with a one-line reason, and
the report's exit status says so.
"""

from __future__ import annotations

import importlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from neuralab.core.io import atomic_write_bytes
from neuralab.core.progress import bar, live
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


@dataclass
class ReportConfig:
    out_dir: Path = Path("report")       # index.html, index.md and assets/ go here
    runs_root: Path = Path("runs")       # finished runs are reused from here
    profile: Profile = "quick"           # quick: <= 10 min on 2 CPU cores for all parts
    reuse: bool = True                   # reuse finished runs whose resolved config matches
    parts: tuple[str, ...] = tuple(p for p, _, _ in PARTS)
    command: str = "neuralab report"     # shown in the page, so a reader can regenerate it
    bench_dir: Path | None = None        # benchmark JSON outputs (docs/results) the parts may quote


@dataclass
class RenderedSection:
    key: str
    number: str
    title: str
    markdown: str = ""
    failed: bool = False
    reason: str = ""
    seconds: float = 0.0
    run_dirs: list[str] = field(default_factory=list)
    comparison: list[tuple[str, str, str]] = field(default_factory=list)


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return f"{type(error).__name__}: {text}"


def _fmt(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _comparison(section: Section) -> list[tuple[str, str, str]]:
    keys = list(dict.fromkeys([*section.published, *section.ours]))
    return [(k, _fmt(section.published.get(k, "–")), _fmt(section.ours.get(k, "–"))) for k in keys]


def build_section(key: str, number: str, title: str, ctx: SectionContext) -> RenderedSection:
    t0 = time.perf_counter()
    try:
        module = importlib.import_module(f"neuralab.{key}.section")
        ctx.assets_dir.mkdir(parents=True, exist_ok=True)
        section: Section = module.build(ctx)
        done = RenderedSection(key, section.number, section.title, section.markdown,
                               run_dirs=list(section.run_dirs), comparison=_comparison(section))
    except Exception as error:  # one failed part must not sink the report
        log.error("%s failed: %s", key, _one_line(error))
        log.debug("traceback", exc_info=True)
        done = RenderedSection(key, number, title, failed=True, reason=_one_line(error))
    done.seconds = time.perf_counter() - t0
    return done


def build_report(config: ReportConfig) -> list[RenderedSection]:
    """Build every requested part's section, then write index.md and index.html atomically."""
    out = config.out_dir
    chosen = [p for p in PARTS if p[0] in config.parts]
    t0 = time.perf_counter()
    sections = []
    with live(), bar("report", len(chosen)) as parts_bar:
        for key, number, title in chosen:
            log.info("report: %s (%s)", key, number)
            ctx = SectionContext(out_dir=out, assets_dir=out / "assets" / key, runs_root=config.runs_root,
                                 profile=config.profile, reuse=config.reuse, bench_dir=config.bench_dir)
            sections.append(build_section(key, number, title, ctx))
            parts_bar.advance(1)
    context = {"sections": sections, "profile": config.profile, "total_seconds": time.perf_counter() - t0,
               "generated": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
               "command": config.command}
    atomic_write_bytes(out / "index.md", render_markdown(context).encode())
    atomic_write_bytes(out / "index.html", render_html(context, out).encode())
    return sections

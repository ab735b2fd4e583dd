"""The contract between the report and the parts.

Each part exposes `neuralab.<part>.section.build(ctx: SectionContext) -> Section`. It trains or
reuses what it needs (through `ctx.runs_root` and `ctx.reuse`), writes its figures into
`ctx.assets_dir`, and returns its answer as Markdown that refers to those files by their names
relative to `ctx.out_dir`. The report turns the Markdown into one self-contained HTML page,
inlining every image, so a part never writes HTML itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Profile = Literal["budget", "full"]                 # the report's: train to a time budget, or at full scale
TrainProfile = Literal["quick", "budget", "full"]   # a trainer's: quick is a smoke run of about a minute


@dataclass
class SectionContext:
    out_dir: Path        # the report folder; Markdown image links are relative to it
    assets_dir: Path     # where this part writes its figures (inside out_dir)
    runs_root: Path      # runs/ : finished runs are looked up and new ones written here
    profile: Profile     # budget: train to `seconds`; full: the assignment's own scale, however long it takes
    reuse: bool = True   # reuse a finished run whose resolved config matches
    seconds: float = 600.0          # budget: this part's share of the report's wall time (training and figures)
    bench_dir: Path | None = None   # benchmark JSON outputs: quoted from there, never retyped


@dataclass
class Section:
    key: str                 # "backprop", "depth", "filters", "caption", "calc"
    number: str              # the assignment's question number, e.g. "1.1"
    title: str
    markdown: str            # the answer; LaTeX math as $...$ / $$...$$
    published: dict = field(default_factory=dict)   # the 2017 solution's figures, for side-by-side
    ours: dict = field(default_factory=dict)        # our figures, read from saved runs
    run_dirs: list[str] = field(default_factory=list)
    summary: str = ""        # one line for the top of the page: the headline figure beside the published one
    command: str = ""        # the command that reproduces this section's runs on its own

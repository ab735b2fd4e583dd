"""The contract between the report and the parts.

Each part exposes `neuralab.<part>.section.build(ctx: SectionContext) -> Section`. It trains or
reuses what it needs (through `ctx.runs_root` and `ctx.reuse`), writes its figures into
`ctx.assets_dir`, and returns its answer as Markdown that refers to those files by their names
relative to `ctx.out_dir`. The report turns the Markdown into one self-contained HTML page,
inlining every image, so a part never writes HTML itself.

A section answers first: the question in a line or two, the answer in a few lines, and the one
figure or short table that carries it (`lead`). Everything else measured (diagnostics, ablations,
reference runs, the full derivation) goes into `folds`, which the page folds away and prints open.
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
class Fold:
    title: str               # the one line shown while folded
    markdown: str            # what unfolds; LaTeX math as $...$ / $$...$$


@dataclass
class Section:
    key: str                 # "backprop", "depth", "filters", "caption", "calc"
    number: str              # the assignment's question number, e.g. "1.1"
    title: str
    lead: str                # the one figure or short table (at most ~8 rows) that carries the answer
    question: str = ""       # the assignment's question, in a line or two
    answer: str = ""         # the answer in a few lines, before any figure
    folds: list[Fold] = field(default_factory=list)  # everything else, folded in the page
    published: dict = field(default_factory=dict)   # the 2017 solution's figures, for side-by-side
    ours: dict = field(default_factory=dict)        # our figures, read from saved runs
    run_dirs: list[str] = field(default_factory=list)
    summary: str = ""        # one line for the top of the page: the headline figure beside the published one
    command: str = ""        # the command that reproduces this section's runs on its own

    def text(self) -> str:
        """The whole answer as one Markdown document: question, answer, lead, then every fold."""
        parts = [self.question, self.answer, self.lead]
        parts += [f"**{fold.title}**\n\n{fold.markdown}" for fold in self.folds]
        return "\n\n".join(part for part in parts if part)


# The report writes a short sample sheet and key for these parts (report.exercises), here under out_dir
SAMPLE_SHEETS = {"backprop": "exercises/backprop", "filters": "exercises/filters"}


def teachers_fold(part: str, command: str, what: str) -> Fold:
    """The one paragraph for teachers under a question that `neuralab exercise` makes variants of."""
    folder = SAMPLE_SHEETS[part]
    return Fold("For teachers: fresh variants of this question, with answer keys",
                f"`{command}` writes {what}: a students' sheet and a teacher's key (Markdown, HTML and PDF) and "
                f"`key.json`, and `neuralab exercise grade --key key.json answers.csv` marks students' numeric "
                f"answers. A sample from this run: [the sheet]({folder}/sheet.html) and [its key]({folder}/key.html).")

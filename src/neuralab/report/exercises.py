"""Exercise sheets for teachers: the students' sheet, the teacher's key and the key's answers as JSON.

`neuralab exercise backprop` and `neuralab exercise filters` write, into one folder:
`sheet.md/.html/.pdf` (questions only), `key.md/.html/.pdf` (worked answers, with figures under
`figures/`) and `key.json` (every numeric answer by part id, its tolerance, each variant's config and
the provenance), which `neuralab exercise grade` marks answers against.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import matplotlib

from neuralab.backprop import exercise as backprop_exercise
from neuralab.backprop.answer import draw_points
from neuralab.core.io import atomic_write_json
from neuralab.core.provenance import provenance
from neuralab.core.section import SAMPLE_SHEETS
from neuralab.filters import exercise as filters_exercise
from neuralab.report.handout import write_handouts

# |given - expected| <= atol + rtol |expected|: backprop answers are short exact decimals; filter
# weights such as 1/273 are fair to three significant figures
TOLERANCE = {"backprop": {"rtol": 1e-6, "atol": 1e-6}, "filters": {"rtol": 1e-3, "atol": 1e-6}}


@dataclass
class Written:
    folder: Path
    count: int
    seconds: float
    pdf: bool                 # sheet.pdf and key.pdf were written
    pdf_problem: str | None   # why no PDF was written when one was asked for, or None


def _write(out: Path, kind: str, title: str, sheet: list[str], key: list[str], answers: dict[str, str],
           record: dict, pdf: bool, started: float) -> Written:
    level = f" --level {record['level']}" if "level" in record else ""
    meta = (f"{record['count']} exercise(s). `neuralab exercise {kind} --count {record['count']}{level} "
            f"--seed {record['seed']}` writes this sheet again, number for number.")
    documents = {"sheet": (f"{title}: exercises", "\n".join(sheet)),
                 "key": (f"{title}: answer key", "\n".join(key))}
    problem = write_handouts(out, documents, meta, pdf)
    atomic_write_json(out / "key.json", {"kind": kind, **record, "tolerance": TOLERANCE[kind], "answers": answers})
    return Written(out, record["count"], time.perf_counter() - started, pdf and problem is None, problem)


def write_backprop(out: Path, level: str, seed: int, count: int, pdf: bool = True,
                   argv: list[str] | None = None) -> Written:
    """`count` backprop variants at `level` from `seed`: sheet, key (one compute graph each) and key.json."""
    started = time.perf_counter()
    exercises = backprop_exercise.generate(level, seed, count)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    for stale in (out / "figures").glob("backprop-*"):   # a reused --out keeps no figure of an earlier sheet
        stale.unlink()
    sheet, key, answers = [], [], {}
    with matplotlib.rc_context({"svg.fonttype": "none"}):   # text stays text: 3x faster, a third the size
        for ex in exercises:
            draw_points(ex.config, ex.steps, out / "figures" / f"backprop-{ex.number}-point", (".svg",), limit=1)
            sheet.append(backprop_exercise.sheet_markdown(ex))
            key.append(backprop_exercise.key_markdown(
                ex, [("Compute graph, data point 1", f"figures/backprop-{ex.number}-point1.svg")]))
            answers.update(ex.answers())
    record = {"level": level, "seed": seed, "count": count, "provenance": provenance(argv),
              "exercises": [{"number": ex.number, "teaching_points": ex.teaching, "config": ex.config.to_json()}
                            for ex in exercises]}
    return _write(out, "backprop", "Backpropagation by hand", sheet, key, answers, record, pdf, started)


def write_filters(out: Path, seed: int, count: int, pdf: bool = True, argv: list[str] | None = None) -> Written:
    """`count` filter-design variants from `seed`: sheet, key and key.json."""
    started = time.perf_counter()
    exercises = filters_exercise.generate(seed, count)
    out.mkdir(parents=True, exist_ok=True)
    sheet = [filters_exercise.sheet_markdown(ex) for ex in exercises]
    key = [filters_exercise.key_markdown(ex) for ex in exercises]
    answers = {k: v for ex in exercises for k, v in ex.answers().items()}
    record = {"seed": seed, "count": count, "provenance": provenance(argv),
              "exercises": [ex.to_json() for ex in exercises]}
    return _write(out, "filters", "A CNN with fixed weights", sheet, key, answers, record, pdf, started)


SAMPLE = {"count": 3, "seed": 0, "level": "medium"}   # a short sample: the report answers first


def write_samples(out_dir: Path, parts: list[str]) -> list[Path]:
    """The report's sample sheet and key for each chosen part that has exercises (no PDF: the page is
    printed already); returns the folders written."""
    folders = []
    for part in parts:
        if part in SAMPLE_SHEETS:
            folder = out_dir / SAMPLE_SHEETS[part]
            argv = ["neuralab", "exercise", part, "--count", str(SAMPLE["count"]), "--seed", str(SAMPLE["seed"])]
            if part == "backprop":
                write_backprop(folder, SAMPLE["level"], SAMPLE["seed"], SAMPLE["count"], pdf=False,
                               argv=argv + ["--level", SAMPLE["level"]])
            else:
                write_filters(folder, SAMPLE["seed"], SAMPLE["count"], pdf=False, argv=argv)
            folders.append(folder)
    return folders

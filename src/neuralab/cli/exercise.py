"""`neuralab exercise`: fresh exercise sheets with answer keys for teachers, and marking of answers."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from neuralab.backprop.exercise import LEVELS
from neuralab.cli.choices import choices
from neuralab.core.grading import grade as grade_answers
from neuralab.core.grading import MAX_EXERCISES, load_answers, load_key
from neuralab.core.io import check_folder

Level = choices("Level", LEVELS)

app = typer.Typer(no_args_is_help=True, help="Exercise sheets and answer keys for teachers, and grading.")

COUNT_HELP = f"Exercises on the sheet, 1..{MAX_EXERCISES}."
SEED_HELP = "The same seed writes the same sheet."
PDF_HELP = "Also print sheet.pdf and key.pdf with Chromium (the report's PDF route)."


def _report(written) -> None:
    """One line for what was written (a report.exercises.Written), and one for a missing PDF."""
    typer.echo(f"wrote {written.count} exercise(s) to {written.folder}: sheet.md/.html, key.md/.html, key.json"
               + (", sheet.pdf, key.pdf" if written.pdf else "") + f" in {written.seconds:.1f} s")
    if written.pdf_problem:
        typer.echo(f"no PDF: {written.pdf_problem}", err=True)


@app.command()
def backprop(
    count: int = typer.Option(10, help=COUNT_HELP),
    seed: int = typer.Option(0, help=SEED_HELP),
    level: Level = typer.Option("medium", help="easy: a 1-1-1 chain; medium: a 1-2-1 network; hard: 1-2-2 or "
                                "2-2-2, where a weight reaches the loss by two paths."),
    out: Path = typer.Option(Path("exercises/backprop"), "--out", help="The folder to write into."),
    pdf: bool = typer.Option(True, "--pdf/--no-pdf", help=PDF_HELP),
) -> None:
    """Backprop by hand on fresh small networks: loss, compute graph, partial derivatives, updates, final weights."""
    check_folder(out, "--out")
    from neuralab.report.exercises import write_backprop  # scipy and the page renderer: only when writing (-0.7 s)

    _report(write_backprop(out, level.value, seed, count, pdf, sys.argv))


@app.command()
def filters(
    count: int = typer.Option(10, help=COUNT_HELP),
    seed: int = typer.Option(0, help=SEED_HELP),
    out: Path = typer.Option(Path("exercises/filters"), "--out", help="The folder to write into."),
    pdf: bool = typer.Option(True, "--pdf/--no-pdf", help=PDF_HELP),
) -> None:
    """Design a fixed-weight CNN: greyscale, box blur, sharpen, Sobel, emboss, inversion, Gaussians; sizes, padding, stride."""
    check_folder(out, "--out")
    from neuralab.report.exercises import write_filters

    _report(write_filters(out, seed, count, pdf, sys.argv))


@app.command()
def grade(
    answers: Path = typer.Argument(..., metavar="ANSWERS", help="CSV rows part,answer, or JSON {part: answer}."),
    key: Path = typer.Option(..., "--key", help="The key.json written with the sheet."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object with every mark."),
) -> None:
    """Mark numeric answers right or wrong within the key's tolerance; wrong ones show the expected value."""
    expected, tolerance = load_key(key)
    marks = grade_answers(expected, tolerance, load_answers(answers), str(answers))
    right = sum(m.right for m in marks)
    rule = f"|given - expected| <= {tolerance['atol']:g} + {tolerance['rtol']:g} |expected|"
    if as_json:
        typer.echo(json.dumps({"right": right, "parts": len(marks), "tolerance": tolerance,
                               "marks": [m.__dict__ for m in marks]}))
        return
    for m in marks:
        if not m.right:
            typer.echo(f"{'missing' if m.given is None else 'wrong'}  {m.part}: "
                       + ("" if m.given is None else f"{m.given}, ") + f"expected {m.expected}")
    typer.echo(f"{right} of {len(marks)} parts right ({rule})")

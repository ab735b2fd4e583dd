"""`neuralab report`: the main job, the whole assignment answered in one page."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from neuralab.cli.choices import Profile
from neuralab.core.budget import parse_duration
from neuralab.core.errors import UserError
from neuralab.core.io import check_folder
from neuralab.core.provenance import REFERENCE_RESULTS
from neuralab.report.parts import PARTS, ReportConfig


def report(
    budget: str = typer.Option("10m", help="Wall time for the whole page (600s, 10m, 1.5h), shared among "
                               "the parts by a plan the page prints; each trains to its share."),
    profile: Profile = typer.Option("budget", help="budget: train to --budget; full: the assignment's own "
                                    "scale, however long it takes."),
    out: Path = typer.Option(Path("report"), help="Folder for index.html, index.md and assets/."),
    reuse: bool = typer.Option(True, "--reuse/--no-reuse", help="Reuse finished runs whose resolved config matches."),
    runs: Path = typer.Option(Path("runs"), help="Where runs are found and written."),
    parts: str = typer.Option(",".join(p for p, _, _ in PARTS), help="Comma-separated parts to include."),
    bench_results: Optional[Path] = typer.Option(None, help="Result files to quote as the project's reference "
                                                 "figures (default: those shipped with neuralab)."),
) -> None:
    """Run (or reuse) every part and write one self-contained HTML page plus Markdown."""
    from neuralab.report.build import PDF, build_report   # the notebook and page writers: only when a report runs

    seconds = parse_duration(budget)
    known = [p for p, _, _ in PARTS]
    chosen = tuple(p.strip() for p in parts.split(",") if p.strip())
    unknown = [p for p in chosen if p not in known]
    if unknown or not chosen:
        raise UserError(f"--parts: unknown part(s) {', '.join(unknown) or '(none given)'} (choose from {', '.join(known)})")
    check_folder(out, "--out")
    check_folder(runs, "--runs")
    if bench_results is not None and not bench_results.is_dir():
        raise UserError(f"--bench-results: {bench_results} is not a folder")
    scale = f"--budget {seconds:g}s" if profile == "budget" else "--profile full"
    command = f"neuralab report {scale} --out {out}" + ("" if reuse else " --no-reuse")
    if chosen != tuple(known):
        command += f" --parts {','.join(chosen)}"
    config = ReportConfig(out_dir=out, runs_root=runs, profile=profile.value, budget=seconds, reuse=reuse,
                          parts=chosen, command=command, bench_dir=bench_results or REFERENCE_RESULTS)
    report = build_report(config)
    for s in report.sections:
        status = f"FAILED: {s.reason}" if s.failed else "ok"
        given = f" of {s.share:5.0f}s" if s.share is not None else ""
        typer.echo(f"{s.number} {s.key:9s} {s.seconds:7.1f}s{given}  {status}")
    if report.written:
        typer.echo("wrote " + ", ".join(str(path) for path in report.written))
    else:
        typer.echo(f"every part failed: the report already in {out} was kept as it was")
    if report.pdf_problem:
        typer.echo(f"no PDF ({out / PDF}): {report.pdf_problem}")
    if any(s.failed for s in report.sections):
        raise typer.Exit(1)

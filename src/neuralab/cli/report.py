"""`neuralab report`: the main job, the whole assignment answered in one page."""

from __future__ import annotations

from pathlib import Path

import typer

from neuralab.cli.choices import Profile
from neuralab.core.errors import UserError
from neuralab.report.build import PARTS, ReportConfig, build_report


def report(
    profile: Profile = typer.Option("quick", help="quick: <= 10 min on 2 CPU cores for all parts; full: the assignment's own scale."),
    out: Path = typer.Option(Path("report"), help="Folder for index.html, index.md and assets/."),
    reuse: bool = typer.Option(True, "--reuse/--no-reuse", help="Reuse finished runs whose resolved config matches."),
    runs: Path = typer.Option(Path("runs"), help="Where runs are found and written."),
    parts: str = typer.Option(",".join(p for p, _, _ in PARTS), help="Comma-separated parts to include."),
    bench_results: Path = typer.Option(Path("docs/results"), help="Benchmark JSON outputs to quote (skipped if absent)."),
) -> None:
    """Run (or reuse) every part and write one self-contained HTML page plus Markdown."""
    profile = profile.value
    known = [p for p, _, _ in PARTS]
    chosen = tuple(p.strip() for p in parts.split(",") if p.strip())
    unknown = [p for p in chosen if p not in known]
    if unknown or not chosen:
        raise UserError(f"--parts: unknown part(s) {', '.join(unknown) or '(none given)'} (choose from {', '.join(known)})")
    if out.exists() and not out.is_dir():
        raise UserError(f"--out: {out} exists and is not a folder")
    command = f"neuralab report --profile {profile} --out {out}" + ("" if reuse else " --no-reuse")
    config = ReportConfig(out_dir=out, runs_root=runs, profile=profile, reuse=reuse, parts=chosen, command=command,
                          bench_dir=bench_results if bench_results.is_dir() else None)
    sections = build_report(config)
    for s in sections:
        status = f"FAILED: {s.reason}" if s.failed else "ok"
        typer.echo(f"{s.number} {s.key:9s} {s.seconds:7.1f}s  {status}")
    typer.echo(f"wrote {out / 'index.html'} and {out / 'index.md'}")
    if any(s.failed for s in sections):
        raise typer.Exit(1)

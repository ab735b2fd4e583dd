"""The project's reference results in the report: result files written by `bench/` with their
provenance and shipped with neuralab (`core.provenance.REFERENCE_RESULTS`). A section quotes one
beside the figures of the run it has just made, naming where it came from, so a reader always
knows which figures are this run's and which are the project's saved full-scale ones."""

from __future__ import annotations

import json
from pathlib import Path

from neuralab.core.errors import UserError
from neuralab.core.provenance import device_name


def load_result(bench_dir: Path | None, relative: str) -> dict | None:
    """The result file `bench_dir/relative`, or None when there is no such file (or no folder)."""
    if bench_dir is None or not (bench_dir / relative).is_file():
        return None
    path = bench_dir / relative
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise UserError(f"{path}: not readable result JSON ({e})") from None


def load_results(bench_dir: Path | None, pattern: str) -> list[dict]:
    """Every result file under `bench_dir` that matches the glob `pattern`, in order of name."""
    if bench_dir is None:
        return []
    return [load_result(bench_dir, str(path.relative_to(bench_dir))) for path in sorted(bench_dir.glob(pattern))]


def provenance_note(record: dict) -> str:
    """'measured by `command` on 2026-12-01, CPU (2 cores), torch 2.13.0, commit abc1234' for a result
    file, whose provenance is at its top level or under "provenance": the one way the docs and the report
    say where a figure came from."""
    where = record.get("provenance", record)
    if "machine" not in where and "date" not in where:
        return (f"measured by `{where.get('command', 'an unrecorded command')}` (the file predates the provenance "
                "record: it names no date, machine or commit)")
    machine = where.get("machine") or {}
    device = device_name(machine)
    commit = str(where.get("commit") or "not recorded")[:7]
    dirty = " (uncommitted changes)" if where.get("uncommitted_changes") else ""
    return (f"measured by `{where.get('command', 'an unrecorded command')}` on {str(where.get('date', '?'))[:10]}, "
            f"{device}, torch {machine.get('torch', '?')}, commit {commit}{dirty}")


def measured_sentence(record: dict) -> str:
    """`provenance_note` as a sentence of its own, under a table."""
    note = provenance_note(record)
    return note[0].upper() + note[1:] + "."


def reference_paragraph(title: str, lines: list[str], record: dict) -> str:
    """A labelled block: the project's figures (`lines`, Markdown) and where they came from."""
    return "\n".join([f"**The project's reference results: {title}** (saved with neuralab, not this run; "
                      f"{provenance_note(record)}):", "", *lines])

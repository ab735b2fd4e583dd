"""Test helpers: run the CLI in-process, the way `neuralab` runs it (one-line errors, exit 2)."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import sys
from dataclasses import dataclass
from pathlib import Path

from neuralab.cli import main
from neuralab.report.pdf import CHROMIUM_ARGS  # noqa: F401  (the browser tests launch it as the report prints)

BENCH = Path(__file__).resolve().parent.parent / "bench"
CHROMIUM = "/usr/bin/chromium"  # Debian's package; Playwright cannot download a browser here


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(args: list[str]) -> CliResult:
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(args)
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return CliResult(code, out.getvalue(), err.getvalue())


def bench_module(name: str):
    """bench/<name>.py as a module; bench/ is on the path while it loads (a bench may import another)."""
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCH))
    return module

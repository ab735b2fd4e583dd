"""Test helpers: run the CLI in-process, the way `neuralab` runs it (one-line errors, exit 2)."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

from neuralab.cli import main

CHROMIUM = "/usr/bin/chromium"  # Debian's package; Playwright cannot download a browser here
# headless, and no background connections: this machine's network is closed
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


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

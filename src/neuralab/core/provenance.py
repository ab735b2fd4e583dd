"""Where a figure came from: the command, the date, the machine and the code, for every result file."""

from __future__ import annotations

import datetime
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path

import torch

# The project's own result files, written by bench/ with their provenance and shipped in the package,
# so the report quotes the same reference figures from any working folder.
REFERENCE_RESULTS = Path(__file__).resolve().parent.parent / "results"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git(*args: str) -> str:
    try:
        out = subprocess.run(["git", *args], capture_output=True, text=True, timeout=10,
                             cwd=Path(__file__).resolve().parent)
        return out.stdout.strip() if out.returncode == 0 else ""
    except (OSError, subprocess.TimeoutExpired):
        return ""


def machine() -> dict:
    """CPU model, cores, GPU (if any) and torch version."""
    return {"cpu": _cpu_model(), "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
            "torch": torch.__version__, "python": platform.python_version()}


def device_name(where: dict) -> str:
    """The GPU if there was one, else 'CPU model (N cores)', for a `machine()` record."""
    return where.get("gpu") or f"{where.get('cpu', 'an unnamed CPU')} ({where.get('cores', '?')} cores)"


SCHEMA = 1   # the result files' layout version; files written before it existed hold none


def provenance(argv: list[str] | None = None) -> dict:
    """The record every result file carries: command, UTC date, machine and git commit."""
    argv = sys.argv if argv is None else argv
    commit = _git("rev-parse", "HEAD")
    dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
    return {"schema": SCHEMA, "command": "python " + shlex.join(argv),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "machine": machine(), "commit": commit or None, "uncommitted_changes": dirty}

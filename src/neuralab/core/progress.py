"""Progress bars: rich on a terminal, plain log lines otherwise (CI logs, pipes, the report).

Bars nest: inside `live()` (the report's per-part display) every `bar()` becomes one more task
line of the same rich display, since rich allows one live display at a time.
"""

from __future__ import annotations

import logging
import sys
import time
from contextlib import contextmanager
from typing import Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

log = logging.getLogger(__name__)
_active: Progress | None = None


class Bar:
    """One task of work with a known total; `advance` takes optional named figures to show."""

    def __init__(self, progress: Progress | None, task, description: str, total: int):
        self._progress, self._task = progress, task
        self.description, self.total, self.done = description, total, 0
        self._last_line = time.monotonic()

    def advance(self, n: int = 1, **figures: float) -> None:
        self.done += n
        shown = "  ".join(f"{k} {v:.4f}" for k, v in figures.items())
        if self._progress is not None:
            self._progress.update(self._task, advance=n, figures=shown)
        elif time.monotonic() - self._last_line > 10 or self.done == self.total:
            self._last_line = time.monotonic()
            log.info("%s %d/%d %s", self.description, self.done, self.total, shown)


def is_terminal() -> bool:
    return sys.stderr.isatty()


def _new_progress(transient: bool) -> Progress:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeRemainingColumn(), TextColumn("{task.fields[figures]}"))
    return Progress(*columns, console=Console(stderr=True), transient=transient)


@contextmanager
def live() -> Iterator[None]:
    """One rich display that every `bar()` opened inside it joins (no-op when not a terminal)."""
    global _active
    if not is_terminal() or _active is not None:
        yield
        return
    with _new_progress(transient=False) as progress:
        _active = progress
        try:
            yield
        finally:
            _active = None


@contextmanager
def bar(description: str, total: int) -> Iterator[Bar]:
    """A progress bar with ETA on a terminal; a plain line every 10 s otherwise."""
    if not is_terminal():
        yield Bar(None, None, description, total)
        return
    if _active is not None:
        task = _active.add_task(description, total=total, figures="")
        try:
            yield Bar(_active, task, description, total)
        finally:
            _active.remove_task(task)
        return
    with _new_progress(transient=True) as progress:
        task = progress.add_task(description, total=total, figures="")
        yield Bar(progress, task, description, total)

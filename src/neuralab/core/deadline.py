"""A deadline for work that must answer in bounded time (a web request reading a picture).

The code that serves a request sets it (`within`); long-running steps call `check` between
their stages, and past the deadline the work stops with `TooSlow`, a `UserError` whose message
names the input. Outside `within` (the CLI), `check` does nothing.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from typing import Iterator

from neuralab.core.errors import UserError

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("deadline", default=None)


class TooSlow(UserError):
    """The input needs more work than its deadline allows."""


@contextlib.contextmanager
def within(seconds: float) -> Iterator[None]:
    """Work in this block must finish within `seconds` (monotonic clock)."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def check(where: str) -> None:
    """Stop with TooSlow if the current deadline has passed."""
    deadline = _deadline.get()
    if deadline is not None and time.monotonic() > deadline:
        raise TooSlow(f"{where}: not read in the time allowed; try a smaller or plainer picture")

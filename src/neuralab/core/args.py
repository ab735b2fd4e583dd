"""What the `bench/` scripts share with each other about their flags: argparse types that refuse a
number outside its limits or an output file that could not be written, and a wrapper for a
script's `main` that turns a `UserError` into one line and exit code 2, as the CLI does.

The scripts use argparse (the CLI uses typer), so a bad flag there is argparse's usage error, also
exit code 2, before any work starts.
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path
from typing import Callable

from neuralab.core.errors import UserError
from neuralab.core.io import check_writable


def output_file(suffix: str) -> Callable[[str], Path]:
    """A `type=` for a flag naming an output file: `check_writable` at parse time, so a bad path is
    refused before minutes of work, not after them."""
    def parse(text: str) -> Path:
        try:
            return check_writable(text, suffix)
        except UserError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
    parse.__name__ = f"{suffix} file"
    return parse


def number_in(kind: type, low: float, high: float) -> Callable[[str], float]:
    """A `type=` for a number flag that must lie in low..high (`kind` is int or float)."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'an integer' if kind is int else 'a number'}") from None
        if not low <= value <= high:    # NaN fails this too
            raise argparse.ArgumentTypeError(f"{text} is outside {low:g}..{high:g}")
        return value
    parse.__name__ = kind.__name__
    return parse


def script_main(main: Callable) -> Callable:
    """For a bench script's `main`: a UserError (a bad file, or a number its config refuses) becomes
    `error: <message>` on stderr and exit code 2, never a traceback."""
    @functools.wraps(main)
    def run(*args, **kwargs):
        try:
            return main(*args, **kwargs)
        except UserError as error:
            print(f"error: {error}", file=sys.stderr)
            raise SystemExit(2) from None
    return run


def whole_numbers(most: int) -> Callable[[str], list[int]]:
    """A `type=` for a flag of comma-separated whole numbers (N values, seeds), at most `most` of
    them; each value's own limits are its config's to check."""
    def parse(text: str) -> list[int]:
        items = text.split(",")
        if len(items) > most or not all(item.strip().isdigit() for item in items):
            raise argparse.ArgumentTypeError(f"up to {most} comma-separated whole numbers, got {text!r}")
        return [int(item) for item in items]
    parse.__name__ = "numbers"
    return parse


def names_from(choices: tuple[str, ...]) -> Callable[[str], list[str]]:
    """A `type=` for a flag of comma-separated names, each one of `choices`."""
    def parse(text: str) -> list[str]:
        names = text.split(",")
        if unknown := [name for name in names if name not in choices]:
            raise argparse.ArgumentTypeError(f"unknown {', '.join(map(repr, unknown))} (choose from {', '.join(choices)})")
        return names
    parse.__name__ = "names"
    return parse

"""The `neuralab` command: a thin top level that only registers one sub-app per command group.

Errors for people: a `UserError` or a usage error (bad flag, bad value) becomes one line on stderr
and exit code 2, with no traceback.
"""

from __future__ import annotations

import logging
import os
import sys

import typer
from typer.exceptions import TyperException

from neuralab.core import dist
from neuralab.core.errors import UserError, one_line

app = typer.Typer(name="neuralab", no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False, rich_markup_mode=None,
                  help="neuralab: a classic neural-network assignment as tested, reproducible software.")


def _register() -> None:
    from neuralab.cli import (
        backprop,
        calc,
        caption,
        data,
        depth,
        exercise,
        filters,
        report,
        serve,
    )

    app.add_typer(data.app, name="data")
    app.command(name="backprop")(backprop.backprop)
    app.add_typer(depth.app, name="depth")
    app.add_typer(filters.app, name="filters")
    app.add_typer(caption.app, name="caption")
    app.add_typer(calc.app, name="calc")
    app.add_typer(exercise.app, name="exercise")
    app.command(name="report")(report.report)
    app.command(name="serve")(serve.serve)


_register()


def main(argv: list[str] | None = None) -> None:
    """Entry point: runs the app and turns bad input into one line and exit 2."""
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    command = typer.main.get_command(app)
    try:
        dist.setup()  # joins the process group under torchrun; nothing otherwise
        if not dist.is_main():
            sys.stdout = open(os.devnull, "w")  # one process prints the results
        rv = command.main(args=argv, prog_name="neuralab", standalone_mode=False)
        if rv == 130:   # typer turns Ctrl-C into the exit code 130
            print("interrupted", file=sys.stderr)
    except UserError as e:
        print(f"error: {one_line(str(e))}", file=sys.stderr)
        sys.exit(2)
    except TyperException as e:  # usage errors: unknown flag, bad value, missing argument
        ctx = getattr(e, "ctx", None)
        where = f" ({ctx.command_path})" if ctx is not None else ""
        print(f"error: {' '.join(e.format_message().split())}{where}", file=sys.stderr)
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    finally:
        dist.teardown()
    sys.exit(rv if isinstance(rv, int) else 0)

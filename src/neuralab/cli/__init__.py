"""The `neuralab` command: a thin top level that names one sub-app per command group and imports it when it runs.

Errors for people: a `UserError` or a usage error (bad flag, bad value) becomes one line on stderr
and exit code 2, with no traceback.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys

import typer
from typer.core import TyperCommand, TyperGroup
from typer.exceptions import TyperException
from typer.main import get_command_from_info, get_group_from_info
from typer.models import CommandInfo, TyperInfo

from neuralab.core import dist
from neuralab.core.errors import UserError, one_line

# name: (module, attribute). A command's module is imported only when that command runs, so
# `neuralab calc predict` starts without the plotting and symbolic-maths libraries other parts need.
COMMANDS = {
    "data": ("neuralab.cli.data", "app"),
    "backprop": ("neuralab.cli.backprop", "backprop"),
    "depth": ("neuralab.cli.depth", "app"),
    "filters": ("neuralab.cli.filters", "app"),
    "caption": ("neuralab.cli.caption", "app"),
    "calc": ("neuralab.cli.calc", "app"),
    "exercise": ("neuralab.cli.exercise", "app"),
    "report": ("neuralab.cli.report", "report"),
    "serve": ("neuralab.cli.serve", "serve"),
}


class LazyGroup(TyperGroup):
    """The top-level group: lists COMMANDS, and builds one (importing its module) when it is asked for."""

    def list_commands(self, ctx: typer.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: typer.Context, name: str) -> TyperCommand | TyperGroup | None:
        if name not in COMMANDS:
            return None
        if name not in self.commands:
            module, attribute = COMMANDS[name]
            target = getattr(importlib.import_module(module), attribute)
            shared = dict(pretty_exceptions_short=app.pretty_exceptions_short, rich_markup_mode=app.rich_markup_mode)
            if isinstance(target, typer.Typer):
                command = get_group_from_info(TyperInfo(target, name=name), suggest_commands=app.suggest_commands, **shared)
            else:
                command = get_command_from_info(CommandInfo(name=name, callback=target), **shared)
            self.add_command(command, name)
        return self.commands[name]


app = typer.Typer(name="neuralab", cls=LazyGroup, no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False, rich_markup_mode=None,
                  help="neuralab: a classic neural-network assignment as tested, reproducible software.")


@app.callback()
def _root() -> None:
    """Makes `neuralab` a group of the COMMANDS above (typer needs a callback for a group with none registered)."""


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

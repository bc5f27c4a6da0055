"""Entry point of the ``strongroom`` command."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from typer._click import exceptions as usage  # typer vendors click: its errors live here
from typer.core import TyperGroup

from strongroom import __version__
from strongroom.cli import (
    access_commands,
    admin_commands,
    backup_commands,
    data_commands,
    export_commands,
    lifecycle_commands,
    serve_command,
)
from strongroom.cli.output import EXIT_BAD_INPUT, report_error, report_problem
from strongroom.errors import StrongroomError


def _wants_json(args: Sequence[str]) -> bool:
    return "--json" in args


class StrongroomGroup(TyperGroup):
    """Maps every error, from any subcommand, to one line on stderr and an exit code:
    a StrongroomError to its own code, a usage error (unknown command or option, a missing
    argument) to 2; with --json each also prints one JSON error object on stdout."""

    def invoke(self, ctx: Any) -> Any:  # a click Context (typer vendors click)
        try:
            return super().invoke(ctx)
        except StrongroomError as error:
            raise typer.Exit(report_error(error, _wants_json(sys.argv[1:]))) from None

    def main(self, args: Sequence[str] | None = None, *pos: Any, **kwargs: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        kwargs["standalone_mode"] = False
        try:
            code = super().main(argv, *pos, **kwargs)
        except usage.NoArgsIsHelpError as help_wanted:
            help_wanted.show()  # a group named alone: its help, as the user asked
            sys.exit(EXIT_BAD_INPUT)
        except usage.UsageError as error:
            sys.exit(_usage_error(error, _wants_json(argv)))
        except usage.ClickException as error:  # e.g. an unreadable file argument
            sys.exit(
                report_problem("InvalidInput", error.format_message(), {}, error.exit_code, False)
            )
        except typer.Abort:
            sys.exit(report_problem("Aborted", "aborted", {}, 1, _wants_json(argv)))
        sys.exit(code if isinstance(code, int) else 0)


def _usage_error(error: usage.UsageError, as_json: bool) -> int:
    message = error.format_message().rstrip(".")
    message = message[:1].lower() + message[1:]
    where = error.ctx.command_path if error.ctx is not None else "strongroom"
    return report_problem(
        "UsageError", f"{message} (see: {where} --help)", {}, EXIT_BAD_INPUT, as_json
    )


def _version(show: bool) -> None:
    if show:
        typer.echo(f"strongroom {__version__}")
        raise typer.Exit()


def main(
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            help="Home folder for the command that follows (or STRONGROOM_HOME).",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Strongroom: custody of SaaS customer data, encrypted under a KMS-held key hierarchy."""
    if home is not None:
        # Every command reads its home from --home or STRONGROOM_HOME; a --home given
        # after the subcommand still wins over this one.
        os.environ["STRONGROOM_HOME"] = str(home)


app = typer.Typer(
    cls=StrongroomGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: no <bool> after flags, no boxes to wrap at 80 columns
)
app.callback()(main)
admin_commands.register(app)
data_commands.register(app)
access_commands.register(app)
lifecycle_commands.register(app)
export_commands.register(app)
serve_command.register(app)
backup_commands.register(app)


def run() -> None:
    app(prog_name="strongroom")


if __name__ == "__main__":
    run()

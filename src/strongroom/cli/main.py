"""Entry point of the ``strongroom`` command."""

from __future__ import annotations

import sys
from typing import Any

import typer
from typer.core import TyperGroup

from strongroom.cli import (
    access_commands,
    admin_commands,
    backup_commands,
    data_commands,
    export_commands,
    lifecycle_commands,
    serve_command,
)
from strongroom.cli.output import report_error
from strongroom.errors import StrongroomError


class StrongroomGroup(TyperGroup):
    """Maps every StrongroomError, from any subcommand, to a one-line message and exit code."""

    def invoke(self, ctx: Any) -> Any:  # a click Context (typer vendors click)
        try:
            return super().invoke(ctx)
        except StrongroomError as error:
            as_json = "--json" in sys.argv[1:] or "--json" in (ctx.obj or ())
            raise typer.Exit(report_error(error, as_json)) from None


app = typer.Typer(
    cls=StrongroomGroup,
    help="Strongroom: custody of SaaS customer data, encrypted under a KMS-held key hierarchy.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
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

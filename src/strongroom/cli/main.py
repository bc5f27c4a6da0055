"""Entry point of the ``strongroom`` command: the root options, and every command group
put together in the order ``strongroom --help`` lists them.

``strongroom X …`` lives in ``cli/commands/X.py``; the pieces every command shares are
beside this module: ``options`` (``--home``, ``--json``, opening the home), ``output``
(people's rendering and ``--json``) and ``exit_codes`` (errors to exit codes).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from strongroom.cli.commands import (
    audit,
    backup,
    billing,
    certificate,
    collection,
    demo,
    export,
    file,
    hold,
    init,
    keys,
    lifecycle,
    privacy,
    project,
    record,
    serve,
    token,
    trash,
    user,
    worker,
    workspace,
)
from strongroom.cli.exit_codes import StrongroomGroup
from strongroom.version import __version__


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

# Single commands first, then the groups: the order of `strongroom --help`.
app.command("init")(init.init)
app.command("demo")(demo.demo_command)
app.command("worker")(worker.worker)
app.command("serve")(serve.serve)
for name, group in (
    ("keys", keys.app),
    ("audit", audit.app),
    ("workspace", workspace.app),
    ("project", project.app),
    ("collection", collection.app),
    ("record", record.app),
    ("file", file.app),
    ("token", token.app),
    ("user", user.app),
    ("trash", trash.app),
    ("billing", billing.app),
    ("hold", hold.app),
    ("lifecycle", lifecycle.app),
    ("certificate", certificate.app),
    ("export", export.app),
    ("backup", backup.app),
    ("privacy", privacy.app),
):
    app.add_typer(group, name=name)


def run() -> None:
    app(prog_name="strongroom")


if __name__ == "__main__":
    run()

"""Entry point of the ``strongroom`` command: the root options, and every command group
put together in the order ``strongroom --help`` lists them.

``strongroom X …`` lives in ``cli/commands/X.py``; the pieces every command shares are
beside this module: ``options`` (``--home``, ``--json``, opening the home), ``output``
(people's rendering and ``--json``) and ``exit_codes`` (errors to exit codes).

A command's module is imported only when that command runs (``--help`` imports them all to
list them): ``strongroom file put`` pays for the file commands and what they use, not for
the modules of backup, export or the server.
"""

from __future__ import annotations

import gc
import importlib
import os
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Annotated, Any

import typer
from typer._click import Command  # typer vendors click: its Command lives here
from typer.core import TyperGroup

from strongroom.cli.exit_codes import StrongroomGroup
from strongroom.version import __version__

#: Every command, in the order of ``strongroom --help`` (single commands first, then the
#: groups): what ``cli/commands/<name>.py`` holds it as, a command's function or a group's
#: Typer ``app``.
COMMANDS: dict[str, str] = {
    "init": "init",
    "demo": "demo_command",
    "worker": "worker",
    "serve": "serve",
    "keys": "app",
    "audit": "app",
    "workspace": "app",
    "project": "app",
    "collection": "app",
    "record": "app",
    "file": "app",
    "token": "app",
    "user": "app",
    "operator": "app",
    "grant": "app",
    "trash": "app",
    "billing": "app",
    "hold": "app",
    "lifecycle": "app",
    "certificate": "app",
    "export": "app",
    "backup": "app",
    "privacy": "app",
    "inbox": "app",
    "promises": "app",
    "agreement": "app",
    "subprocessor": "app",
}


def _typer(**options: Any) -> typer.Typer:
    """A Typer with the settings every part of the command line shares."""
    return typer.Typer(
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,  # plain help: no <bool> after flags, no boxes to wrap at 80 columns
        **options,
    )


def _build(name: str) -> Command:
    """Import ``cli/commands/<name>.py`` and make its command, as if it had been added to
    the root Typer (``add_typer`` for a group, ``command`` for a single command)."""
    part = getattr(importlib.import_module(f"strongroom.cli.commands.{name}"), COMMANDS[name])
    holder = _typer()
    if not isinstance(part, typer.Typer):
        holder.command(name)(part)
        return typer.main.get_command(holder)  # a Typer of one command is that command
    holder.add_typer(part, name=name)
    group = typer.main.get_command(holder)
    assert isinstance(group, TyperGroup)
    return group.commands[name]


class _Commands(MutableMapping[str, Command]):
    """The root's commands by name, each made by :func:`_build` when first looked up."""

    def __init__(self) -> None:
        self._made: dict[str, Command | None] = dict.fromkeys(COMMANDS)

    def __getitem__(self, name: str) -> Command:
        made = self._made[name]  # KeyError: no such command
        if made is None:
            made = self._made[name] = _build(name)
        return made

    def __setitem__(self, name: str, command: Command) -> None:
        self._made[name] = command

    def __delitem__(self, name: str) -> None:
        del self._made[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._made)

    def __len__(self) -> int:
        return len(self._made)


class _Root(StrongroomGroup):
    """The ``strongroom`` group: its commands come from :data:`COMMANDS` on first use."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _Commands()


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
    _start_up_done()
    if home is not None:
        # Every command reads its home from --home or STRONGROOM_HOME; a --home given
        # after the subcommand still wins over this one.
        os.environ["STRONGROOM_HOME"] = str(home)


app = _typer(cls=_Root, no_args_is_help=True)
app.callback()(main)


# The cycle collector at start-up and exit. Before a command runs, its process imports some
# thousand classes and functions, and makes as many objects again, nearly all of which live
# until it exits: the collector, run over and over as they are made (and once more over all
# of them at exit), finds no garbage among them yet cost a quarter of a small command's
# time. So `run` turns it off; once the command is found and its modules imported (the root
# callback runs then), what exists is frozen (never scanned again) and the collector is back
# on for the command's own work (a server or worker runs for days); at exit, all is frozen
# again. Nothing of the command's depends on the collector at exit: files and databases
# are closed (and fsynced) by the command itself, and the standard streams are flushed.
_collector_paused = False


def _start_up_done() -> None:
    global _collector_paused
    if _collector_paused:
        gc.freeze()
        gc.enable()
        _collector_paused = False


def run() -> None:
    global _collector_paused
    gc.disable()
    _collector_paused = True
    try:
        app(prog_name="strongroom")
    finally:
        gc.freeze()


if __name__ == "__main__":
    run()

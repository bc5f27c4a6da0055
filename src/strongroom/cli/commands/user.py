"""``strongroom user``: set a user's password for signing in."""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer

from strongroom.cli.options import ACTOR, DEFAULT_HOME, Home, Json, open_home
from strongroom.cli.output import emit

app = typer.Typer(help="Users: passwords for signing in.", no_args_is_help=True)


@app.command("set-password")
def user_set_password(
    email: str,
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read the password from stdin instead of a prompt."),
    ] = False,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Set a user's password (never taken on the command line)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("new password: ")
    with open_home(home) as sr:
        sr.access.set_password(email, password, actor=ACTOR)
    emit(json, {"ok": True}, "password set")

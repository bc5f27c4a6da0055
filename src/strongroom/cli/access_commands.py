"""Commands for access: API tokens, operator tokens, user passwords."""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer

from strongroom.cli.common import ACTOR, DEFAULT_HOME, Home, Json, open_home
from strongroom.cli.output import emit, listing, when
from strongroom.errors import InvalidInput

token_app = typer.Typer(help="API tokens: shown once, stored as a hash.", no_args_is_help=True)
user_app = typer.Typer(help="Users: passwords for signing in.", no_args_is_help=True)

ExpiresDays = Annotated[int, typer.Option("--expires-days", min=1, max=3650, help="Lifetime.")]


def register(app: typer.Typer) -> None:
    app.add_typer(token_app, name="token")
    app.add_typer(user_app, name="user")


@token_app.command("create")
def token_create(
    workspace: Annotated[str | None, typer.Option(help="The token's one workspace.")] = None,
    role: Annotated[str | None, typer.Option(help="owner, admin, member or viewer.")] = None,
    operator: Annotated[
        bool,
        typer.Option("--operator", help="An operator token: keys and status, never customer data."),
    ] = False,
    expires_days: ExpiresDays = 90,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Issue a token for one workspace and role (or an operator token); printed once."""
    if operator == bool(workspace or role):
        raise InvalidInput("give --workspace and --role, or --operator alone")
    if not operator and not (workspace and role):
        raise InvalidInput("a workspace token needs both --workspace and --role")
    with open_home(home) as sr:
        if operator:
            issued = sr.access.create_operator_token(expires_days, actor=ACTOR)
        else:
            assert workspace and role
            issued = sr.access.create_token(workspace, role, expires_days, actor=ACTOR)
    emit(
        json,
        {"id": issued.id, "token": issued.token, "expires_at": issued.expires_at},
        f"{issued.token}\n(token {issued.id}; shown once; expires {when(issued.expires_at)})",
    )


@token_app.command("list")
def token_list(workspace: str, home: Home = DEFAULT_HOME, json: Json = False) -> None:
    """The tokens of a workspace (never their secrets)."""
    with open_home(home) as sr:
        rows = sr.access.tokens(workspace)
    tokens = [
        {
            "id": t.id,
            "role": t.role,
            "created_at": t.created_at,
            "expires_at": t.expires_at,
            "revoked_at": t.revoked_at,
        }
        for t in rows
    ]
    emit(json, {"tokens": tokens}, lambda: listing(tokens, "token"))


@token_app.command("revoke")
def token_revoke(token_id: str, home: Home = DEFAULT_HOME, json: Json = False) -> None:
    """Revoke a token; it stops working at once."""
    with open_home(home) as sr:
        sr.access.revoke(token_id, actor=ACTOR)
    emit(json, {"id": token_id, "revoked": True}, f"revoked {token_id}")


@user_app.command("set-password")
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

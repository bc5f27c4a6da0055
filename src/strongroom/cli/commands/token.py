"""``strongroom token``: issue, list and revoke API tokens and operator tokens."""

from __future__ import annotations

from typing import Annotated

import typer

from strongroom.cli.options import ACTOR, DEFAULT_HOME, Home, Json, open_home
from strongroom.cli.output import emit, listing, when
from strongroom.errors import InvalidInput

app = typer.Typer(help="API tokens: shown once, stored as a hash.", no_args_is_help=True)


ExpiresDays = Annotated[int, typer.Option("--expires-days", min=1, max=3650, help="Lifetime.")]


@app.command("create")
def token_create(
    workspace: Annotated[str | None, typer.Option(help="The token's one workspace.")] = None,
    role: Annotated[str | None, typer.Option(help="owner, admin, member or viewer.")] = None,
    operator: Annotated[
        bool,
        typer.Option("--operator", help="An operator token: keys and status, never customer data."),
    ] = False,
    operator_email: Annotated[
        str | None,
        typer.Option(
            "--operator-email",
            help="With --operator: the operator (strongroom operator add) it is issued to.",
        ),
    ] = None,
    expires_days: ExpiresDays = 90,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Issue a token for one workspace and role (or an operator token); printed once."""
    if operator_email is not None and not operator:
        raise InvalidInput("--operator-email goes with --operator")
    if operator == bool(workspace or role):
        raise InvalidInput("give --workspace and --role, or --operator alone")
    if not operator and not (workspace and role):
        raise InvalidInput("a workspace token needs both --workspace and --role")
    with open_home(home) as sr:
        if operator:
            person = None if operator_email is None else sr.staff.get(operator_email).id
            issued = sr.access.create_operator_token(expires_days, actor=ACTOR, operator_id=person)
        else:
            assert workspace and role
            issued = sr.access.create_token(workspace, role, expires_days, actor=ACTOR)
    emit(
        json,
        {"id": issued.id, "token": issued.token, "expires_at": issued.expires_at},
        f"{issued.token}\n(token {issued.id}; shown once; expires {when(issued.expires_at)})",
    )


@app.command("list")
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


@app.command("revoke")
def token_revoke(token_id: str, home: Home = DEFAULT_HOME, json: Json = False) -> None:
    """Revoke a token; it stops working at once."""
    with open_home(home) as sr:
        sr.access.revoke(token_id, actor=ACTOR)
    emit(json, {"id": token_id, "revoked": True}, f"revoked {token_id}")

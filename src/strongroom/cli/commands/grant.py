"""``strongroom grant``: break-glass grants, asked for by an operator, decided by a
workspace's owner (named with --email: the CLI acts for them), read-only and time-bound
(docs/break-glass.md)."""

from __future__ import annotations

from typing import Annotated

import typer

from strongroom.cli.options import ACTOR, DEFAULT_HOME, Home, Json, open_home
from strongroom.cli.output import emit, listing, when
from strongroom.domain.grants import Decision
from strongroom.services.grants import GrantView

app = typer.Typer(
    help="Break-glass grants: staff read access the customer sees.", no_args_is_help=True
)

Workspace = Annotated[str, typer.Argument(help="The workspace's id.")]
GrantId = Annotated[str, typer.Argument(help="The grant's id (grt_…).")]
OwnerEmail = Annotated[
    str, typer.Option("--email", help="The deciding owner's email (the CLI acts for them).")
]


def _said(grant: GrantView) -> str:
    until = f", until {when(grant.expires_at)}" if grant.expires_at else ""
    return f"grant {grant.id}: {grant.status.value}{until}"


@app.command("request")
def grant_request(
    workspace: Workspace,
    operator: Annotated[str, typer.Option("--operator", help="The asking operator's email.")],
    reason: Annotated[str, typer.Option("--reason", help="Why they need to look.")],
    ticket: Annotated[str, typer.Option("--ticket", help="The support ticket it serves.")],
    hours: Annotated[int, typer.Option("--hours", help="How long: at most grant_max_hours.")],
    project: Annotated[
        str | None, typer.Option("--project", help="Only this project (default: all).")
    ] = None,
    emergency: Annotated[
        bool,
        typer.Option(
            "--emergency",
            help="Self-approve now (only where grant_self_approval is on; mails the owners).",
        ),
    ] = False,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Ask for read access to a workspace (or one project), for a reason and a ticket."""
    with open_home(home) as sr:
        grant = sr.grants.request(
            workspace, operator, reason, ticket, hours, project, emergency, actor=ACTOR
        )
    emit(json, {"id": grant.id, "status": grant.status.value}, _said(grant))


def _decide(
    decision: Decision, workspace: str, grant_id: str, email: str, json: bool, home: Home
) -> None:
    with open_home(home) as sr:
        grant = sr.grants.decide_as(workspace, grant_id, decision, email, actor=ACTOR)
    emit(json, grant.as_json(), _said(grant))


@app.command("approve")
def grant_approve(
    workspace: Workspace,
    grant: GrantId,
    email: OwnerEmail,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Approve a pending grant as an owner: its hours start now."""
    _decide(Decision.APPROVE, workspace, grant, email, json, home)


@app.command("refuse")
def grant_refuse(
    workspace: Workspace,
    grant: GrantId,
    email: OwnerEmail,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Refuse a pending grant as an owner."""
    _decide(Decision.REFUSE, workspace, grant, email, json, home)


@app.command("revoke")
def grant_revoke(
    workspace: Workspace,
    grant: GrantId,
    email: OwnerEmail,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """End a grant now, as an owner: its token stops working at the next request."""
    _decide(Decision.REVOKE, workspace, grant, email, json, home)


@app.command("list")
def grant_list(workspace: Workspace, home: Home = DEFAULT_HOME, json: Json = False) -> None:
    """A workspace's grants, newest first: pending, active and ended."""
    with open_home(home) as sr:
        grants = [g.as_json() for g in sr.grants.list(workspace, actor=ACTOR)]
    rows = [
        {
            "id": g["id"],
            "status": g["status"],
            "operator": g["operator"]["email"],
            "ticket": g["ticket"],
            "project": g["project_id"] or "all",
            "expires_at": g["expires_at"],
            "reads": g["read_count"],
        }
        for g in grants
    ]
    emit(json, {"grants": grants}, lambda: listing(rows, "grant"))


@app.command("show")
def grant_show(
    workspace: Workspace, grant: GrantId, home: Home = DEFAULT_HOME, json: Json = False
) -> None:
    """One grant, with every read it made."""
    with open_home(home) as sr:
        view = sr.grants.get(workspace, grant, actor=ACTOR)
    emit(json, view.as_json(with_reads=True))


@app.command("token")
def grant_token(grant: GrantId, home: Home = DEFAULT_HOME, json: Json = False) -> None:
    """The grant's read-only token, for the operator: shown once, only while it is active."""
    with open_home(home) as sr:
        view, issued = sr.grants.issue_token(grant, actor=ACTOR)
    emit(
        json,
        {"grant_id": view.id, "token": issued.token, "expires_at": issued.expires_at},
        f"{issued.token}\n(grant {view.id}; shown once; expires {when(issued.expires_at)})",
    )

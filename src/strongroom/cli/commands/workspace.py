"""``strongroom workspace``: create, list and show workspaces, add members, delete one."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from strongroom.bootstrap import Strongroom
from strongroom.cli.options import ACTOR, DEFAULT_HOME, Home, Json, open_home
from strongroom.cli.output import emit, listing, show
from strongroom.domain.lifecycle import DeadlineAction
from strongroom.domain.model import WorkspaceState

app = typer.Typer(help="Workspaces (customers) and their members.", no_args_is_help=True)


@app.command("create")
def workspace_create(
    name: str,
    owner: Annotated[str, typer.Option("--owner", help="Email of the owner.")],
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Create a workspace with its keys and an owner."""
    with open_home(home) as sr:
        ws = sr.workspaces.create(name, owner, actor=ACTOR)
    emit(json, {"id": ws.id, "state": ws.state.value}, f"created workspace {ws.id}")


@app.command("list")
def workspace_list(home: Home = DEFAULT_HOME, json: Json = False) -> None:
    """List workspaces."""
    with open_home(home) as sr:
        items = sr.workspaces.list(actor=ACTOR)
    rows = [
        {"id": w.id, "name": w.name, "state": w.state.value, "created_at": w.created_at}
        for w in items
    ]
    emit(json, {"workspaces": rows}, lambda: listing(rows, "workspace"))


@app.command("show")
def workspace_show(workspace_id: str, home: Home = DEFAULT_HOME, json: Json = False) -> None:
    """Show a workspace: its plan state and deadlines, holds, members and projects. A
    deleted workspace whose purge waits (a legal hold) shows its state, holds and due time."""
    with open_home(home) as sr:
        plan = sr.plans.status(workspace_id, closed_too=True)
        if plan.state == WorkspaceState.CLOSED:
            data: dict[str, Any] = {"id": workspace_id, **plan.as_json()}
        else:
            data = _workspace_details(sr, workspace_id, plan.as_json())
    data.pop("workspace_id", None)
    emit(json, data, lambda: show(data))


def _workspace_details(sr: Strongroom, workspace_id: str, plan: dict[str, Any]) -> dict[str, Any]:
    ws = sr.workspaces.get(workspace_id, actor=ACTOR)
    members = sr.workspaces.members(workspace_id, actor=ACTOR)
    projects = sr.projects.list(workspace_id, actor=ACTOR)
    trash = sr.trash.list(workspace_id).items
    return {
        "id": ws.id,
        "name": ws.name,
        "created_at": ws.created_at,
        **plan,
        "trash_deadlines": [
            {
                "entry_id": e.id,
                "kind": e.kind.value,
                "subject_id": e.subject_id,
                "restore_until": e.restore_until,
            }
            for e in trash
        ],
        "members": [
            {"user_id": m.user_id, "email": m.email, "role": m.role.value} for m in members
        ],
        "projects": [{"id": p.id, "name": p.name} for p in projects],
    }


@app.command("add-member")
def workspace_add_member(
    workspace_id: str,
    email: str,
    role: Annotated[str, typer.Option("--role", help="owner, admin, member or viewer")] = "member",
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Add a member with a role."""
    with open_home(home) as sr:
        member = sr.workspaces.add_member(workspace_id, email, role, actor=ACTOR)
    emit(
        json,
        {"user_id": member.user_id, "role": member.role.value},
        f"added {member.user_id} as {member.role.value}",
    )


@app.command("delete")
def workspace_delete(
    workspace_id: str,
    confirm: Annotated[
        str, typer.Option("--confirm", help="The workspace's name, typed back.", show_default=False)
    ],
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Delete a whole workspace: closed at once (every token revoked), purged by the next
    worker pass, which this command runs."""
    with open_home(home) as sr:
        sr.plans.delete_workspace(workspace_id, confirm, actor=ACTOR)
        due = [
            s
            for s in sr.plans.scheduled(workspace_id=workspace_id)
            if s.action == DeadlineAction.PURGE_WORKSPACE
        ]
        report = sr.worker.run_once(only=due[0].deadline_id) if due else None
        purged = bool(report and report.done)
        held = bool(report and report.held)
    if purged:
        outcome = "; purged"
    elif held:
        outcome = "; its purge waits for the legal hold to be cleared"
    else:
        outcome = "; its purge runs on the next worker pass"
    emit(
        json,
        {"workspace_id": workspace_id, "closed": True, "purged": purged},
        f"deleted workspace {workspace_id}{outcome}",
    )

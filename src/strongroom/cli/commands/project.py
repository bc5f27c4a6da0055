"""``strongroom project``: create and list projects, move one to the trash and back."""

from __future__ import annotations

import typer

from strongroom.cli.options import ACTOR, DEFAULT_HOME, Home, Json, open_home
from strongroom.cli.output import emit, listing
from strongroom.cli.trashing import emit_deleted, emit_restored, restore_by_subject
from strongroom.domain.lifecycle import TrashKind

app = typer.Typer(help="Projects: containers of records and files.", no_args_is_help=True)


@app.command("create")
def project_create(
    workspace_id: str, name: str, home: Home = DEFAULT_HOME, json: Json = False
) -> None:
    """Create a project with its own data key."""
    with open_home(home) as sr:
        project = sr.projects.create(workspace_id, name, actor=ACTOR)
    emit(json, {"id": project.id}, f"created project {project.id}")


@app.command("list")
def project_list(workspace_id: str, home: Home = DEFAULT_HOME, json: Json = False) -> None:
    """List the projects of a workspace."""
    with open_home(home) as sr:
        items = sr.projects.list(workspace_id, actor=ACTOR)
    rows = [{"id": p.id, "name": p.name, "created_at": p.created_at} for p in items]
    emit(json, {"projects": rows}, lambda: listing(rows, "project"))


@app.command("delete")
def project_delete(
    workspace_id: str, project_id: str, home: Home = DEFAULT_HOME, json: Json = False
) -> None:
    """Move a project, with its records and files, to the trash."""
    with open_home(home) as sr:
        emit_deleted(json, sr.projects.delete(workspace_id, project_id, actor=ACTOR))


@app.command("restore")
def project_restore(
    workspace_id: str, project_id: str, home: Home = DEFAULT_HOME, json: Json = False
) -> None:
    """Bring a project back from the trash, with exactly what its deletion took."""
    with open_home(home) as sr:
        emit_restored(json, restore_by_subject(sr, workspace_id, TrashKind.PROJECT, project_id))

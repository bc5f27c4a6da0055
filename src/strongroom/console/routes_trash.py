"""The trash: who deleted what and when, days left, restore; owners delete forever.

The same services as the API's trash routes (api/routes_lifecycle.py): restoring needs
``write_data`` and the service applies the rest (members restore only what they deleted);
deleting forever needs ``purge_trash`` and the entry's name typed, which the server checks
too."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Path, Query
from starlette.responses import HTMLResponse, Response

from strongroom.console.visit import DataWriter, Reader, TrashPurger, Visit
from strongroom.domain.lifecycle import TrashKind, may_restore
from strongroom.ids import pattern
from strongroom.services.trash import TrashEntry

router = APIRouter()

PAGE = 50
TrashId = Annotated[str, Path(pattern=pattern("trash"))]
TrashCursor = Annotated[str | None, Query(pattern=pattern("trash"))]


@dataclass(frozen=True)
class Shown:
    """A trash entry as the page says it: its name, its project's, who deleted it."""

    entry: TrashEntry
    name: str
    project: str
    who: str
    restorable: bool


@router.get("/w/{workspace_id}/trash", response_class=HTMLResponse)
def trash(visit: Reader, cursor: TrashCursor = None) -> Response:
    assert visit.workspace_id is not None
    page = visit.sr.trash.list(visit.workspace_id, cursor, PAGE)
    return visit.render(
        "trash.html",
        entries=_shown(visit, page.items),
        cursor=cursor,
        next_cursor=page.next_cursor,
        now=visit.sr.ctx.clock.now(),
    )


@router.post("/w/{workspace_id}/trash/{trash_id}/restore", response_class=HTMLResponse)
def restore(visit: DataWriter, trash_id: TrashId) -> Response:
    assert visit.workspace_id is not None
    entry = visit.sr.trash.restore(visit.workspace_id, trash_id, visit.actor, role=visit.role)
    shown = _shown(visit, [entry])[0]
    return visit.redirect(visit.url("/trash"), flash=f"Restored the {entry.kind} {shown.name}.")


@router.get("/w/{workspace_id}/trash/{trash_id}/purge", response_class=HTMLResponse)
def confirm_purge(visit: TrashPurger, trash_id: TrashId) -> Response:
    return _purge_page(visit, _one(visit, trash_id))


@router.post("/w/{workspace_id}/trash/{trash_id}/purge", response_class=HTMLResponse)
def purge(
    visit: TrashPurger,
    trash_id: TrashId,
    confirm_name: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Delete an entry forever, now (its purge becomes due; the worker runs it), once its
    name is typed exactly."""
    assert visit.workspace_id is not None
    shown = _one(visit, trash_id)
    if confirm_name != shown.name:
        error = f"Type the name {shown.name} exactly to delete it forever."
        return _purge_page(visit, shown, confirm_name, error, status=422)
    visit.sr.trash.purge_now(visit.workspace_id, trash_id, visit.actor)
    return visit.redirect(
        visit.url("/trash"),
        flash=f"The {shown.entry.kind} {shown.name} is being deleted forever; it cannot come back.",
    )


def _purge_page(
    visit: Visit, shown: Shown, typed: str = "", error: str | None = None, status: int = 200
) -> Response:
    now = visit.sr.ctx.clock.now()
    return visit.render("trash_purge.html", status, e=shown, typed=typed, error=error, now=now)


def _one(visit: Visit, trash_id: str) -> Shown:
    assert visit.workspace_id is not None
    return _shown(visit, [visit.sr.trash.get(visit.workspace_id, trash_id)])[0]


def _shown(visit: Visit, entries: list[TrashEntry]) -> list[Shown]:
    """Names for the entries: projects' and files' decrypted (live or in the trash), a
    record by its id; who deleted each, by email when a member did."""
    assert visit.workspace_id is not None and visit.role is not None
    sr, ws, actor = visit.sr, visit.workspace_id, visit.actor
    projects = sr.projects.names(ws, {e.project_id for e in entries}, actor=actor)
    files = sr.files.names(
        ws, {(e.project_id, e.subject_id) for e in entries if e.kind is TrashKind.FILE}, actor
    )
    emails = {f"session:{m.user_id}": m.email for m in sr.workspaces.members(ws, actor=actor)}
    return [
        Shown(
            e,
            _name(e, projects, files),
            projects.get(e.project_id, e.project_id),
            emails.get(e.deleted_by, e.deleted_by),
            may_restore(visit.role, e.deleted_by, actor, e.kind),
        )
        for e in entries
    ]


def _name(entry: TrashEntry, projects: dict[str, str], files: dict[str, str]) -> str:
    if entry.kind is TrashKind.PROJECT:
        return projects.get(entry.subject_id, entry.subject_id)
    if entry.kind is TrashKind.FILE:
        return files.get(entry.subject_id, entry.subject_id)
    return entry.subject_id  # a record has no name but its id

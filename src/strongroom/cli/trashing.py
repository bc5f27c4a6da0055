"""Moving things to the trash and back: how ``project``, ``record`` and ``file`` delete and
restore answer, and how ``trash list`` shows an entry."""

from __future__ import annotations

from typing import Any

from strongroom.bootstrap import Strongroom
from strongroom.cli.options import ACTOR
from strongroom.cli.output import emit, when
from strongroom.domain.lifecycle import TrashKind
from strongroom.errors import InvalidInput
from strongroom.services.trash import TrashEntry


def entry_json(e: TrashEntry) -> dict[str, Any]:
    return {
        "id": e.id,
        "kind": e.kind.value,
        "subject_id": e.subject_id,
        "project_id": e.project_id,
        "deleted_by": e.deleted_by,
        "deleted_at": e.deleted_at,
        "restore_until": e.restore_until,
        "state": e.state.value,
    }


def emit_deleted(json: bool, e: TrashEntry) -> None:
    until = when(e.restore_until)
    emit(
        json,
        entry_json(e),
        f"moved {e.kind.value} {e.subject_id} to the trash ({e.id}); restorable until {until}",
    )


def restore_by_subject(
    sr: Strongroom,
    workspace_id: str,
    kind: TrashKind,
    subject_id: str,
    project_id: str | None = None,
) -> TrashEntry:
    """Restore by the subject's own id (its newest trash entry), in ``project_id`` if given."""
    entry = sr.trash.entry_for(workspace_id, kind, subject_id)
    if project_id is not None and entry.project_id != project_id:
        raise InvalidInput(f"{subject_id} is not in project {project_id}")
    return sr.trash.restore(workspace_id, entry.id, actor=ACTOR)


def emit_restored(json: bool, e: TrashEntry) -> None:
    emit(json, entry_json(e), f"restored {e.kind.value} {e.subject_id}")

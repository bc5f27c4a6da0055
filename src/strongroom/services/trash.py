"""The trash: a deleted project, record or file leaves reads and lists at once and can be
restored until its deadline; then the worker purges it.

A trash entry is one deletion. Deleting a project does not touch its records and files:
they are hidden with it and come back with it, while those deleted earlier on their own
keep their own entries and deadlines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from strongroom import ids
from strongroom.domain.lifecycle import (
    DeadlineAction,
    EntryState,
    PurgeReason,
    TrashKind,
    check_restore,
    may_restore,
)
from strongroom.domain.model import ObjectState, Page, make_page, page_limit
from strongroom.domain.roles import Action, Role
from strongroom.errors import Conflict, InTrash, NotFound, PermissionDenied
from strongroom.services import audit
from strongroom.services.context import Context
from strongroom.services.deadlines import new_deadline
from strongroom.services.guards import require_usable, require_workspace
from strongroom.storage.rows import TrashRow
from strongroom.storage.unit_of_work import DataUnitOfWork


@dataclass(frozen=True, slots=True)
class TrashEntry:
    id: str
    kind: TrashKind
    workspace_id: str
    project_id: str
    subject_id: str
    deleted_by: str
    deleted_at: datetime
    restore_until: datetime
    state: EntryState


def in_trash(ctx: Context, workspace_id: str, project_id: str, subject_id: str) -> None:
    """Raise InTrash if ``subject_id`` of ``project_id``, or that project, is in the trash,
    so a read of something deleted says so and until when it can be restored."""
    with ctx.store.read() as uow:
        for subject in (subject_id, project_id):
            row = uow.trash.latest_for(workspace_id, subject)
            if row is None or row.state != EntryState.TRASHED or row.project_id != project_id:
                continue
            until = row.restore_until.isoformat(timespec="seconds")
            raise InTrash(
                f"{row.kind} {subject} is in the trash (entry {row.id}), restorable until {until}",
                trash_entry_id=row.id,
                restore_until=until,
            )


def _entry(row: TrashRow) -> TrashEntry:
    return TrashEntry(
        row.id,
        TrashKind(row.kind),
        row.workspace_id,
        row.project_id,
        row.subject_id,
        row.deleted_by,
        row.deleted_at,
        row.restore_until,
        EntryState(row.state),
    )


def move_to_trash(
    ctx: Context,
    uow: DataUnitOfWork,
    kind: TrashKind,
    workspace_id: str,
    project_id: str,
    subject_id: str,
    actor: str,
    now: datetime,
) -> TrashEntry:
    """Take ``subject_id`` out of reads (state trashed), open its trash entry and set its
    purge deadline; the caller has checked it is live and commits."""
    restore_until = now + ctx.retention.trash
    row = TrashRow(
        ids.new_id("trash"),
        workspace_id,
        project_id,
        kind.value,
        subject_id,
        actor,
        now,
        restore_until,
        EntryState.TRASHED.value,
        None,
    )
    set_subject_state(uow, kind, subject_id, ObjectState.TRASHED, now, row.id)
    uow.trash.add(row)
    uow.deadlines.add(
        new_deadline(
            DeadlineAction.PURGE_TRASH,
            workspace_id,
            row.id,
            PurgeReason.TRASH_EXPIRED.value,
            restore_until,
            now,
            kind=kind.value,
            project_id=project_id,
        )
    )
    audit.append(
        uow,
        now,
        actor,
        f"{kind.value}.delete",
        workspace_id,
        project_id=project_id,
        subject_id=subject_id,
        trash_id=row.id,
        restore_until=restore_until.isoformat(),
    )
    return _entry(row)


def set_subject_state(
    uow: DataUnitOfWork,
    kind: TrashKind,
    subject_id: str,
    state: ObjectState,
    now: datetime,
    trash_id: str | None,
) -> None:
    if kind is TrashKind.PROJECT:
        uow.projects.set_state(subject_id, state, now, trash_id)
    elif kind is TrashKind.RECORD:
        uow.records.set_state(subject_id, state, now, trash_id)
    else:
        uow.files.set_state(subject_id, state, trash_id)


class Trash:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def list(
        self, workspace_id: str, cursor: str | None = None, limit: int | None = None
    ) -> Page[TrashEntry]:
        """Entries still restorable or waiting for their purge, oldest id first."""
        ids.check_id("workspace", workspace_id)
        if cursor is not None:
            ids.check_id("trash", cursor)
        limit = page_limit(limit)
        with self.ctx.store.read() as uow:
            require_workspace(uow, workspace_id)
            rows = uow.trash.list(workspace_id, EntryState.TRASHED, cursor, limit + 1)
        return make_page(rows, limit, lambda r: r.id, _entry)

    def get(self, workspace_id: str, entry_id: str) -> TrashEntry:
        with self.ctx.store.read() as uow:
            return _entry(self._row(uow, workspace_id, entry_id))

    def restore(
        self,
        workspace_id: str,
        entry_id: str,
        actor: str = "system",
        role: Role | None = None,
    ) -> TrashEntry:
        """Bring back exactly what the entry's deletion took. ``role`` is the caller's role
        (None: the embedding application or the local CLI, which may restore anything)."""
        now = self.ctx.clock.now()
        with self.ctx.store.write() as uow:
            require_usable(uow, workspace_id, Action.WRITE_DATA, now)
            row = self._row(uow, workspace_id, entry_id)
            kind = TrashKind(row.kind)
            if role is not None and not may_restore(role, row.deleted_by, actor, kind):
                raise PermissionDenied(
                    f"the {role.value} role may restore only what it deleted itself"
                )
            check_restore(row.state, row.restore_until, now)
            if kind is not TrashKind.PROJECT:
                project = uow.projects.get(workspace_id, row.project_id)
                if project is None or project.state != ObjectState.LIVE:
                    raise Conflict(
                        f"its project {row.project_id} is in the trash: restore the project first"
                    )
            if not uow.trash.transition(row.id, EntryState.TRASHED, EntryState.RESTORED, now):
                raise Conflict("this trash entry is being purged and cannot come back")
            set_subject_state(uow, kind, row.subject_id, ObjectState.LIVE, now, None)
            uow.deadlines.cancel_for(row.id, (DeadlineAction.PURGE_TRASH,), now)
            audit.append(
                uow,
                now,
                actor,
                f"{kind.value}.restore",
                workspace_id,
                project_id=row.project_id,
                subject_id=row.subject_id,
                trash_id=row.id,
            )
            uow.commit()
        return _entry(row._replace(state=EntryState.RESTORED.value, closed_at=now))

    def entry_for(self, workspace_id: str, kind: TrashKind, subject_id: str) -> TrashEntry:
        """The newest trash entry of a project, record or file (restore by its own id)."""
        ids.check_id("workspace", workspace_id)
        ids.check_id(kind.value, subject_id)
        with self.ctx.store.read() as uow:
            row = uow.trash.latest_for(workspace_id, subject_id)
        if row is None or row.kind != kind.value:
            raise NotFound(f"{kind.value} {subject_id} is not in the trash", subject_id=subject_id)
        return _entry(row)

    def purge_now(self, workspace_id: str, entry_id: str, actor: str = "system") -> str:
        """Delete an entry forever without waiting for its deadline: its purge becomes due
        now (the worker runs it on its next pass). Returns the deadline id."""
        now = self.ctx.clock.now()
        with self.ctx.store.write() as uow:
            require_usable(uow, workspace_id, Action.PURGE_TRASH, now)
            row = self._row(uow, workspace_id, entry_id)
            if row.state != EntryState.TRASHED:
                raise Conflict(f"this trash entry is {row.state}, not in the trash")
            pending = uow.deadlines.pending_for(row.id, DeadlineAction.PURGE_TRASH.value)
            if not pending or not uow.deadlines.expedite(
                pending[0].id, now, PurgeReason.DELETED_FOREVER.value
            ):
                raise Conflict("this trash entry's purge has already begun")
            audit.append(uow, now, actor, "trash.purge_requested", workspace_id, trash_id=row.id)
            uow.commit()
        self.ctx.wake_worker()
        return pending[0].id

    def _row(self, uow: DataUnitOfWork, workspace_id: str, entry_id: str) -> TrashRow:
        ids.check_id("workspace", workspace_id)
        ids.check_id("trash", entry_id)
        row = uow.trash.get(workspace_id, entry_id)
        if row is None:
            raise NotFound(f"no trash entry {entry_id}", trash_id=entry_id)
        return row

"""Repositories of the lifecycle tables: trash entries, deadlines, legal holds, billing
events and export jobs."""

from __future__ import annotations

import builtins
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, or_, select, update

from strongroom.storage import tables as t
from strongroom.storage.rows import (
    BillingEventRow,
    DeadlineRow,
    ExportJobRow,
    HoldRow,
    TrashRow,
)

#: The lease owner of a deadline parked by a legal hold (clearing the hold unparks it).
HELD = "held"


def _fields(row: Any) -> dict[str, Any]:
    return dict(row._asdict())


class _Repo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn


class Trash(_Repo):
    def add(self, row: TrashRow) -> None:
        self.conn.execute(insert(t.trash_entries).values(**_fields(row)))

    def get(self, workspace_id: str, entry_id: str) -> TrashRow | None:
        r = self.conn.execute(
            select(t.trash_entries).where(
                t.trash_entries.c.id == entry_id, t.trash_entries.c.workspace_id == workspace_id
            )
        ).first()
        return TrashRow(*r) if r else None

    def latest_for(self, workspace_id: str, subject_id: str) -> TrashRow | None:
        """The newest entry of ``subject_id`` (a subject deleted, restored and deleted
        again has several)."""
        c = t.trash_entries.c
        r = self.conn.execute(
            select(t.trash_entries)
            .where(c.workspace_id == workspace_id, c.subject_id == subject_id)
            .order_by(c.deleted_at.desc(), c.id.desc())
            .limit(1)
        ).first()
        return TrashRow(*r) if r else None

    def list(
        self, workspace_id: str, state: str, after: str | None = None, limit: int | None = None
    ) -> builtins.list[TrashRow]:
        c = t.trash_entries.c
        query = select(t.trash_entries).where(c.workspace_id == workspace_id, c.state == state)
        if after is not None:
            query = query.where(c.id > after)
        rows = self.conn.execute(query.order_by(c.id).limit(limit))
        return [TrashRow(*r) for r in rows]

    def set_state(self, entry_id: str, state: str, now: datetime | None) -> None:
        self.conn.execute(
            update(t.trash_entries)
            .where(t.trash_entries.c.id == entry_id)
            .values(state=state, closed_at=now)
        )

    def transition(self, entry_id: str, before: str, after: str, now: datetime | None) -> bool:
        """Move an entry from state ``before`` to ``after``; False if it was not in
        ``before`` any more (a restore and a purge racing: exactly one wins, even under
        PostgreSQL's READ COMMITTED, where the loser's UPDATE re-reads the row)."""
        c = t.trash_entries.c
        n = self.conn.execute(
            update(t.trash_entries)
            .where(c.id == entry_id, c.state == before)
            .values(state=after, closed_at=now)
        ).rowcount
        return n == 1

    def of_project(self, project_id: str, state: str) -> builtins.list[TrashRow]:
        c = t.trash_entries.c
        rows = self.conn.execute(
            select(t.trash_entries).where(c.project_id == project_id, c.state == state)
        )
        return [TrashRow(*r) for r in rows]

    def close_open_of(self, workspace_id: str, project_id: str | None, now: datetime) -> int:
        """Mark the still-open entries inside a purged project or workspace purged."""
        c = t.trash_entries.c
        where = [c.workspace_id == workspace_id, c.state.in_(("trashed", "purging"))]
        if project_id is not None:
            where.append(c.project_id == project_id)
        return self.conn.execute(
            update(t.trash_entries).where(*where).values(state="purged", closed_at=now)
        ).rowcount

    def delete_for_workspace(self, workspace_id: str) -> None:
        self.conn.execute(
            delete(t.trash_entries).where(t.trash_entries.c.workspace_id == workspace_id)
        )


class Deadlines(_Repo):
    def add(self, row: DeadlineRow) -> None:
        self.conn.execute(insert(t.deadlines).values(**_fields(row)))

    def get(self, deadline_id: str) -> DeadlineRow | None:
        r = self.conn.execute(select(t.deadlines).where(t.deadlines.c.id == deadline_id)).first()
        return DeadlineRow(*r) if r else None

    def due(
        self,
        now: datetime,
        limit: int,
        lock: bool,
        only: str | None = None,
        longest_lease: timedelta = timedelta(hours=1),
    ) -> builtins.list[DeadlineRow]:
        """Pending deadlines due by ``now`` whose lease (if any) has run out. With ``lock``
        (PostgreSQL) the rows are locked and rows other workers hold are skipped. A lease
        ending more than ``longest_lease`` after ``now`` was taken under a clock that has
        since jumped back: it counts as run out, or the row would be stuck."""
        c = t.deadlines.c
        query = (
            select(t.deadlines)
            .where(
                c.state == "pending",
                c.due_at <= now,
                or_(
                    c.lease_until.is_(None),
                    c.lease_until < now,
                    c.lease_until > now + longest_lease,
                ),
            )
            .order_by(c.due_at, c.id)
            .limit(limit)
        )
        if only is not None:
            query = query.where(c.id == only)
        if lock:
            query = query.with_for_update(skip_locked=True)
        return [DeadlineRow(*r) for r in self.conn.execute(query)]

    def lease(self, deadline_id: str, owner: str, until: datetime) -> None:
        self.conn.execute(
            update(t.deadlines)
            .where(t.deadlines.c.id == deadline_id)
            .values(lease_owner=owner, lease_until=until, attempts=t.deadlines.c.attempts + 1)
        )

    def advance(
        self, deadline_id: str, owner: str, step: str, progress: str, lease_until: datetime
    ) -> bool:
        """Record a finished step; False if the lease was lost to another worker."""
        c = t.deadlines.c
        n = self.conn.execute(
            update(t.deadlines)
            .where(c.id == deadline_id, c.lease_owner == owner, c.state == "pending")
            .values(step=step, progress=progress, lease_until=lease_until)
        ).rowcount
        return n == 1

    def finish(self, deadline_id: str, owner: str | None, now: datetime, state: str) -> bool:
        c = t.deadlines.c
        where = [c.id == deadline_id, c.state == "pending"]
        if owner is not None:
            where.append(c.lease_owner == owner)
        n = self.conn.execute(
            update(t.deadlines)
            .where(*where)
            .values(state=state, finished_at=now, lease_owner=None, lease_until=None)
        ).rowcount
        return n == 1

    def expedite(self, deadline_id: str, now: datetime, reason: str) -> bool:
        """Make a deadline whose work has not begun due now, for ``reason``."""
        c = t.deadlines.c
        n = self.conn.execute(
            update(t.deadlines)
            .where(c.id == deadline_id, c.state == "pending", c.step == "start")
            .values(due_at=now, reason=reason)
        ).rowcount
        return n == 1

    def release(self, deadline_id: str, owner: str, error: str | None, retry_at: datetime) -> None:
        """Give the lease back (a held or failed deadline); it is tried again at retry_at."""
        c = t.deadlines.c
        self.conn.execute(
            update(t.deadlines)
            .where(c.id == deadline_id, c.lease_owner == owner)
            .values(lease_owner=None, lease_until=retry_at, last_error=error)
        )

    def unpark(self, workspace_id: str) -> None:
        """Make the workspace's deadlines parked by a hold claimable at once."""
        c = t.deadlines.c
        self.conn.execute(
            update(t.deadlines)
            .where(c.workspace_id == workspace_id, c.state == "pending", c.lease_owner == HELD)
            .values(lease_owner=None, lease_until=None)
        )

    def finished_for(self, subject_id: str) -> builtins.list[DeadlineRow]:
        c = t.deadlines.c
        query = select(t.deadlines).where(c.subject_id == subject_id, c.state == "done")
        return [DeadlineRow(*r) for r in self.conn.execute(query.order_by(c.finished_at))]

    def pending_for(self, subject_id: str, action: str | None = None) -> builtins.list[DeadlineRow]:
        c = t.deadlines.c
        query = select(t.deadlines).where(c.subject_id == subject_id, c.state == "pending")
        if action is not None:
            query = query.where(c.action == action)
        return [DeadlineRow(*r) for r in self.conn.execute(query)]

    def cancel_for(self, subject_id: str, actions: tuple[str, ...], now: datetime) -> int:
        c = t.deadlines.c
        return self.conn.execute(
            update(t.deadlines)
            .where(c.subject_id == subject_id, c.state == "pending", c.action.in_(actions))
            .values(state="cancelled", finished_at=now, lease_owner=None, lease_until=None)
        ).rowcount

    def pending(
        self, workspace_id: str | None = None, until: datetime | None = None
    ) -> builtins.list[DeadlineRow]:
        c = t.deadlines.c
        query = select(t.deadlines).where(c.state == "pending")
        if workspace_id is not None:
            query = query.where(c.workspace_id == workspace_id)
        if until is not None:
            query = query.where(c.due_at <= until)
        return [DeadlineRow(*r) for r in self.conn.execute(query.order_by(c.due_at, c.id))]

    def cancel_workspace(self, workspace_id: str, keep: str, now: datetime) -> None:
        """Cancel every pending deadline of a workspace but ``keep`` (its purge)."""
        c = t.deadlines.c
        self.conn.execute(
            update(t.deadlines)
            .where(c.workspace_id == workspace_id, c.state == "pending", c.id != keep)
            .values(state="cancelled", finished_at=now, lease_owner=None, lease_until=None)
        )


class Holds(_Repo):
    def add(self, row: HoldRow) -> None:
        self.conn.execute(insert(t.holds).values(**_fields(row)))

    def active(self, workspace_id: str) -> builtins.list[HoldRow]:
        c = t.holds.c
        rows = self.conn.execute(
            select(t.holds)
            .where(c.workspace_id == workspace_id, c.cleared_at.is_(None))
            .order_by(c.set_at, c.id)
        )
        return [HoldRow(*r) for r in rows]

    def active_all(self) -> builtins.list[HoldRow]:
        c = t.holds.c
        rows = self.conn.execute(select(t.holds).where(c.cleared_at.is_(None)))
        return [HoldRow(*r) for r in rows]

    def clear(
        self,
        workspace_id: str,
        project_id: str | None,
        actor: str,
        now: datetime,
        reason_sealed: bytes,
    ) -> builtins.list[str]:
        c = t.holds.c
        scope = c.project_id.is_(None) if project_id is None else c.project_id == project_id
        where = and_(c.workspace_id == workspace_id, scope, c.cleared_at.is_(None))
        cleared = [r[0] for r in self.conn.execute(select(c.id).where(where))]
        self.conn.execute(
            update(t.holds)
            .where(where)
            .values(cleared_by=actor, cleared_at=now, clear_reason_sealed=reason_sealed)
        )
        return cleared


class BillingEvents(_Repo):
    def get(self, event_id: str) -> BillingEventRow | None:
        r = self.conn.execute(
            select(t.billing_events).where(t.billing_events.c.event_id == event_id)
        ).first()
        return BillingEventRow(*r) if r else None

    def add(self, row: BillingEventRow) -> None:
        self.conn.execute(insert(t.billing_events).values(**_fields(row)))

    def any_for(self, workspace_id: str) -> bool:
        c = t.billing_events.c
        found = self.conn.execute(select(c.event_id).where(c.workspace_id == workspace_id).limit(1))
        return found.first() is not None


class ExportJobs(_Repo):
    def add(self, row: ExportJobRow) -> None:
        self.conn.execute(insert(t.export_jobs).values(**_fields(row)))

    def get(self, workspace_id: str, job_id: str) -> ExportJobRow | None:
        c = t.export_jobs.c
        r = self.conn.execute(
            select(t.export_jobs).where(c.id == job_id, c.workspace_id == workspace_id)
        ).first()
        return ExportJobRow(*r) if r else None

    def update(self, job_id: str, **values: Any) -> None:
        self.conn.execute(
            update(t.export_jobs).where(t.export_jobs.c.id == job_id).values(**values)
        )

    def for_workspace(self, workspace_id: str) -> builtins.list[ExportJobRow]:
        c = t.export_jobs.c
        rows = self.conn.execute(
            select(t.export_jobs).where(c.workspace_id == workspace_id).order_by(c.id)
        )
        return [ExportJobRow(*r) for r in rows]


class Purging(_Repo):
    """The deletes of a purge, in batches, scoped to one project, one record, one file or
    one workspace (``scope`` names the column: "project_id", "id" or "workspace_id")."""

    def counts(self, scope: str, value: str) -> dict[str, int]:
        r, f = t.records.c, t.files.c
        records = self.conn.execute(
            select(func.count(), func.coalesce(func.sum(r.size), 0)).where(r[scope] == value)
        ).one()
        files = self.conn.execute(
            select(func.count(), func.coalesce(func.sum(f.size), 0)).where(f[scope] == value)
        ).one()
        return {
            "records": int(records[0]),
            "record_bytes": int(records[1]),
            "files": int(files[0]),
            "file_bytes": int(files[1]),
        }

    def record_ids(self, scope: str, value: str, limit: int) -> builtins.list[str]:
        c = t.records.c
        rows = self.conn.execute(select(c.id).where(c[scope] == value).limit(limit))
        return [r[0] for r in rows]

    def delete_records(self, record_ids: builtins.list[str]) -> int:
        """Delete the records and their blind-index entries; returns the index entries."""
        removed = self.conn.execute(
            delete(t.record_index).where(t.record_index.c.record_id.in_(record_ids))
        ).rowcount
        self.conn.execute(delete(t.records).where(t.records.c.id.in_(record_ids)))
        return int(removed)

    def files(self, scope: str, value: str, limit: int) -> builtins.list[tuple[str, str]]:
        """(file id, blob key) of files still in the scope."""
        c = t.files.c
        rows = self.conn.execute(select(c.id, c.blob_key).where(c[scope] == value).limit(limit))
        return [(r[0], r[1]) for r in rows]

    def delete_files(self, file_ids: builtins.list[str]) -> None:
        self.conn.execute(delete(t.files).where(t.files.c.id.in_(file_ids)))

    def delete_project(self, project_id: str) -> None:
        self.conn.execute(delete(t.projects).where(t.projects.c.id == project_id))

    def export_blobs(self, workspace_id: str) -> builtins.list[str]:
        """Every export job's blob key (its id), whether or not the job recorded one: a
        run that crashed before recording it may still have left a blob."""
        c = t.export_jobs.c
        rows = self.conn.execute(select(c.id).where(c.workspace_id == workspace_id))
        return [r[0] for r in rows]

    def delete_workspace(self, workspace_id: str, keep_deadline: str) -> dict[str, int]:
        """Everything else of a workspace, then the workspace row (records and files must
        be gone already). Returns counts of what went."""
        counts: dict[str, int] = {}
        requests = select(t.privacy_requests.c.id).where(
            t.privacy_requests.c.workspace_id == workspace_id
        )
        self.conn.execute(
            delete(t.privacy_subjects).where(t.privacy_subjects.c.request_id.in_(requests))
        )
        for name, table in (
            ("privacy_requests", t.privacy_requests),
            ("projects", t.projects),
            ("collections", t.collections),
            ("members", t.members),
            ("tokens", t.api_tokens),
            ("trash_entries", t.trash_entries),
            ("holds", t.holds),
            ("billing_events", t.billing_events),
            ("export_jobs", t.export_jobs),
        ):
            counts[name] = int(
                self.conn.execute(
                    delete(table).where(table.c.workspace_id == workspace_id)
                ).rowcount
            )
        c = t.deadlines.c
        self.conn.execute(
            delete(t.deadlines).where(c.workspace_id == workspace_id, c.id != keep_deadline)
        )
        self.conn.execute(delete(t.workspaces).where(t.workspaces.c.id == workspace_id))
        return counts

    # ledger replay (after a restore) -------------------------------------------------------
    def close_trash_of(self, subject_id: str, now: datetime) -> int:
        """Trash entries of ``subject_id``, purged elsewhere (the ledger says so): marked
        purged, their pending deadlines cancelled. Returns how many entries."""
        c = t.trash_entries.c
        entry_ids = [
            r[0] for r in self.conn.execute(select(c.id).where(c.subject_id == subject_id))
        ]
        if entry_ids:
            self.conn.execute(
                update(t.trash_entries)
                .where(c.id.in_(entry_ids))
                .values(state="purged", closed_at=now)
            )
            d = t.deadlines.c
            self.conn.execute(
                update(t.deadlines)
                .where(d.subject_id.in_(entry_ids), d.state == "pending")
                .values(state="cancelled", finished_at=now, lease_owner=None, lease_until=None)
            )
        return len(entry_ids)

    def blob_keys(self) -> builtins.list[str]:
        """Every blob key the data store names (files and export artifacts)."""
        files = select(t.files.c.blob_key)
        exports = select(t.export_jobs.c.blob_key).where(t.export_jobs.c.blob_key.is_not(None))
        return sorted(r[0] for r in self.conn.execute(files.union(exports)))

    def table_counts(self) -> dict[str, int]:
        """Rows of the tables a backup drill compares."""
        out = {}
        for name, table in (
            ("workspaces", t.workspaces),
            ("projects", t.projects),
            ("records", t.records),
            ("files", t.files),
            ("audit_events", t.audit_events),
        ):
            out[name] = int(self.conn.execute(select(func.count()).select_from(table)).scalar_one())
        return out

    def live_sample(
        self, limit: int
    ) -> tuple[builtins.list[tuple[str, str, str]], builtins.list[tuple[str, str, str]]]:
        """(workspace, project, id) of up to ``limit`` live records and live files."""
        r, f = t.records.c, t.files.c
        records = self.conn.execute(
            select(r.workspace_id, r.project_id, r.id).where(r.state == "live").limit(limit)
        )
        files = self.conn.execute(
            select(f.workspace_id, f.project_id, f.id).where(f.state == "live").limit(limit)
        )
        return [tuple(x) for x in records], [tuple(x) for x in files]

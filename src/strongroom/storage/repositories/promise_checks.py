"""Promise checks: the results the trust center shows (the newest of each promise, its
newest pass), and what the checks read of the data store to reach a verdict (samples of
sealed values, overdue purges, the newest event of a kind), without any customer data."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Table, delete, func, insert, select

from strongroom.domain.lifecycle import HELD, DeadlineAction, DeadlineState, EntryState
from strongroom.storage import tables as t
from strongroom.storage.repositories.base import Repository
from strongroom.storage.rows import DeadlineRow


class PromiseCheckRow(NamedTuple):
    promise_id: str
    checked_at: datetime
    holds: bool
    evidence: str


_C = t.promise_checks.c


class PromiseChecks(Repository):
    def add_many(self, rows: Iterable[PromiseCheckRow]) -> None:
        values = [row._asdict() for row in rows]
        if values:
            self.conn.execute(insert(t.promise_checks), values)

    def newest(self) -> dict[str, PromiseCheckRow]:
        """The newest result of each promise."""
        latest = (
            select(_C.promise_id, func.max(_C.checked_at).label("at"))
            .group_by(_C.promise_id)
            .subquery()
        )
        rows = self.conn.execute(
            select(_C.promise_id, _C.checked_at, _C.holds, _C.evidence)
            .join(latest, (latest.c.promise_id == _C.promise_id) & (latest.c.at == _C.checked_at))
            .order_by(_C.id)
        )
        return {r[0]: PromiseCheckRow(r[0], r[1], bool(r[2]), r[3]) for r in rows}

    def last_passed(self) -> dict[str, datetime]:
        """When each promise's check last passed."""
        rows = self.conn.execute(
            select(_C.promise_id, func.max(_C.checked_at))
            .where(_C.holds.is_(True))
            .group_by(_C.promise_id)
        )
        return {r[0]: r[1] for r in rows}

    def history(self, promise_id: str, limit: int) -> builtins.list[PromiseCheckRow]:
        rows = self.conn.execute(
            select(_C.promise_id, _C.checked_at, _C.holds, _C.evidence)
            .where(_C.promise_id == promise_id)
            .order_by(_C.checked_at.desc(), _C.id.desc())
            .limit(limit)
        )
        return [PromiseCheckRow(r[0], r[1], bool(r[2]), r[3]) for r in rows]

    def prune(self, before: datetime, keep: Sequence[str] = ()) -> int:
        """Delete results older than ``before``, but never a promise's newest result or its
        newest pass (the page shows both, however old)."""
        keep_ids = (
            select(func.max(_C.id))
            .group_by(_C.promise_id)
            .union(select(func.max(_C.id)).where(_C.holds.is_(True)).group_by(_C.promise_id))
        )
        kept = {r[0] for r in self.conn.execute(keep_ids)}
        query = delete(t.promise_checks).where(_C.checked_at < before)
        if kept:
            query = query.where(_C.id.not_in(sorted(kept)))
        return int(self.conn.execute(query).rowcount or 0)


class PromiseEvidence(Repository):
    """What the promise checks read of other aggregates: counts and plain columns only."""

    def sealed_samples(self, limit: int, start: str) -> builtins.list[tuple[str, bytes]]:
        """Up to ``limit`` stored sealed values of each kind: the rows from a random point
        of each table's id order (``start``: random id characters, new at every check),
        wrapping round to its beginning, so that every check looks at different rows, new
        ones included, through the primary key alone: (what, the stored bytes)."""
        sources = (
            ("workspace name", t.workspaces, t.workspaces.c.name_sealed),
            ("project name", t.projects, t.projects.c.name_sealed),
            ("record", t.records, t.records.c.sealed),
            ("file name", t.files, t.files.c.name_sealed),
            ("user email", t.users, t.users.c.email_sealed),
            ("inbox request", t.inbox_requests, t.inbox_requests.c.body_sealed),
            ("inbox entry", t.inbox_entries, t.inbox_entries.c.text_sealed),
            ("subscriber", t.subprocessor_subscribers, t.subprocessor_subscribers.c.email_sealed),
            ("objection", t.subprocessor_objections, t.subprocessor_objections.c.reason_sealed),
            (
                "acceptance receipt",
                t.agreement_acceptances,
                t.agreement_acceptances.c.receipt_sealed,
            ),
        )
        out: list[tuple[str, bytes]] = []
        for what, table, column in sources:
            out += [(what, value) for value in self._from_random_point(table, column, limit, start)]
        return out

    def _from_random_point(
        self, table: Table, column: ColumnElement[Any], limit: int, start: str
    ) -> builtins.list[bytes]:
        first = self.conn.execute(select(table.c.id).order_by(table.c.id).limit(1)).scalar()
        if first is None:
            return []
        point = f"{str(first).partition('_')[0]}_{start}"
        after = select(column).where(table.c.id >= point, column.is_not(None))
        before = select(column).where(table.c.id < point, column.is_not(None))
        found = [bytes(r[0]) for r in self.conn.execute(after.order_by(table.c.id).limit(limit))]
        if len(found) < limit:
            more = before.order_by(table.c.id).limit(limit - len(found))
            found += [bytes(r[0]) for r in self.conn.execute(more)]
        return found

    def file_blob_keys(self, limit: int) -> builtins.list[str]:
        c = t.files.c
        return [r[0] for r in self.conn.execute(select(c.blob_key).limit(limit))]

    def overdue(
        self, action: DeadlineAction, reasons: Sequence[str], before: datetime
    ) -> builtins.list[DeadlineRow]:
        """Pending deadlines of ``action`` (for these reasons; all if empty) due before
        ``before`` and not parked under a legal hold."""
        c = t.deadlines.c
        query = select(t.deadlines).where(
            c.state == DeadlineState.PENDING.value,
            c.action == action.value,
            c.due_at < before,
            (c.lease_owner.is_(None)) | (c.lease_owner != HELD),
        )
        if reasons:
            query = query.where(c.reason.in_(sorted(reasons)))
        return [DeadlineRow(*r) for r in self.conn.execute(query.order_by(c.due_at).limit(100))]

    def pending_purges(
        self, action: DeadlineAction, reasons: Sequence[str]
    ) -> builtins.list[DeadlineRow]:
        c = t.deadlines.c
        query = select(t.deadlines).where(
            c.state == DeadlineState.PENDING.value, c.action == action.value
        )
        if reasons:
            query = query.where(c.reason.in_(sorted(reasons)))
        return [DeadlineRow(*r) for r in self.conn.execute(query.order_by(c.due_at).limit(1000))]

    def trash_windows(self) -> builtins.list[tuple[datetime, datetime]]:
        """(deleted_at, restore_until) of every entry still in the trash."""
        c = t.trash_entries.c
        rows = self.conn.execute(
            select(c.deleted_at, c.restore_until).where(c.state == EntryState.TRASHED.value)
        )
        return [(r[0], r[1]) for r in rows]

    def newest_event(self, actions: Sequence[str]) -> tuple[datetime, str] | None:
        """(time, subject JSON) of the newest audit event of one of ``actions``."""
        c = t.audit_events.c
        row = self.conn.execute(
            select(c.at, c.subject)
            .where(c.action.in_(sorted(actions)))
            .order_by(c.seq.desc())
            .limit(1)
        ).first()
        return (row[0], row[1]) if row else None

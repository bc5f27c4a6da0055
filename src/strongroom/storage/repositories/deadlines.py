"""Deadlines: durable, due work (purges, exports), claimed by workers under a lease."""

from __future__ import annotations

import builtins
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import case, func, insert, or_, select, update

from strongroom.domain.lifecycle import FIRST_STEP, HELD, DeadlineAction, DeadlineState
from strongroom.storage import tables as t
from strongroom.storage.repositories.base import Repository, fields
from strongroom.storage.rows import DeadlineRow


class Backlog(NamedTuple):
    """The due work of one action: how many deadlines are due, how many of them overdue,
    and when the oldest of them fell due."""

    action: str
    due: int
    overdue: int
    oldest_due_at: datetime


_PENDING = DeadlineState.PENDING
#: What a deadline's end leaves of its lease: none.
_UNLEASED = {"lease_owner": None, "lease_until": None}


class Deadlines(Repository):
    def add(self, row: DeadlineRow) -> None:
        self.conn.execute(insert(t.deadlines).values(**fields(row)))

    def get(self, deadline_id: str) -> DeadlineRow | None:
        r = self.conn.execute(select(t.deadlines).where(t.deadlines.c.id == deadline_id)).first()
        return DeadlineRow(*r) if r else None

    def due(
        self,
        now: datetime,
        limit: int,
        lock: bool | None = None,
        only: str | None = None,
        longest_lease: timedelta = timedelta(hours=1),
    ) -> builtins.list[DeadlineRow]:
        """Pending deadlines due by ``now`` whose lease (if any) has run out. With ``lock``
        (by default: on PostgreSQL) the rows are locked and rows other workers hold are
        skipped (``FOR UPDATE SKIP LOCKED``; SQLite's write transaction serialises
        claimers instead). A lease ending more than ``longest_lease`` after ``now`` was
        taken under a clock that has since jumped back: it counts as run out, or the row
        would be stuck."""
        c = t.deadlines.c
        query = (
            select(t.deadlines)
            .where(
                c.state == _PENDING,
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
        if self.is_postgresql if lock is None else lock:
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
            .where(c.id == deadline_id, c.lease_owner == owner, c.state == _PENDING)
            .values(step=step, progress=progress, lease_until=lease_until)
        ).rowcount
        return n == 1

    def finish(
        self, deadline_id: str, owner: str | None, now: datetime, state: DeadlineState
    ) -> bool:
        c = t.deadlines.c
        where = [c.id == deadline_id, c.state == _PENDING]
        if owner is not None:
            where.append(c.lease_owner == owner)
        n = self.conn.execute(
            update(t.deadlines).where(*where).values(state=state, finished_at=now, **_UNLEASED)
        ).rowcount
        return n == 1

    def expedite(self, deadline_id: str, now: datetime, reason: str) -> bool:
        """Make a deadline whose work has not begun due now, for ``reason``."""
        c = t.deadlines.c
        n = self.conn.execute(
            update(t.deadlines)
            .where(c.id == deadline_id, c.state == _PENDING, c.step == FIRST_STEP)
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
            .where(c.workspace_id == workspace_id, c.state == _PENDING, c.lease_owner == HELD)
            .values(**_UNLEASED)
        )

    def finished_for(self, subject_id: str) -> builtins.list[DeadlineRow]:
        c = t.deadlines.c
        query = select(t.deadlines).where(c.subject_id == subject_id, c.state == DeadlineState.DONE)
        return [DeadlineRow(*r) for r in self.conn.execute(query.order_by(c.finished_at))]

    def of_subject(self, subject_id: str, action: DeadlineAction) -> builtins.list[DeadlineRow]:
        """Every deadline of ``action`` for ``subject_id``, in any state, oldest first."""
        c = t.deadlines.c
        query = select(t.deadlines).where(c.subject_id == subject_id, c.action == action)
        return [DeadlineRow(*r) for r in self.conn.execute(query.order_by(c.created_at, c.id))]

    def pending_for(
        self, subject_id: str, action: DeadlineAction | str | None = None
    ) -> builtins.list[DeadlineRow]:
        c = t.deadlines.c
        query = select(t.deadlines).where(c.subject_id == subject_id, c.state == _PENDING)
        if action is not None:
            query = query.where(c.action == action)
        return [DeadlineRow(*r) for r in self.conn.execute(query)]

    def cancel_for(
        self, subject_id: str, actions: tuple[DeadlineAction, ...], now: datetime
    ) -> int:
        c = t.deadlines.c
        return self.conn.execute(
            update(t.deadlines)
            .where(c.subject_id == subject_id, c.state == _PENDING, c.action.in_(actions))
            .values(state=DeadlineState.CANCELLED, finished_at=now, **_UNLEASED)
        ).rowcount

    def pending(
        self, workspace_id: str | None = None, until: datetime | None = None
    ) -> builtins.list[DeadlineRow]:
        c = t.deadlines.c
        query = select(t.deadlines).where(c.state == _PENDING)
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
            .where(c.workspace_id == workspace_id, c.state == _PENDING, c.id != keep)
            .values(state=DeadlineState.CANCELLED, finished_at=now, **_UNLEASED)
        )

    def backlog(self, now: datetime, overdue_before: datetime) -> builtins.list[Backlog]:
        """Pending deadlines due by ``now`` and not parked by a legal hold, counted by
        action; ``overdue``: those of them due before ``overdue_before`` (one query, by the
        ``ix_deadlines_due`` index)."""
        c = t.deadlines.c
        query = (
            select(
                c.action,
                func.count(),
                func.sum(case((c.due_at < overdue_before, 1), else_=0)),
                func.min(c.due_at),
            )
            .where(
                c.state == _PENDING,
                c.due_at <= now,
                or_(c.lease_owner.is_(None), c.lease_owner != HELD),
            )
            .group_by(c.action)
            .order_by(c.action)
        )
        return [Backlog(r[0], r[1], int(r[2] or 0), r[3]) for r in self.conn.execute(query)]

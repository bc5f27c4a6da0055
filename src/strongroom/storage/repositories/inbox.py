"""The repository of the request inbox: requests and their entries."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, or_, select, text, update

from strongroom.storage import tables as t
from strongroom.storage.repositories.base import Repository, fields
from strongroom.storage.rows import InboxEntryRow, InboxRequestRow

_R = t.inbox_requests.c


class Inbox(Repository):
    def lock_address(self, address_index: bytes) -> None:
        """Serialise the intake of one client address to the end of the transaction, so
        parallel submissions cannot outrun the rate limit. (SQLite: the write transaction's
        BEGIN IMMEDIATE already does; PostgreSQL: an advisory lock.)"""
        if self.is_postgresql:
            key = int.from_bytes(address_index[:8], "big", signed=True) ^ 0x1B0C
            self.conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})

    def received_from(self, address_index: bytes, since: datetime) -> builtins.list[datetime]:
        """When the requests from one client address after ``since`` were received."""
        rows = self.conn.execute(
            select(_R.received_at).where(_R.address_index == address_index, _R.received_at > since)
        )
        return [r[0] for r in rows]

    def add(self, row: InboxRequestRow) -> None:
        self.conn.execute(insert(t.inbox_requests).values(**fields(row)))

    def get(self, request_id: str, lock: bool = False) -> InboxRequestRow | None:
        """The request; ``lock``: held to the end of the transaction (PostgreSQL; SQLite's
        write transaction is already alone), so its entries are numbered one at a time."""
        query = select(t.inbox_requests).where(_R.id == request_id)
        if lock and self.is_postgresql:
            query = query.with_for_update()
        r = self.conn.execute(query).first()
        return InboxRequestRow(*r) if r else None

    def update(self, request_id: str, **values: Any) -> None:
        self.conn.execute(update(t.inbox_requests).where(_R.id == request_id).values(**values))

    def mark_once(self, request_id: str, column: str, at: datetime) -> bool:
        """Set ``warned_at`` or ``breached_at`` unless it is set; whether this call set it
        (of two workers, one does)."""
        target = _R[column]
        changed = self.conn.execute(
            update(t.inbox_requests)
            .where(_R.id == request_id, target.is_(None))
            .values({column: at})
        ).rowcount
        return bool(changed)

    def answer(self, request_id: str, at: datetime) -> None:
        """Stop the clock at ``at``, unless a sent reply stopped it before."""
        self.conn.execute(
            update(t.inbox_requests)
            .where(_R.id == request_id, _R.answered_at.is_(None))
            .values(answered_at=at)
        )

    def list(
        self, kind: str | None = None, answered: bool | None = None, limit: int = 500
    ) -> builtins.list[InboxRequestRow]:
        """Open requests first, by due time; then answered ones, newest first."""
        query = select(t.inbox_requests)
        if kind is not None:
            query = query.where(_R.kind == kind)
        if answered is not None:
            query = query.where(
                _R.answered_at.is_not(None) if answered else _R.answered_at.is_(None)
            )
        query = query.order_by(_R.answered_at.is_not(None), _R.due_at, _R.id).limit(limit)
        return [InboxRequestRow(*r) for r in self.conn.execute(query)]

    def unanswered_due_before(
        self, moment: datetime, unmarked: bool = False
    ) -> builtins.list[InboxRequestRow]:
        """Requests without a sent reply due at or before ``moment`` (the warnings' pass
        asks for an hour ahead); ``unmarked``: only those not yet both warned and breached
        (so a request left unanswered for months is not read at every pass)."""
        query = select(t.inbox_requests).where(_R.answered_at.is_(None), _R.due_at <= moment)
        if unmarked:
            query = query.where(or_(_R.warned_at.is_(None), _R.breached_at.is_(None)))
        return [InboxRequestRow(*r) for r in self.conn.execute(query.order_by(_R.due_at, _R.id))]

    def count_overdue(self, now: datetime) -> int:
        query = (
            select(func.count())
            .select_from(t.inbox_requests)
            .where(_R.answered_at.is_(None), _R.due_at <= now)
        )
        return int(self.conn.execute(query).scalar_one())

    def count_open(self) -> int:
        return int(
            self.conn.execute(
                select(func.count()).select_from(t.inbox_requests).where(_R.answered_at.is_(None))
            ).scalar_one()
        )

    def count_breaches_since(self, since: datetime) -> int:
        """Requests that missed their first-response deadline since ``since``: recorded as
        breached by the worker, or answered late before the worker saw them overdue."""
        late = (_R.answered_at >= since) & (_R.answered_at > _R.due_at)
        query = (
            select(func.count())
            .select_from(t.inbox_requests)
            .where((_R.breached_at >= since) | late)
        )
        return int(self.conn.execute(query).scalar_one())

    def add_entry(self, row: InboxEntryRow) -> None:
        self.conn.execute(insert(t.inbox_entries).values(**fields(row)))

    def next_position(self, request_id: str) -> int:
        c = t.inbox_entries.c
        query = select(func.coalesce(func.max(c.position), 0)).where(c.request_id == request_id)
        return int(self.conn.execute(query).scalar_one()) + 1

    def entries(self, request_id: str) -> builtins.list[InboxEntryRow]:
        c = t.inbox_entries.c
        query = select(t.inbox_entries).where(c.request_id == request_id).order_by(c.position)
        return [InboxEntryRow(*r) for r in self.conn.execute(query)]

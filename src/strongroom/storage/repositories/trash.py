"""Trash entries: what a deletion took with it, restorable until its deadline."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select, update

from strongroom.domain.lifecycle import DeadlineState, EntryState
from strongroom.storage import tables as t
from strongroom.storage.repositories.base import Repository, fields
from strongroom.storage.rows import TrashRow


class Trash(Repository):
    def add(self, row: TrashRow) -> None:
        self.conn.execute(insert(t.trash_entries).values(**fields(row)))

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
        self,
        workspace_id: str,
        state: EntryState,
        after: str | None = None,
        limit: int | None = None,
    ) -> builtins.list[TrashRow]:
        c = t.trash_entries.c
        query = select(t.trash_entries).where(c.workspace_id == workspace_id, c.state == state)
        if after is not None:
            query = query.where(c.id > after)
        rows = self.conn.execute(query.order_by(c.id).limit(limit))
        return [TrashRow(*r) for r in rows]

    def set_state(self, entry_id: str, state: EntryState, now: datetime | None) -> None:
        self.conn.execute(
            update(t.trash_entries)
            .where(t.trash_entries.c.id == entry_id)
            .values(state=state, closed_at=now)
        )

    def transition(
        self, entry_id: str, before: EntryState, after: EntryState, now: datetime | None
    ) -> bool:
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

    def of_project(self, project_id: str, state: EntryState) -> builtins.list[TrashRow]:
        c = t.trash_entries.c
        rows = self.conn.execute(
            select(t.trash_entries).where(c.project_id == project_id, c.state == state)
        )
        return [TrashRow(*r) for r in rows]

    def close_purged(self, subject_id: str | Sequence[str], now: datetime) -> int:
        """Every entry of ``subject_id`` (or of each of several), purged (elsewhere: the
        ledger says so, with its project, by a privacy erasure), marked purged and its
        pending deadlines cancelled. Returns how many entries."""
        c = t.trash_entries.c
        subjects = [subject_id] if isinstance(subject_id, str) else list(subject_id)
        entry_ids = [
            r[0] for r in self.conn.execute(select(c.id).where(c.subject_id.in_(subjects)))
        ]
        if entry_ids:
            self.conn.execute(
                update(t.trash_entries)
                .where(c.id.in_(entry_ids))
                .values(state=EntryState.PURGED, closed_at=now)
            )
            d = t.deadlines.c
            self.conn.execute(
                update(t.deadlines)
                .where(d.subject_id.in_(entry_ids), d.state == DeadlineState.PENDING)
                .values(
                    state=DeadlineState.CANCELLED,
                    finished_at=now,
                    lease_owner=None,
                    lease_until=None,
                )
            )
        return len(entry_ids)

"""The repository of privacy requests and their subjects' digests."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import insert, select, update

from strongroom.storage import tables as t
from strongroom.storage.repositories.base import Repository
from strongroom.storage.rows import PrivacyRequestRow


class PrivacyRequests(Repository):
    def add(self, row: PrivacyRequestRow, digests: Iterable[tuple[str, bytes]]) -> None:
        self.conn.execute(insert(t.privacy_requests).values(**row._asdict()))
        subjects = [{"request_id": row.id, "kind": k, "digest": d} for k, d in set(digests)]
        if subjects:
            self.conn.execute(insert(t.privacy_subjects), subjects)

    def get(self, workspace_id: str, request_id: str) -> PrivacyRequestRow | None:
        c = t.privacy_requests.c
        r = self.conn.execute(
            select(t.privacy_requests).where(c.workspace_id == workspace_id, c.id == request_id)
        ).first()
        return PrivacyRequestRow(*r) if r else None

    def update(self, workspace_id: str, request_id: str, **values: Any) -> None:
        c = t.privacy_requests.c
        self.conn.execute(
            update(t.privacy_requests)
            .where(c.workspace_id == workspace_id, c.id == request_id)
            .values(**values)
        )

    def list(
        self,
        workspace_id: str,
        *,
        open_states: frozenset[str] | None = None,
        due_by: date | None = None,
    ) -> builtins.list[PrivacyRequestRow]:
        """A workspace's requests, soonest due first; only open ones due by ``due_by`` if
        given (``open_states``: the states that count as open)."""
        c = t.privacy_requests.c
        query = select(t.privacy_requests).where(c.workspace_id == workspace_id)
        if open_states is not None:
            query = query.where(c.state.in_(sorted(open_states)))
        if due_by is not None:
            query = query.where(c.due_on <= due_by)
        rows = self.conn.execute(query.order_by(c.due_on, c.received_at, c.id))
        return [PrivacyRequestRow(*r) for r in rows]

    def open_due(
        self, workspace_id: str | None, due_by: date, open_states: frozenset[str]
    ) -> builtins.list[PrivacyRequestRow]:
        """Open requests due by ``due_by``, of one workspace or all, soonest first."""
        c = t.privacy_requests.c
        query = select(t.privacy_requests).where(
            c.state.in_(sorted(open_states)), c.due_on <= due_by
        )
        if workspace_id is not None:
            query = query.where(c.workspace_id == workspace_id)
        rows = self.conn.execute(query.order_by(c.due_on, c.received_at, c.id))
        return [PrivacyRequestRow(*r) for r in rows]

    def received(
        self, workspace_id: str | None, year: int | None
    ) -> builtins.list[PrivacyRequestRow]:
        """Requests received in ``year`` (all years if None), of one workspace or all."""
        c = t.privacy_requests.c
        query = select(t.privacy_requests)
        if workspace_id is not None:
            query = query.where(c.workspace_id == workspace_id)
        if year is not None:
            query = query.where(
                c.received_on >= date(year, 1, 1), c.received_on <= date(year, 12, 31)
            )
        return [
            PrivacyRequestRow(*r) for r in self.conn.execute(query.order_by(c.received_on, c.id))
        ]

    def digests(self, request_id: str) -> builtins.list[tuple[str, bytes]]:
        c = t.privacy_subjects.c
        rows = self.conn.execute(
            select(c.kind, c.digest).where(c.request_id == request_id).order_by(c.kind, c.digest)
        )
        return [(r[0], bytes(r[1])) for r in rows]

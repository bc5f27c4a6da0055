"""The repository of privacy requests and their subjects' digests."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, delete, insert, select, update

from strongroom.domain.model import ObjectState
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

    def expire(self, closed_before: datetime, limit: int) -> builtins.list[tuple[str, str]]:
        """Delete up to ``limit`` requests closed before ``closed_before`` (with their
        digests and their lifted restrictions), except those whose restriction is still
        in force and those of a workspace under a legal hold (which keeps every record);
        returns (workspace id, request id) of each."""
        c, r, h = t.privacy_requests.c, t.record_restrictions.c, t.holds.c
        in_force = select(r.request_id).where(r.lifted_at.is_(None))
        held = select(h.workspace_id).where(h.cleared_at.is_(None))
        rows = self.conn.execute(
            select(c.workspace_id, c.id)
            .where(
                c.closed_at.is_not(None),
                c.closed_at < closed_before,
                c.id.not_in(in_force),
                c.workspace_id.not_in(held),
            )
            .order_by(c.closed_at, c.id)
            .limit(limit)
        ).all()
        ids = [row[1] for row in rows]
        if ids:
            self.conn.execute(
                delete(t.privacy_subjects).where(t.privacy_subjects.c.request_id.in_(ids))
            )
            self.conn.execute(delete(t.record_restrictions).where(r.request_id.in_(ids)))
            self.conn.execute(delete(t.privacy_requests).where(c.id.in_(ids)))
        return [(row[0], row[1]) for row in rows]

    def digests(self, request_id: str) -> builtins.list[tuple[str, bytes]]:
        c = t.privacy_subjects.c
        rows = self.conn.execute(
            select(c.kind, c.digest).where(c.request_id == request_id).order_by(c.kind, c.digest)
        )
        return [(r[0], bytes(r[1])) for r in rows]

    # restrictions (GDPR Art. 18) --------------------------------------------------------
    def restrict(
        self, workspace_id: str, request_id: str, record_ids: Iterable[str], now: datetime
    ) -> int:
        """Restrict for the request those of ``record_ids`` that are live, or restricted by
        another request (each must lift its own); returns how many the request restricts
        now that it did not before. Records in the trash are left as they are."""
        r, c = t.records.c, t.record_restrictions.c
        mine = select(c.record_id).where(c.request_id == request_id, c.lifted_at.is_(None))
        covered = [
            x[0]
            for x in self.conn.execute(
                select(r.id).where(
                    r.workspace_id == workspace_id,
                    r.id.in_(sorted(set(record_ids))),
                    r.state.in_([ObjectState.LIVE, ObjectState.RESTRICTED]),
                    r.id.not_in(mine),
                )
            )
        ]
        if not covered:
            return 0
        self.conn.execute(
            update(t.records)
            .where(r.id.in_(covered), r.state == ObjectState.LIVE)
            .values(state=ObjectState.RESTRICTED)
        )
        # A lifted restriction of the same request and record is set again.
        self.conn.execute(
            update(t.record_restrictions)
            .where(c.request_id == request_id, c.record_id.in_(covered))
            .values(restricted_at=now, lifted_at=None)
        )
        again = {
            x[0]
            for x in self.conn.execute(
                select(c.record_id).where(c.request_id == request_id, c.record_id.in_(covered))
            )
        }
        fresh = [
            {
                "record_id": record_id,
                "request_id": request_id,
                "workspace_id": workspace_id,
                "restricted_at": now,
            }
            for record_id in covered
            if record_id not in again
        ]
        if fresh:
            self.conn.execute(insert(t.record_restrictions), fresh)
        return len(covered)

    def lift(self, workspace_id: str, request_id: str, now: datetime) -> int:
        """Lift the request's restrictions; a record no other request still restricts is
        live again. Returns how many records the request had restricted."""
        c = t.record_restrictions.c
        mine = and_(
            c.request_id == request_id, c.workspace_id == workspace_id, c.lifted_at.is_(None)
        )
        record_ids = [x[0] for x in self.conn.execute(select(c.record_id).where(mine))]
        if not record_ids:
            return 0
        self.conn.execute(update(t.record_restrictions).where(mine).values(lifted_at=now))
        still = select(c.record_id).where(c.record_id.in_(record_ids), c.lifted_at.is_(None))
        r = t.records.c
        self.conn.execute(
            update(t.records)
            .where(
                r.id.in_(record_ids),
                r.state == ObjectState.RESTRICTED,
                r.id.not_in(still),
            )
            .values(state=ObjectState.LIVE)
        )
        return len(record_ids)

    def restricted(self, request_id: str) -> builtins.list[str]:
        """The records the request restricts now."""
        c = t.record_restrictions.c
        rows = self.conn.execute(
            select(c.record_id)
            .where(c.request_id == request_id, c.lifted_at.is_(None))
            .order_by(c.record_id)
        )
        return [x[0] for x in rows]

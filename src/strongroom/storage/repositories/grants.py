"""Operators (the SaaS's staff, as people), their confidentiality agreements, and
break-glass grants with the reads each made."""

from __future__ import annotations

import builtins
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Row, func, insert, select, update

from strongroom.storage import tables as t
from strongroom.storage.repositories.base import Repository, fields


class OperatorRow(NamedTuple):
    id: str
    name_sealed: bytes
    email_sealed: bytes
    email_index: bytes
    created_at: datetime


class OperatorAgreementRow(NamedTuple):
    id: str
    operator_id: str
    version: str
    signed_on: date
    recorded_at: datetime


class GrantRow(NamedTuple):
    id: str
    workspace_id: str
    project_id: str | None
    operator_id: str
    reason_sealed: bytes
    ticket_sealed: bytes
    hours: int
    state: str
    emergency: bool
    requested_at: datetime
    requested_by: str
    decided_at: datetime | None = None
    decided_by: str | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    token_id: str | None = None


class GrantReadRow(NamedTuple):
    id: int
    grant_id: str
    workspace_id: str
    at: datetime
    what: str
    audit_seq: int


def _grant(r: Row[Any]) -> GrantRow:
    row = GrantRow._make(r)
    return row._replace(emergency=bool(row.emergency))  # SQLite's 0 and 1


class Operators(Repository):
    def add(self, row: OperatorRow) -> None:
        self.conn.execute(insert(t.operators).values(**fields(row)))

    def get(self, operator_id: str) -> OperatorRow | None:
        r = self.conn.execute(select(t.operators).where(t.operators.c.id == operator_id)).first()
        return None if r is None else OperatorRow(*r)

    def by_email_index(self, index: bytes) -> OperatorRow | None:
        c = t.operators.c
        r = self.conn.execute(select(t.operators).where(c.email_index == index)).first()
        return None if r is None else OperatorRow(*r)

    def list(self) -> builtins.list[OperatorRow]:
        c = t.operators.c
        rows = self.conn.execute(select(t.operators).order_by(c.created_at, c.id))
        return [OperatorRow(*r) for r in rows]

    def add_agreement(self, row: OperatorAgreementRow) -> None:
        self.conn.execute(insert(t.operator_agreements).values(**fields(row)))

    def agreements(self, operator_id: str) -> builtins.list[OperatorAgreementRow]:
        c = t.operator_agreements.c
        rows = self.conn.execute(
            select(t.operator_agreements)
            .where(c.operator_id == operator_id)
            .order_by(c.signed_on, c.recorded_at, c.id)
        )
        return [OperatorAgreementRow(*r) for r in rows]

    def link_token(self, token_id: str, operator_id: str) -> None:
        self.conn.execute(
            insert(t.operator_tokens).values(token_id=token_id, operator_id=operator_id)
        )

    def of_token(self, token_id: str) -> str | None:
        """The operator an operator token was issued to (None: a token of no one)."""
        c = t.operator_tokens.c
        return self.conn.execute(select(c.operator_id).where(c.token_id == token_id)).scalar()


class Grants(Repository):
    def add(self, row: GrantRow) -> None:
        self.conn.execute(insert(t.grants).values(**fields(row)))

    def get(self, grant_id: str, lock: bool = False) -> GrantRow | None:
        query = select(t.grants).where(t.grants.c.id == grant_id)
        if lock and self.is_postgresql:
            query = query.with_for_update()
        r = self.conn.execute(query).first()
        return None if r is None else _grant(r)

    def by_token(self, token_id: str) -> GrantRow | None:
        r = self.conn.execute(select(t.grants).where(t.grants.c.token_id == token_id)).first()
        return None if r is None else _grant(r)

    def for_workspace(self, workspace_id: str) -> builtins.list[GrantRow]:
        c = t.grants.c
        rows = self.conn.execute(
            select(t.grants)
            .where(c.workspace_id == workspace_id)
            .order_by(c.requested_at.desc(), c.id)
        )
        return [_grant(r) for r in rows]

    def decide(
        self,
        grant_id: str,
        state: str,
        now: datetime,
        by: str,
        expires_at: datetime | None,
        emergency: bool = False,
    ) -> None:
        self.conn.execute(
            update(t.grants)
            .where(t.grants.c.id == grant_id)
            .values(
                state=state,
                decided_at=now,
                decided_by=by,
                expires_at=expires_at,
                emergency=emergency,
            )
        )

    def revoke(self, grant_id: str, now: datetime, by: str) -> None:
        self.conn.execute(
            update(t.grants)
            .where(t.grants.c.id == grant_id)
            .values(state="revoked", revoked_at=now, revoked_by=by)
        )

    def set_token(self, grant_id: str, token_id: str) -> int:
        """Record the grant's one token; 0 when one was recorded already (a race)."""
        c = t.grants.c
        return self.conn.execute(
            update(t.grants).where(c.id == grant_id, c.token_id.is_(None)).values(token_id=token_id)
        ).rowcount

    def add_read(self, grant_id: str, workspace_id: str, at: datetime, what: str, seq: int) -> None:
        self.conn.execute(
            insert(t.grant_reads).values(
                grant_id=grant_id, workspace_id=workspace_id, at=at, what=what[:255], audit_seq=seq
            )
        )

    def reads(self, grant_id: str, limit: int = 1000) -> builtins.list[GrantReadRow]:
        c = t.grant_reads.c
        rows = self.conn.execute(
            select(t.grant_reads).where(c.grant_id == grant_id).order_by(c.id).limit(limit)
        )
        return [GrantReadRow(*r) for r in rows]

    def read_counts(self, workspace_id: str) -> dict[str, int]:
        c = t.grant_reads.c
        rows = self.conn.execute(
            select(c.grant_id, func.count())
            .where(c.workspace_id == workspace_id)
            .group_by(c.grant_id)
        )
        return {r[0]: int(r[1]) for r in rows}

"""Agreement versions (insert-only: the database refuses changes) and their acceptances."""

from __future__ import annotations

import builtins
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import IntegrityError

from strongroom.errors import Conflict
from strongroom.storage import tables as t
from strongroom.storage.repositories.base import Repository, fields


class AgreementVersionRow(NamedTuple):
    id: str
    kind: str
    version: str
    body: str
    sha256: str
    effective_on: date
    scc_version: str | None
    published_at: datetime
    published_by: str


class AcceptanceRow(NamedTuple):
    id: str
    workspace_id: str
    version_id: str
    sha256: str
    user_id: str | None
    accepted_at: datetime
    receipt_sealed: bytes
    receipt_sha256: str


_ORDER = (t.agreement_versions.c.published_at, t.agreement_versions.c.id)
#: The advisory lock that serialises publications on PostgreSQL (any fixed number).
_PUBLISHING = 0x5352_4147_5245_454D  # "SRAGREEM"


class Agreements(Repository):
    def newest_publication(self) -> datetime | None:
        """When the newest version was published, with publications serialised to the end
        of the transaction (SQLite: BEGIN IMMEDIATE already does; PostgreSQL: an advisory
        lock), so the next one is ordered strictly after it."""
        if self.is_postgresql:
            self.conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PUBLISHING})
        return self.conn.execute(select(func.max(t.agreement_versions.c.published_at))).scalar()

    def publish(self, row: AgreementVersionRow) -> None:
        try:
            with self.conn.begin_nested():
                self.conn.execute(insert(t.agreement_versions).values(**fields(row)))
        except IntegrityError:
            raise Conflict(
                f"{row.kind} version {row.version} is already published; versions never change"
            ) from None

    def versions(self, kind: str | None = None) -> builtins.list[AgreementVersionRow]:
        """Oldest first, in publication order."""
        query = select(t.agreement_versions).order_by(*_ORDER)
        if kind is not None:
            query = query.where(t.agreement_versions.c.kind == kind)
        return [AgreementVersionRow(*r) for r in self.conn.execute(query)]

    def version(self, kind: str, version: str) -> AgreementVersionRow | None:
        c = t.agreement_versions.c
        row = self.conn.execute(
            select(t.agreement_versions).where(c.kind == kind, c.version == version)
        ).first()
        return None if row is None else AgreementVersionRow(*row)

    def accept(self, row: AcceptanceRow) -> None:
        try:
            with self.conn.begin_nested():
                self.conn.execute(insert(t.agreement_acceptances).values(**fields(row)))
        except IntegrityError:
            raise Conflict(f"{row.workspace_id} already accepted this version") from None

    def accepted(self, workspace_id: str | None = None) -> builtins.list[tuple[str, str, datetime]]:
        """(workspace, version id, accepted at) of every acceptance (of one workspace)."""
        c = t.agreement_acceptances.c
        query = select(c.workspace_id, c.version_id, c.accepted_at).order_by(c.accepted_at)
        if workspace_id is not None:
            query = query.where(c.workspace_id == workspace_id)
        return [(r[0], r[1], r[2]) for r in self.conn.execute(query)]

    def acceptance(self, acceptance_id: str) -> AcceptanceRow | None:
        c = t.agreement_acceptances.c
        row = self.conn.execute(
            select(t.agreement_acceptances).where(c.id == acceptance_id)
        ).first()
        return None if row is None else AcceptanceRow(*row)

    def acceptances(self, workspace_id: str) -> builtins.list[AcceptanceRow]:
        c = t.agreement_acceptances.c
        rows = self.conn.execute(
            select(t.agreement_acceptances)
            .where(c.workspace_id == workspace_id)
            .order_by(c.accepted_at, c.id)
        )
        return [AcceptanceRow(*r) for r in rows]

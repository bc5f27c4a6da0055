"""The deletion ledger: a tombstone (with its signed certificate) of every purge, kept in
the keystore, outside the data backups, and replayed after every restore."""

from __future__ import annotations

import builtins
from datetime import datetime

from sqlalchemy import func, insert, select

from strongroom.domain.lifecycle import PurgeKind
from strongroom.storage import keystore_tables as k
from strongroom.storage.repositories.base import Repository
from strongroom.storage.rows import LedgerRow


class Ledger(Repository):
    def add(self, row: LedgerRow) -> None:
        values = row._asdict()
        del values["seq"]
        self.conn.execute(insert(k.ledger).values(**values))

    def get(self, certificate_id: str) -> LedgerRow | None:
        r = self.conn.execute(
            select(k.ledger).where(k.ledger.c.certificate_id == certificate_id)
        ).first()
        return LedgerRow(*r) if r else None

    def page(
        self, workspace_id: str | None = None, after_seq: int = 0, limit: int = 1000
    ) -> builtins.list[LedgerRow]:
        c = k.ledger.c
        query = select(k.ledger).where(c.seq > after_seq)
        if workspace_id is not None:
            query = query.where(c.workspace_id == workspace_id)
        rows = self.conn.execute(query.order_by(c.seq).limit(limit))
        return [LedgerRow(*r) for r in rows]

    def key_shreds(self, purged_after: datetime) -> builtins.list[tuple[datetime, datetime]]:
        """(deleted_at, purged_at) of every purge since ``purged_after`` that destroyed a
        key (a project's or a workspace's): what keystore backups taken before it hold."""
        c = k.ledger.c
        rows = self.conn.execute(
            select(c.deleted_at, c.purged_at).where(
                c.purged_at > purged_after, c.kind.in_([k for k in PurgeKind if k.shreds_a_key])
            )
        )
        return [(r.deleted_at, r.purged_at) for r in rows]

    def key_shreds_by_workspace(self, purged_after: datetime) -> dict[str, datetime]:
        """The newest purge since ``purged_after`` that destroyed a key, per workspace:
        the workspaces whose key a shred epoch rotates."""
        c = k.ledger.c
        rows = self.conn.execute(
            select(c.workspace_id, func.max(c.purged_at))
            .where(c.purged_at > purged_after, c.kind.in_([k for k in PurgeKind if k.shreds_a_key]))
            .group_by(c.workspace_id)
        )
        return {r[0]: r[1] for r in rows}

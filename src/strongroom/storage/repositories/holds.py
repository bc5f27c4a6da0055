"""Legal holds: each blocks every purge of its workspace or project while active."""

from __future__ import annotations

import builtins
from datetime import datetime

from sqlalchemy import and_, insert, select, update

from strongroom.storage import tables as t
from strongroom.storage.repositories.base import Repository, fields
from strongroom.storage.rows import HoldRow


class Holds(Repository):
    def add(self, row: HoldRow) -> None:
        self.conn.execute(insert(t.holds).values(**fields(row)))

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

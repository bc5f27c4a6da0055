"""The audit chain: its head (sequence number and hash) and its events."""

from __future__ import annotations

import builtins
import json

from sqlalchemy import bindparam, func, insert, select, update

from strongroom.domain.lifecycle import PURGE_CERTIFIED
from strongroom.storage import tables as t
from strongroom.storage.repositories.base import Repository, fields
from strongroom.storage.rows import AuditRow

_SELECT_HEAD = select(t.audit_head.c.seq, t.audit_head.c.hash).where(t.audit_head.c.id == 1)
_LOCK_HEAD = _SELECT_HEAD.with_for_update()
_INSERT_HEAD = insert(t.audit_head)
_UPDATE_HEAD = (
    update(t.audit_head)
    .where(t.audit_head.c.id == 1)
    .values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
)
_INSERT_EVENT = insert(t.audit_events)
_PRIOR = t.audit_events.alias("prior")
# A workspace's event takes the next position of its workspace. Appends serialise on the
# head row's lock, so no two appends can read the same maximum.
_INSERT_WORKSPACE_EVENT = insert(t.audit_events).values(
    workspace_position=select(func.coalesce(func.max(_PRIOR.c.workspace_position), 0) + 1)
    .where(_PRIOR.c.workspace_id == bindparam("event_workspace"))
    .scalar_subquery()
)


class Audit(Repository):
    def head(self, lock: bool) -> tuple[int, str]:
        r = self.conn.execute(_LOCK_HEAD if lock else _SELECT_HEAD).first()
        return (int(r[0]), str(r[1])) if r else (0, "")

    def set_head(self, seq: int, hash_: str, existed: bool) -> None:
        if existed:
            self.conn.execute(_UPDATE_HEAD, {"new_seq": seq, "new_hash": hash_})
        else:
            self.conn.execute(_INSERT_HEAD, {"id": 1, "seq": seq, "hash": hash_})

    def add(self, row: AuditRow) -> None:
        """Add an event; one of a workspace gets its workspace's next position."""
        values = fields(row)
        del values["workspace_position"]
        if row.workspace_id is None:
            self.conn.execute(_INSERT_EVENT, values)
        else:
            self.conn.execute(
                _INSERT_WORKSPACE_EVENT, {**values, "event_workspace": row.workspace_id}
            )

    def scan(self, after_seq: int, limit: int) -> builtins.list[AuditRow]:
        rows = self.conn.execute(
            select(t.audit_events)
            .where(t.audit_events.c.seq > after_seq)
            .order_by(t.audit_events.c.seq)
            .limit(limit)
        )
        return [AuditRow(*r) for r in rows]

    def for_workspace(
        self, workspace_id: str, after_seq: int, limit: int
    ) -> builtins.list[AuditRow]:
        rows = self.conn.execute(
            select(t.audit_events)
            .where(t.audit_events.c.workspace_id == workspace_id, t.audit_events.c.seq > after_seq)
            .order_by(t.audit_events.c.seq)
            .limit(limit)
        )
        return [AuditRow(*r) for r in rows]

    def in_workspace(
        self, workspace_id: str, after_position: int, limit: int
    ) -> builtins.list[AuditRow]:
        """A workspace's events by their position in it (what its members are shown)."""
        c = t.audit_events.c
        rows = self.conn.execute(
            select(t.audit_events)
            .where(c.workspace_id == workspace_id, c.workspace_position > after_position)
            .order_by(c.workspace_position)
            .limit(limit)
        )
        return [AuditRow(*r) for r in rows]

    def subjects(self, action: str) -> builtins.list[str]:
        """The subjects (JSON, as stored) of the deployment-wide events of one action (no
        workspace's), oldest first."""
        c = t.audit_events.c
        rows = self.conn.execute(
            select(c.subject).where(c.workspace_id.is_(None), c.action == action).order_by(c.seq)
        )
        return [str(r[0]) for r in rows]

    def find_certificate(self, certificate_id: str, sha256: str) -> int | None:
        """The sequence number of the event that recorded this certificate's hash."""
        c = t.audit_events.c
        needle = f'%"certificate_sha256":"{sha256}"%'
        rows = self.conn.execute(
            select(c.seq, c.subject).where(c.action == PURGE_CERTIFIED, c.subject.like(needle))
        )
        for seq, subject in rows:
            if json.loads(subject).get("certificate_id") == certificate_id:
                return int(seq)
        return None

"""Console sessions of browsers (their ids only as hashes)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, insert, select, update

from strongroom.storage import tables as t
from strongroom.storage.driver import DriverQuery, utc
from strongroom.storage.repositories.base import Repository

# Every console request reads its session: compiled once, run on the driver's cursor.
_SELECT_SESSION = DriverQuery(
    select(t.browser_sessions.c.data, t.browser_sessions.c.expires_at).where(
        t.browser_sessions.c.id_hash == bindparam("id_hash")
    )
)


class BrowserSessions(Repository):
    def get(self, id_hash: bytes, now: datetime) -> bytes | None:
        """The session's data, unless it has expired."""
        r = _SELECT_SESSION.first(self.conn, {"id_hash": id_hash})
        expires_at = utc(r[1]) if r is not None else None
        if r is None or expires_at is None or expires_at <= now:
            return None
        return bytes(r[0])

    def put(self, id_hash: bytes, data: bytes, expires_at: datetime) -> None:
        changed = self.conn.execute(
            update(t.browser_sessions)
            .where(t.browser_sessions.c.id_hash == id_hash)
            .values(data=data, expires_at=expires_at)
        ).rowcount
        if not changed:
            self.conn.execute(
                insert(t.browser_sessions).values(id_hash=id_hash, data=data, expires_at=expires_at)
            )

    def remove(self, id_hash: bytes) -> None:
        self.conn.execute(delete(t.browser_sessions).where(t.browser_sessions.c.id_hash == id_hash))

    def prune(self, now: datetime) -> int:
        """Forget expired sessions; how many."""
        return self.conn.execute(
            delete(t.browser_sessions).where(t.browser_sessions.c.expires_at <= now)
        ).rowcount

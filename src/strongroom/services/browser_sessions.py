"""Where the console's sessions live: in the data store, so that any API node reads them,
a sign-out or a revoked member session ends them everywhere, and none outlives its expiry.

The browser holds the session id (in a ``__Host-`` cookie, console/sessions.py); the store
keeps only its SHA-256, so a copy of the database signs nobody in."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from strongroom.services.context import Context


def _id_hash(session_id: str) -> bytes:
    return hashlib.sha256(session_id.encode("utf-8")).digest()


class BrowserSessions:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def read(self, session_id: str) -> bytes:
        """The session's data; empty when there is none, or it expired."""
        with self.ctx.store.lookup() as uow:
            data = uow.browser_sessions.get(_id_hash(session_id), self.ctx.clock.now())
        return data or b""

    def write(self, session_id: str, data: bytes, ttl_seconds: int) -> None:
        now = self.ctx.clock.now()
        with self.ctx.store.write() as uow:
            uow.browser_sessions.put(
                _id_hash(session_id), data, now + timedelta(seconds=max(ttl_seconds, 0))
            )
            uow.commit()

    def remove(self, session_id: str) -> None:
        with self.ctx.store.write() as uow:
            uow.browser_sessions.remove(_id_hash(session_id))
            uow.commit()

    def prune(self) -> int:
        """Forget expired sessions (the worker's pass); how many."""
        with self.ctx.store.write() as uow:
            removed = uow.browser_sessions.prune(self.ctx.clock.now())
            uow.commit()
        return removed

"""Where the console's sessions live: in the data store, so that any API node reads them,
a sign-out or a revoked member session ends them everywhere, and none outlives its expiry.

The browser holds the session id (in a ``__Host-`` cookie, console/sessions.py); the store
keeps only its SHA-256, so a copy of the database signs nobody in, and the session's data
sealed under the directory key, bound to that hash (a one-time message may name a project,
a file or a member's email)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from strongroom.crypto.envelope import Binding
from strongroom.crypto.keyring import DIRECTORY
from strongroom.errors import IntegrityFailure
from strongroom.services.context import Context


def _id_hash(session_id: str) -> bytes:
    return hashlib.sha256(session_id.encode("utf-8")).digest()


def _binding(id_hash: bytes) -> Binding:
    return Binding("browser-session", "", "", id_hash.hex())


class BrowserSessions:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def read(self, session_id: str) -> bytes:
        """The session's data; empty when there is none, it expired, or it does not open
        (moved to another id, or tampered with: a new session then)."""
        id_hash = _id_hash(session_id)
        with self.ctx.store.lookup() as uow:
            sealed = uow.browser_sessions.get(id_hash, self.ctx.clock.now())
        if not sealed:
            return b""
        try:
            return self.ctx.open(DIRECTORY, _binding(id_hash), sealed, "console")
        except IntegrityFailure:
            return b""

    def write(self, session_id: str, data: bytes, ttl_seconds: int) -> None:
        now = self.ctx.clock.now()
        id_hash = _id_hash(session_id)
        sealed = self.ctx.seal(DIRECTORY, _binding(id_hash), data)
        with self.ctx.store.write() as uow:
            uow.browser_sessions.put(id_hash, sealed, now + timedelta(seconds=max(ttl_seconds, 0)))
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

"""The console's session cookie (starsessions) over the data store's browser sessions.

starsessions issues the session id, sets and clears the cookie, and serialises the session;
this module only says where sessions are kept: in the data store
(services/browser_sessions.py), so that every API node shares them and ending one ends it
everywhere. The cookie is ``__Host-strongroom``: Secure, HttpOnly, SameSite=Lax, Path=/,
no Domain, and it lives as long as the member session it carries (12 hours, not rolling).
"""

from __future__ import annotations

import json
from collections import OrderedDict

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp
from starsessions import SessionAutoloadMiddleware, SessionMiddleware, SessionStore

from strongroom.services.access import SESSION_HOURS
from strongroom.services.browser_sessions import BrowserSessions

COOKIE = "__Host-strongroom"
_REMEMBERED = 4096  # sessions whose last-read data is kept, to skip writes that change nothing
LIFETIME_SECONDS = SESSION_HOURS * 3600


class DataStoreSessions(SessionStore):
    """starsessions' store interface over :class:`BrowserSessions` (run in a worker thread:
    the store's calls are blocking)."""

    def __init__(self, sessions: BrowserSessions) -> None:
        self._sessions = sessions
        self._read: OrderedDict[str, bytes] = OrderedDict()

    async def read(self, session_id: str, lifetime: int) -> bytes:
        data = await run_in_threadpool(self._sessions.read, session_id)
        self._remember(session_id, data)
        return data

    async def write(self, session_id: str, data: bytes, lifetime: int, ttl: int) -> str:
        # starsessions saves every response's session with a new last-access time; a page
        # view that changed nothing else is not written (the expiry does not roll).
        if self._read.get(session_id) != _essence(data):
            await run_in_threadpool(self._sessions.write, session_id, data, ttl or lifetime)
            self._remember(session_id, data)
        return session_id

    def _remember(self, session_id: str, data: bytes) -> None:
        self._read[session_id] = _essence(data)
        self._read.move_to_end(session_id)
        while len(self._read) > _REMEMBERED:
            self._read.popitem(last=False)

    async def remove(self, session_id: str) -> None:
        self._read.pop(session_id, None)
        await run_in_threadpool(self._sessions.remove, session_id)


def _essence(data: bytes) -> bytes:
    """The session's data without its last-access time (which every request moves)."""
    if not data:
        return b""
    try:
        decoded = json.loads(data)
    except ValueError:
        return data
    decoded.get("__metadata__", {}).pop("last_access", None)
    return json.dumps(decoded, sort_keys=True).encode()


def with_sessions(app: ASGIApp, sessions: BrowserSessions) -> ASGIApp:
    """``app`` with the session loaded on every request (``request.session``)."""
    loaded = SessionAutoloadMiddleware(app)
    return SessionMiddleware(
        loaded,
        store=DataStoreSessions(sessions),
        lifetime=LIFETIME_SECONDS,
        rolling=False,
        cookie_name=COOKIE,
        cookie_same_site="lax",
        cookie_https_only=True,
        cookie_path="/",
    )

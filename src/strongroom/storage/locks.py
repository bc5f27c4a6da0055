"""Locks between processes on different machines that share a PostgreSQL data store:
session-level advisory locks, each on a connection of its own held for the lock's life.
A SQLite data store is one machine's, where a file lock (backup/locking.py) already
reaches every process: nothing is held here for it."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool


def _key(name: str) -> int:
    """A signed 64-bit advisory-lock key for ``name``."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextlib.contextmanager
def machines_lock(database_url: str, name: str, *, exclusive: bool, wait: bool) -> Iterator[bool]:
    """Hold lock ``name`` (exclusive, or shared with other shared holders) while the block
    runs; yields False, holding nothing, if ``wait`` is False and another holds it."""
    if make_url(database_url).get_backend_name() != "postgresql":
        yield True
        return
    kind = "" if exclusive else "_shared"
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(text("SET statement_timeout = 0"))
            if wait:
                conn.execute(text(f"SELECT pg_advisory_lock{kind}(:k)"), {"k": _key(name)})
                taken = True
            else:
                found = conn.execute(
                    text(f"SELECT pg_try_advisory_lock{kind}(:k)"), {"k": _key(name)}
                )
                taken = bool(found.scalar())
            conn.commit()
            try:
                yield taken
            finally:
                if taken:
                    conn.execute(text(f"SELECT pg_advisory_unlock{kind}(:k)"), {"k": _key(name)})
                    conn.commit()
    finally:
        engine.dispose()

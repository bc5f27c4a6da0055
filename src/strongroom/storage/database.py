"""Engines for the data store and the keystore, with the SQLite settings they need."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import ConnectionPoolEntry, SingletonThreadPool

from strongroom.errors import ConfigurationError, StorageUnavailable

#: Execution option asking a SQLite transaction to take the write lock at BEGIN, so two
#: writers queue on busy_timeout instead of failing when they upgrade a read lock.
WRITE = {"strongroom_write": True}


#: Seconds to connect to PostgreSQL (and to wait for a pooled connection) before giving up.
CONNECT_TIMEOUT_SECONDS = 5
#: SQLSTATE classes meaning the server went away or takes no work now: 08 (connection
#: exception) and 57P (operator intervention: shutdown, crash, starting up).
_UNREACHABLE_STATES = ("08", "57P")


#: Threads whose lookup connection a per-thread engine keeps (more are closed, oldest first).
PER_THREAD_CONNECTIONS = 64


def make_engine(url: str, *, per_thread: bool = False) -> Engine:
    """An engine for ``url``. SQLite gets WAL, full sync, foreign keys, a busy timeout and
    secure_delete: freed pages are overwritten with zeros, in the keystore (destroyed keys)
    and in the data store (purged ciphertext, which the online backup API would otherwise
    copy into later backups with the free pages), whatever the build's default.

    ``per_thread`` (SQLite only): one connection per thread, kept (the data store's
    lookups, DataStore.lookups)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database, per_thread)
    if parsed.get_backend_name() != "postgresql":
        raise ConfigurationError(f"unsupported database {parsed.get_backend_name()!r}")
    # A bounded connect: a server that does not answer is StorageUnavailable (503) within
    # CONNECT_TIMEOUT_SECONDS, never a request hanging on it.
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
        pool_timeout=CONNECT_TIMEOUT_SECONDS,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS},
    )


def _sqlite_engine(url: str, database: str | None, per_thread: bool = False) -> Engine:
    if not database or database == ":memory:":
        raise ConfigurationError("SQLite stores must be files (WAL needs one)")
    Path(database).parent.mkdir(parents=True, exist_ok=True)
    # Owner-only from the start; SQLite gives its -wal and -shm files the same mode.
    os.close(os.open(database, os.O_CREAT | os.O_RDWR, 0o600))
    pool: dict[str, Any] = (
        {"poolclass": SingletonThreadPool, "pool_size": PER_THREAD_CONNECTIONS}
        if per_thread
        else {}
    )
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **pool)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        dbapi_connection.text_factory = _text_or_bytes
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("strongroom_write", False)
        # On the DBAPI connection: through exec_driver_sql, BEGIN costs every read more.
        conn.connection.driver_connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")  # type: ignore[union-attr]

    return engine


def _text_or_bytes(raw: bytes) -> str | bytes:
    """TEXT as str; a value that is not UTF-8 (a tampered row) stays bytes, so it fails
    authentication as a ciphertext instead of failing the whole query."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw


def same_database(a: str, b: str) -> bool:
    """Whether two URLs name the same database (ignoring the driver)."""
    ua, ub = make_url(a), make_url(b)
    if ua.get_backend_name() != ub.get_backend_name():
        return False
    if ua.get_backend_name() == "sqlite":
        return Path(ua.database or "").resolve() == Path(ub.database or "").resolve()
    # Credentials and the driver do not make another database; host, port and name do.
    default_port = 5432 if ua.get_backend_name() == "postgresql" else None
    where_a = ((ua.host or "localhost").lower(), ua.port or default_port, ua.database)
    where_b = ((ub.host or "localhost").lower(), ub.port or default_port, ub.database)
    return where_a == where_b


def redact_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def connect(engine: Engine) -> Connection:
    """A connection, or StorageUnavailable with a one-line reason (never a password)."""
    try:
        return engine.connect()
    except OperationalError as e:
        where = engine.url.render_as_string(hide_password=True)
        reason = (str(e.orig or e).strip().splitlines() or ["no reason given"])[0][:200]
        raise StorageUnavailable(f"cannot reach the database {where}: {reason}") from None


def unreachable(error: BaseException | None) -> StorageUnavailable | None:
    """StorageUnavailable for a statement that failed because the database went away (a
    restart, a failover, a dropped connection), else None: such a request is answered
    503 and may be retried; nothing of its transaction was committed. ``error`` is
    SQLAlchemy's, or the driver's own (storage/driver.py runs hot statements on the
    driver's cursor)."""
    if isinstance(error, DBAPIError):
        if not (error.connection_invalidated or _connection_lost(error.orig)):
            return None
        orig: BaseException = error.orig or error
    elif error is not None and _connection_lost(error):
        orig = error
    else:
        return None
    reason = (str(orig).strip().splitlines() or ["no reason given"])[0][:200]
    return StorageUnavailable(f"the database connection was lost: {reason}")


def _connection_lost(error: BaseException | None) -> bool:
    """A PostgreSQL driver (psycopg) error that means the server went away: SQLSTATE 08 or
    57P, or the driver's own Operational/InterfaceError (no SQLSTATE: the connection broke
    or closed under the statement). SQLite's errors carry no ``sqlstate``: never."""
    if error is None or not hasattr(error, "sqlstate"):
        return False
    state = str(error.sqlstate or "")
    if state:
        return state.startswith(_UNREACHABLE_STATES)
    names = {cls.__name__ for cls in type(error).__mro__}
    return bool(names & {"OperationalError", "InterfaceError"})


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def checkpoint(engine: Engine) -> None:
    """Fold the SQLite WAL into the main file and truncate it (after a key is destroyed)."""
    if is_sqlite(engine):
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def vacuum(engine: Engine) -> None:
    """Rebuild a SQLite file so rows just deleted leave no copy in its free pages (after a
    restore replays purges). PostgreSQL's dead tuples are left to autovacuum."""
    if not is_sqlite(engine):
        return
    raw = engine.raw_connection()
    try:
        raw.cursor().execute("VACUUM")
    finally:
        raw.close()

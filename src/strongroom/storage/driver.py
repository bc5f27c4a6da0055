"""The statements every API request runs, executed at the driver level.

SQLAlchemy's execution path (cache key, parameter and result processing, result metadata)
costs several times the query itself, for a token lookup or the read of one record by its
primary key. :class:`DriverQuery` compiles a Core statement once
per dialect and runs the SQL on the unit of work's own DBAPI connection, in its
transaction. The row comes back as the driver returns it: timestamps go through
:func:`utc` to be what ``UtcDateTime`` gives.

Only for a few hot, read-only statements whose parameters are strings and bytes (nothing
that needs a bind processor); everything else goes through ``Connection.execute``.
"""

from __future__ import annotations

import operator
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.expression import Executable


class DriverQuery:
    """A statement compiled once per dialect, run on a connection's DBAPI cursor."""

    def __init__(self, statement: Executable) -> None:
        self._statement = statement
        self._compiled: dict[str, tuple[str, _Arguments]] = {}
        self._lock = threading.Lock()

    def first(self, conn: Connection, params: dict[str, Any]) -> tuple[Any, ...] | None:
        """The first row, or None. ``params`` by bind name, as for ``Connection.execute``."""
        sql, arguments = self._sql(conn.dialect)
        cursor = conn.connection.cursor()
        try:
            cursor.execute(sql, arguments(params))
            row = cursor.fetchone()
        finally:
            cursor.close()
        return None if row is None else tuple(row)

    def _sql(self, dialect: Dialect) -> tuple[str, _Arguments]:
        found = self._compiled.get(dialect.name)
        if found is None:
            with self._lock:
                compiled = self._statement.compile(dialect=dialect)  # type: ignore[attr-defined]
                found = self._compiled[dialect.name] = (compiled.string, _arguments(compiled))
        return found


#: The parameters as the driver takes them, from the parameters by bind name.
_Arguments = Callable[[dict[str, Any]], Any]


def _arguments(compiled: Any) -> _Arguments:
    """By name (PostgreSQL's driver): the dict itself; positional (SQLite's): a tuple, by a
    getter made once (no generator and no lookups in Python per statement)."""
    if not compiled.positional:
        return _same
    positions = tuple(compiled.positiontup)
    if len(positions) == 1:  # itemgetter of one name gives the value, not a tuple
        (name,) = positions
        return lambda params: (params[name],)
    return operator.itemgetter(*positions)


def _same(params: dict[str, Any]) -> dict[str, Any]:
    return params


def utc(value: datetime | str | None) -> datetime | None:
    """A stored timestamp as ``UtcDateTime`` reads it: timezone-aware UTC. SQLite's driver
    gives the text SQLAlchemy wrote (``YYYY-MM-DD HH:MM:SS.ffffff``), PostgreSQL's an
    aware datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        # Parsed with its zone named: one C call, where parsing and then replace(tzinfo=...)
        # costs several (two of these per record read). A text that names a
        # zone of its own fails here and is converted below.
        try:
            return datetime.fromisoformat(value + "+00:00")
        except ValueError:
            value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

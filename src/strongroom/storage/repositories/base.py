"""What every repository shares: the unit of work's connection, and rows as values."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection


class Repository:
    """Statements on the connection of one unit of work (never held past it)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    @property
    def is_postgresql(self) -> bool:
        return self.conn.dialect.name == "postgresql"


def fields(row: Any) -> dict[str, Any]:
    """A row (a named tuple of storage.rows) as the column values of its table."""
    return dict(row._asdict())

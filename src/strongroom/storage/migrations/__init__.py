"""Alembic migrations: one script folder per database (data, keystore).

Alembic is imported only when a database needs upgrading, so opening an up-to-date home
stays fast (the CLI opens one per command).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, inspect, text

from strongroom.storage.database import connect

HERE = Path(__file__).parent
VERSION_TABLE = "alembic_version"
#: PostgreSQL advisory-lock key held while one process upgrades a database (any value
#: unlikely to be chosen by other software sharing the server: "strongrm" as an integer).
UPGRADE_LOCK = 0x7374726F6E67726D


def upgrade(engine: Engine, which: str) -> None:
    """Bring database ``which`` ("data" or "keystore") to the newest revision.

    Several nodes may start at once after an upgrade of the software: on PostgreSQL the
    first takes a transaction-scoped advisory lock and migrates; the others wait for it,
    and Alembic, reading the version table only after the lock, finds nothing to do. On
    SQLite the migration's first write takes the database's write lock the same way."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(HERE / which))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": UPGRADE_LOCK})
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def current_revision(engine: Engine) -> str | None:
    with connect(engine) as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()

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


def upgrade(engine: Engine, which: str) -> None:
    """Bring database ``which`` ("data" or "keystore") to the newest revision."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(HERE / which))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def current_revision(engine: Engine) -> str | None:
    with connect(engine) as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()

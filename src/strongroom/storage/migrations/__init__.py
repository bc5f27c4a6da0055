"""Alembic migrations: one script folder per database (data, keystore)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

HERE = Path(__file__).parent


def _config(which: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE / which))
    return config


def upgrade(engine: Engine, which: str) -> None:
    """Bring database ``which`` ("data" or "keystore") to the newest revision."""
    config = _config(which)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()

"""Schema and concurrency: migrations match the tables; concurrent writers keep the chain."""

from __future__ import annotations

import threading
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from strongroom import init_home, open_strongroom
from strongroom.bootstrap import HEAD_REVISIONS, Strongroom
from strongroom.storage import keystore_tables, migrations, tables


def test_migrations_match_the_table_definitions(sr: Strongroom) -> None:
    for which, engine, metadata in (
        ("data", sr.ctx.store.engine, tables.metadata),
        ("keystore", sr.ctx.keyring.keystore.engine, keystore_tables.metadata),
    ):
        assert migrations.current_revision(engine) == HEAD_REVISIONS[which]
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == []


def test_concurrent_writers_keep_one_unbroken_chain(sr: Strongroom) -> None:
    ws = sr.workspaces.create("Busy Co", "owner@busy.example")
    projects = [sr.projects.create(ws.id, f"P{i}") for i in range(4)]
    errors: list[BaseException] = []

    def writer(project_id: str) -> None:
        try:
            for i in range(15):
                sr.records.put_many(ws.id, project_id, "notes", [{"i": i}, {"i": -i}])
        except BaseException as e:  # surfaced by the assertion below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(p.id,)) for p in projects]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with sr.ctx.store.read() as uow:
        assert uow.records.count(ws.id) == 4 * 15 * 2
    assert sr.audit.verify() == 1 + 1 + 4 + 4 * 15  # init, workspace, projects, puts


def test_sqlite_home_runs_in_wal_mode_with_secure_delete_keystore(tmp_path: Path) -> None:
    sr = open_strongroom(settings=init_home(tmp_path / "home"))
    with sr:
        with sr.ctx.store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        with sr.ctx.keyring.keystore.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA secure_delete").scalar() == 1

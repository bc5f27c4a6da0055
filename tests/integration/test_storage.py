"""Schema and concurrency: migrations match the tables; concurrent writers keep the chain."""

from __future__ import annotations

import sqlite3
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from strongroom import init_home, open_strongroom
from strongroom.bootstrap import HEAD_REVISIONS, Strongroom
from strongroom.errors import Unauthenticated
from strongroom.storage import keystore_tables, migrations, tables
from strongroom.storage.database import make_engine
from tests.conftest import PostgresServer


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


def test_both_sqlite_stores_overwrite_freed_pages_whatever_the_build_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = sqlite3.dbapi2.connect

    def off_by_default(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = real(*args, **kwargs)
        conn.execute("PRAGMA secure_delete=OFF")  # as a build compiled without it
        return conn

    monkeypatch.setattr(sqlite3.dbapi2, "connect", off_by_default)  # what SQLAlchemy calls
    with open_strongroom(settings=init_home(tmp_path / "home")) as sr:
        for engine in (sr.ctx.store.engine, sr.ctx.keyring.keystore.engine):
            with engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA secure_delete").scalar() == 1


def test_hot_statements_at_the_driver_level_read_what_sqlalchemy_reads(sr: Strongroom) -> None:
    ws = sr.workspaces.create("Hot Co", "owner@hot.example")
    prj = sr.projects.create(ws.id, "Reads")
    (record_id,) = sr.records.put_many(ws.id, prj.id, "notes", [{"n": 1}])
    issued = sr.access.create_token(ws.id, "viewer")
    sr.access.revoke(issued.id)
    with sr.ctx.store.read() as uow:
        token = uow.tokens.get(issued.id)
        record = uow.records.get(ws.id, prj.id, record_id)
    assert token is not None and token.revoked_at is not None and record is not None
    with sr.ctx.store.lookup() as uow:
        assert uow.tokens.by_secret_hash(token.secret_hash) == token
    with sr.ctx.store.lookup() as uow:
        assert uow.records.get_live(ws.id, prj.id, record_id) == record
    for stamp in (*token[6:], *record[7:]):
        assert stamp is None or stamp.utcoffset() == timedelta(0)
    with sr.ctx.store.lookup() as uow:
        assert uow.tokens.by_secret_hash(b"\0" * 32) is None
        assert uow.records.get_live(ws.id, prj.id, "rec_" + "a" * 26) is None
        assert uow.records.get_live("ws_" + "a" * 26, prj.id, record_id) is None  # tenant


def test_a_lookup_has_nothing_to_commit(sr: Strongroom) -> None:
    with sr.ctx.store.lookup() as uow, pytest.raises(RuntimeError):
        uow.commit()


def test_kept_lookup_connections_hold_no_snapshot(sr: Strongroom) -> None:
    """SQLite keeps one lookup connection per thread (DataStore.lookups): a revocation
    committed elsewhere is seen by the very next lookup, and no transaction stays open."""
    ws = sr.workspaces.create("A", "owner@a.example")
    issued = sr.access.create_token(ws.id, "owner")
    store = sr.ctx.store
    with store.lookups():
        assert sr.access.authenticate(issued.token).workspace_id == ws.id
        sr.access.revoke(issued.id)  # another connection, committed
        with pytest.raises(Unauthenticated, match="revoked"):
            sr.access.authenticate(issued.token)
    kept = getattr(store._shared, "kept", None)
    if store.lookup_engine is not None:  # SQLite
        assert kept is not None and not kept.closed and not kept.in_transaction()
    else:  # PostgreSQL: one connection per block, returned to the pool
        assert kept is None


@pytest.mark.postgres
@pytest.mark.parametrize("which", ["data", "keystore"])
def test_nodes_starting_at_once_upgrade_a_database_once(
    postgres: PostgresServer, which: str
) -> None:
    """Several API nodes and workers started together after an upgrade each open the
    database: one migrates, the others wait for it and find nothing left to do."""
    name = f"{postgres.prefix}_race_{which}"
    postgres.execute(f'CREATE DATABASE "{name}"')
    engines = [make_engine(postgres.url(name)) for _ in range(4)]
    start = threading.Barrier(len(engines))
    failures: list[BaseException] = []

    def node(engine: Engine) -> None:
        start.wait()
        try:
            migrations.upgrade(engine, which)
        except BaseException as e:
            failures.append(e)

    threads = [threading.Thread(target=node, args=(e,), daemon=True) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)  # unlocked, concurrent upgrades wait on each other for ever
    try:
        assert not any(t.is_alive() for t in threads), "a node is stuck in its upgrade"
        assert failures == []
        assert migrations.current_revision(engines[0]) == HEAD_REVISIONS[which]
    finally:
        for engine in engines:
            engine.dispose()

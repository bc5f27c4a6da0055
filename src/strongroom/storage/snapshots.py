"""Consistent snapshots of a database as one byte stream, and loading one back.

- SQLite: the online backup API copies the database, in one step, into a temporary file
  (owner-only, in a folder the caller names, deleted on exit) while writers go on in WAL
  mode; the stream is that file.
- PostgreSQL: a REPEATABLE READ transaction exports its snapshot; ``pg_dump -Fc
  --snapshot`` streams exactly that state on its stdout, and the facts (counts, blob keys)
  are read inside the same transaction, so they describe the very same state.

Loading: SQLite writes the stream to ``<file>.restoring`` and renames it into place;
PostgreSQL pipes it into ``pg_restore`` on an empty database.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import shutil
import signal
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlalchemy import create_engine, inspect, make_url, text

from strongroom.errors import Conflict, StorageUnavailable

#: What a snapshot of each database reports about itself (plain counts and blob keys).
COUNTS = {
    "data": {
        "workspaces": "SELECT count(*) FROM workspaces",
        "projects": "SELECT count(*) FROM projects",
        "records": "SELECT count(*) FROM records",
        "files": "SELECT count(*) FROM files",
        "audit_events": "SELECT count(*) FROM audit_events",
    },
    "keystore": {
        "workspace_keys": "SELECT count(*) FROM workspace_keys",
        "data_keys": "SELECT count(*) FROM data_keys",
        "tombstones": "SELECT count(*) FROM ledger",
    },
}
BLOB_KEYS = (
    "SELECT blob_key FROM files UNION "
    "SELECT blob_key FROM export_jobs WHERE blob_key IS NOT NULL ORDER BY 1"
)
REVISION = "SELECT version_num FROM alembic_version"


@dataclass
class SnapshotFacts:
    backend: str
    revision: str
    counts: dict[str, int]
    blob_keys: list[str] = field(default_factory=list)


def backend_of(url: str) -> str:
    return make_url(url).get_backend_name()


def sqlite_path(url: str) -> Path:
    return Path(make_url(url).database or "")


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URL for pg_dump/pg_restore and its environment (the password goes in
    PGPASSWORD, never on a command line)."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _die_with_parent() -> None:
    """In a pg_dump/pg_restore child: be killed when the Strongroom process dies (Linux),
    so a killed restore leaves no orphan writing into the database."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise StorageUnavailable(f"{name} is not installed; PostgreSQL backups need it")
    return found


# taking a snapshot ------------------------------------------------------------------------
@contextlib.contextmanager
def snapshot(url: str, which: str, scratch: Path) -> Iterator[tuple[IO[bytes], SnapshotFacts]]:
    """A consistent snapshot of database ``which`` ("data" or "keystore") at ``url``: a
    readable stream and the facts of that state. The stream must be read to its end."""
    if backend_of(url) == "sqlite":
        with _sqlite_snapshot(url, which, scratch) as taken:
            yield taken
    else:
        with _postgres_snapshot(url, which) as taken:
            yield taken


def _sqlite_facts(conn: Any, which: str) -> SnapshotFacts:
    counts = {name: int(conn.execute(q).fetchone()[0]) for name, q in COUNTS[which].items()}
    revision = str(conn.execute(REVISION).fetchone()[0])
    blobs = [r[0] for r in conn.execute(BLOB_KEYS)] if which == "data" else []
    return SnapshotFacts("sqlite", revision, counts, blobs)


@contextlib.contextmanager
def _sqlite_snapshot(
    url: str, which: str, scratch: Path
) -> Iterator[tuple[IO[bytes], SnapshotFacts]]:
    temp = scratch / f".{which}-{secrets.token_hex(6)}.snapshot"
    os.close(os.open(temp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    try:
        source = sqlite3.connect(sqlite_path(url), timeout=30)
        target = sqlite3.connect(temp)
        try:
            source.execute("PRAGMA busy_timeout=30000")
            source.backup(target)  # one step: a single read transaction, consistent
            facts = _sqlite_facts(target, which)
        finally:
            target.close()
            source.close()
        with open(temp, "rb") as stream:
            yield stream, facts
    finally:
        temp.unlink(missing_ok=True)


@contextlib.contextmanager
def _postgres_snapshot(url: str, which: str) -> Iterator[tuple[IO[bytes], SnapshotFacts]]:
    engine = create_engine(url, poolclass=None)
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                name = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
                counts = {
                    k: int(conn.execute(text(q)).scalar_one()) for k, q in COUNTS[which].items()
                }
                revision = str(conn.execute(text(REVISION)).scalar_one())
                blobs = [r[0] for r in conn.execute(text(BLOB_KEYS))] if which == "data" else []
                facts = SnapshotFacts("postgresql", revision, counts, blobs)
                libpq, env = _libpq(url)
                command = [_tool("pg_dump"), "-Fc", "--no-owner", "--no-privileges"]
                command += [f"--snapshot={name}", "--dbname", libpq]
                with subprocess.Popen(
                    command,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    env=env,
                    preexec_fn=_die_with_parent,  # async-signal-safe enough: prctl only
                ) as dump:
                    assert dump.stdout is not None and dump.stderr is not None
                    try:
                        yield dump.stdout, facts
                    except BaseException:
                        dump.kill()
                        raise
                    error = dump.stderr.read().decode("utf-8", "replace")
                    if dump.wait() != 0:
                        raise StorageUnavailable(f"pg_dump failed: {_first_line(error)}")
    finally:
        engine.dispose()


def _first_line(text_: str) -> str:
    return (text_.strip().splitlines() or ["no reason given"])[0][:200]


# loading a snapshot -----------------------------------------------------------------------
class _Sink:
    def __init__(self, write: Callable[[bytes], object]) -> None:
        self.write = write


@contextlib.contextmanager
def loader(url: str) -> Iterator[_Sink]:
    """A sink for a snapshot stream into the (new, empty) database at ``url``; the data
    is in place only when the block ends without error."""
    if backend_of(url) == "sqlite":
        final = sqlite_path(url)
        if final.exists() and final.stat().st_size:
            raise Conflict(f"{final} exists; a restore writes only into a new database")
        final.parent.mkdir(parents=True, exist_ok=True)
        temp = final.with_name(final.name + ".restoring")
        fd = os.open(temp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "wb") as out:
            try:
                yield _Sink(out.write)
                out.flush()
                os.fsync(out.fileno())
            except BaseException:
                out.close()
                temp.unlink(missing_ok=True)
                raise
        for suffix in ("-wal", "-shm"):
            final.with_name(final.name + suffix).unlink(missing_ok=True)
        os.replace(temp, final)
        return
    if not is_empty(url):
        raise Conflict(f"{redact(url)} is not empty; a restore writes only into an empty database")
    libpq, env = _libpq(url)
    command = [_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error"]
    command += ["--dbname", libpq]
    with subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        preexec_fn=_die_with_parent,  # async-signal-safe enough: prctl only
    ) as load:
        assert load.stdin is not None and load.stderr is not None
        try:
            yield _Sink(load.stdin.write)
            load.stdin.close()
        except BaseException:
            load.kill()
            raise
        error = load.stderr.read().decode("utf-8", "replace")
        if load.wait() != 0:
            raise StorageUnavailable(f"pg_restore failed: {_first_line(error)}")


def redact(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def is_empty(url: str) -> bool:
    """Whether the database at ``url`` holds no tables (a SQLite file: missing or empty)."""
    if backend_of(url) == "sqlite":
        path = sqlite_path(url)
        return not path.exists() or path.stat().st_size == 0
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return not inspect(conn).get_table_names()
    finally:
        engine.dispose()


def clear(url: str) -> None:
    """Empty the database at ``url`` (a half-finished restore into it is redone)."""
    if backend_of(url) == "sqlite":
        path = sqlite_path(url)
        for suffix in ("", "-wal", "-shm", ".restoring"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        return
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(  # a killed restore's pg_restore may still be writing
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


@contextlib.contextmanager
def scratch_database(like_url: str, folder: Path) -> Iterator[str]:
    """An empty database of the same kind as ``like_url``, dropped afterwards: a SQLite file
    in ``folder`` or a new database on the same PostgreSQL server."""
    if backend_of(like_url) == "sqlite":
        path = folder / f".scratch-{secrets.token_hex(6)}.db"
        try:
            yield f"sqlite:///{path}"
        finally:
            for suffix in ("", "-wal", "-shm", ".restoring"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
        return
    name = f"strongroom_scratch_{secrets.token_hex(6)}"
    admin = create_engine(like_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(like_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()

"""Units of work: one transaction on one database, rolled back unless committed.

with store.write() as uow:
    uow.records.add_many(rows)
    uow.commit()
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import Connection, Engine

from strongroom.storage import repositories as r
from strongroom.storage.database import WRITE, connect
from strongroom.storage.keystore import Keystore


class _Transaction:
    conn: Connection

    def __init__(self, engine: Engine, write: bool) -> None:
        self._engine = engine
        self._write = write

    def _open(self) -> None:
        conn = connect(self._engine)
        if self._write:
            conn = conn.execution_options(**WRITE)
        self.conn = conn
        self._tx = conn.begin()

    def commit(self) -> None:
        self._tx.commit()

    def rollback(self) -> None:
        if self._tx.is_active:
            self._tx.rollback()

    def _close(self) -> None:
        try:
            self.rollback()
        finally:
            self.conn.close()


class DataUnitOfWork(_Transaction):
    def __enter__(self) -> DataUnitOfWork:
        self._open()
        c = self.conn
        self.users = r.Users(c)
        self.workspaces = r.Workspaces(c)
        self.members = r.Members(c)
        self.projects = r.Projects(c)
        self.collections = r.Collections(c)
        self.records = r.Records(c)
        self.record_index = r.RecordIndex(c)
        self.files = r.Files(c)
        self.audit = r.Audit(c)
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._close()


class KeystoreUnitOfWork(_Transaction):
    def __enter__(self) -> KeystoreUnitOfWork:
        self._open()
        self.keys = Keystore(self.conn)
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._close()


class DataStore:
    """The data store's engine and its units of work."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def read(self) -> DataUnitOfWork:
        return DataUnitOfWork(self.engine, write=False)

    def write(self) -> DataUnitOfWork:
        return DataUnitOfWork(self.engine, write=True)


class KeystoreStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def read(self) -> KeystoreUnitOfWork:
        return KeystoreUnitOfWork(self.engine, write=False)

    def write(self) -> KeystoreUnitOfWork:
        return KeystoreUnitOfWork(self.engine, write=True)

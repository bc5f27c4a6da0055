"""Units of work: one transaction on one database, rolled back unless committed; every
statement is a method of one of its repositories (storage/repositories/).

with store.write() as uow:
    uow.records.add_many(rows)
    uow.commit()
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Generic, TypeVar, overload

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from strongroom.storage import migrations
from strongroom.storage.database import (
    WRITE,
    checkpoint,
    connect,
    make_engine,
    unreachable,
    vacuum,
)
from strongroom.storage.repositories.agreements import Agreements
from strongroom.storage.repositories.audit import Audit
from strongroom.storage.repositories.backups import Backups
from strongroom.storage.repositories.billing import BillingEvents
from strongroom.storage.repositories.browser_sessions import BrowserSessions
from strongroom.storage.repositories.chores import ChoreLeases
from strongroom.storage.repositories.deadlines import Deadlines
from strongroom.storage.repositories.exports import ExportJobs
from strongroom.storage.repositories.files import Files
from strongroom.storage.repositories.grants import Grants, Operators
from strongroom.storage.repositories.holds import Holds
from strongroom.storage.repositories.inbox import Inbox
from strongroom.storage.repositories.keys import Keys
from strongroom.storage.repositories.ledger import Ledger
from strongroom.storage.repositories.privacy_requests import PrivacyRequests
from strongroom.storage.repositories.projects import Projects
from strongroom.storage.repositories.promise_checks import PromiseChecks, PromiseEvidence
from strongroom.storage.repositories.records import RecordIndex, Records
from strongroom.storage.repositories.shredding import Shredding
from strongroom.storage.repositories.subprocessors import (
    SubprocessorDeliveries,
    SubprocessorNotices,
    SubprocessorObjections,
    SubprocessorSubscribers,
    SubscribeAttempts,
)
from strongroom.storage.repositories.tokens import Tokens
from strongroom.storage.repositories.trash import Trash
from strongroom.storage.repositories.users import AddressFailures, LoginFailures, Users
from strongroom.storage.repositories.workspaces import Collections, Members, Workspaces

R = TypeVar("R")


class _Transaction:
    conn: Connection

    def __init__(
        self,
        engine: Engine,
        write: bool,
        begin: bool = True,
        borrowed: Connection | None = None,
    ) -> None:
        self._engine = engine
        self._write = write
        self._begin = begin
        self._borrowed = borrowed

    def _open(self) -> None:
        conn = self._borrowed
        if conn is None:
            conn = connect(self._engine)
        if self._write:
            conn = conn.execution_options(**WRITE)
        self.conn = conn
        self._tx = conn.begin() if self._begin else None

    def commit(self) -> None:
        if self._tx is None:
            raise RuntimeError("a lookup has nothing to commit")
        self._tx.commit()

    def rollback(self) -> None:
        if self._tx is not None and self._tx.is_active:
            self._tx.rollback()

    def _finish(self, error: BaseException | None) -> None:
        """Close; a statement that failed because the database went away is raised as
        StorageUnavailable (so is a rollback that fails for that reason)."""
        try:
            self._close()
        except DBAPIError as failed:
            lost = unreachable(failed) if error is None else None
            if lost is not None:
                raise lost from failed
            if error is None:
                raise
        lost = unreachable(error)
        if lost is not None:
            raise lost from error

    def _close(self) -> None:
        tx = self._tx  # rolled back here, not through rollback(): one call less per lookup
        try:
            if tx is not None and tx.is_active:
                tx.rollback()
        finally:
            if self._borrowed is None:
                self.conn.close()


class _Repository(Generic[R]):
    """A repository made on first use, then kept in the unit of work's ``__dict__`` (where
    later reads find it without calling here). ``functools.cached_property`` without its
    lock (Python 3.11 takes one on every first use): a unit of work is one thread's."""

    def __init__(self, make: Callable[[Connection], R]) -> None:
        self._make = make
        self._name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, uow: None, owner: type) -> _Repository[R]: ...

    @overload
    def __get__(self, uow: _Transaction, owner: type | None = None) -> R: ...

    def __get__(self, uow: _Transaction | None, owner: Any = None) -> R | _Repository[R]:
        if uow is None:
            return self
        repository = uow.__dict__[self._name] = self._make(uow.conn)
        return repository


class DataUnitOfWork(_Transaction):
    """Repositories are made on first use: a read of one record needs one of many."""

    users = _Repository(Users)
    login_failures = _Repository(LoginFailures)
    address_failures = _Repository(AddressFailures)
    workspaces = _Repository(Workspaces)
    members = _Repository(Members)
    collections = _Repository(Collections)
    projects = _Repository(Projects)
    records = _Repository(Records)
    record_index = _Repository(RecordIndex)
    files = _Repository(Files)
    audit = _Repository(Audit)
    tokens = _Repository(Tokens)
    browser_sessions = _Repository(BrowserSessions)
    trash = _Repository(Trash)
    deadlines = _Repository(Deadlines)
    holds = _Repository(Holds)
    billing = _Repository(BillingEvents)
    export_jobs = _Repository(ExportJobs)
    shredding = _Repository(Shredding)
    backups = _Repository(Backups)
    privacy_requests = _Repository(PrivacyRequests)
    inbox = _Repository(Inbox)  # the request inbox (support, security, privacy)
    # the trust center's results, and what its checks read
    promise_checks = _Repository(PromiseChecks)
    promise_evidence = _Repository(PromiseEvidence)
    chore_leases = _Repository(ChoreLeases)  # one worker at a time per scheduled chore
    agreements = _Repository(Agreements)
    # staff and break-glass grants (issue 17)
    operators = _Repository(Operators)
    grants = _Repository(Grants)
    # subprocessors (issue 14, item 3)
    subprocessor_notices = _Repository(SubprocessorNotices)
    subprocessor_objections = _Repository(SubprocessorObjections)
    subprocessor_subscribers = _Repository(SubprocessorSubscribers)
    subprocessor_deliveries = _Repository(SubprocessorDeliveries)
    subscribe_attempts = _Repository(SubscribeAttempts)

    def __enter__(self) -> DataUnitOfWork:
        self._open()
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._finish(e)


class KeystoreUnitOfWork(_Transaction):
    def __enter__(self) -> KeystoreUnitOfWork:
        self._open()
        self.keys = Keys(self.conn)
        self.ledger = Ledger(self.conn)
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._finish(e)


class _PerThread(threading.local):
    """A thread's lookup connections; the class attributes are the defaults every thread
    starts with (read as plain attributes, no getattr with a default)."""

    #: The connection of the :meth:`DataStore.lookups` block this thread is in.
    conn: Connection | None = None
    #: SQLite: this thread's kept lookup connection.
    kept: Connection | None = None


class DataStore:
    """The data store's engine and its units of work."""

    def __init__(self, engine: Engine, lookup_engine: Engine | None = None) -> None:
        self.engine = engine
        #: SQLite: an engine keeping one connection per thread for :meth:`lookups`.
        self.lookup_engine = lookup_engine
        self._shared = _PerThread()

    def read(self) -> DataUnitOfWork:
        return DataUnitOfWork(self.engine, write=False)

    def write(self) -> DataUnitOfWork:
        return DataUnitOfWork(self.engine, write=True)

    def lookup(self) -> DataUnitOfWork:
        """A read of ONE statement, without a transaction of its own: a single statement is
        atomic and sees one snapshot in both databases. On SQLite this saves the BEGIN and
        ROLLBACK of a read (two calls into the driver, each a GIL hand-over on the API's
        request path); anything run through ``Connection.execute`` still begins one.
        Inside :meth:`lookups`, it borrows that block's connection."""
        return DataUnitOfWork(self.engine, False, False, self._shared.conn)

    @contextmanager
    def lookups(self) -> Iterator[None]:
        """The lookups of this thread inside the block share one connection (one pool
        checkout instead of one each: a request's token check and its read). Each is still
        its own statement, seeing what is committed when it runs."""
        if self._shared.conn is not None:
            yield
            return
        conn = self._kept_connection() if self.lookup_engine is not None else None
        conn = conn or connect(self.engine)
        self._shared.conn = conn
        try:
            yield
        finally:
            self._shared.conn = None
            if conn.in_transaction():  # a lookup must leave none open; never keep one
                conn.rollback()
            if conn is not self._shared.kept:
                conn.close()

    def _kept_connection(self) -> Connection:
        """This thread's lookup connection (SQLite), made on first use and kept: idle
        between requests with no transaction open, so it holds no read snapshot."""
        assert self.lookup_engine is not None
        kept = self._shared.kept
        if kept is None or kept.closed or kept.invalidated:
            kept = self._shared.kept = connect(self.lookup_engine)
        return kept

    def vacuum(self) -> None:
        """SQLite: rebuild the file so rows just deleted leave no copy in its free pages."""
        vacuum(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
        if self.lookup_engine is not None:
            self.lookup_engine.dispose()


class KeystoreStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def read(self) -> KeystoreUnitOfWork:
        return KeystoreUnitOfWork(self.engine, write=False)

    def write(self) -> KeystoreUnitOfWork:
        return KeystoreUnitOfWork(self.engine, write=True)

    def checkpoint(self) -> None:
        """SQLite: fold the WAL into the main file and truncate it (after a key is
        destroyed, so no copy of its row lingers in the WAL)."""
        checkpoint(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()


def open_stores(
    database_url: str, keystore_url: str, heads: dict[str, str]
) -> tuple[DataStore, KeystoreStore]:
    """The data store and the keystore, each migrated to ``heads[which]`` if behind."""
    sqlite = database_url.startswith("sqlite")
    lookups = make_engine(database_url, per_thread=True) if sqlite else None
    data = DataStore(make_engine(database_url), lookups)
    keystore = KeystoreStore(make_engine(keystore_url))
    try:
        for engine, which in ((data.engine, "data"), (keystore.engine, "keystore")):
            if migrations.current_revision(engine) != heads[which]:
                migrations.upgrade(engine, which)
    except BaseException:
        data.dispose()
        keystore.dispose()
        raise
    return data, keystore

"""The deletion ledger: a tombstone of every purge, with its signed certificate.

It lives in the keystore's database (outside the data backups) and is replayed after every
restore (backup/restore.py), so a restore never brings purged data back. Appends are
idempotent: a tombstone is keyed by its certificate id, chosen before the purge shreds.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from strongroom.storage.rows import LedgerRow
from strongroom.storage.unit_of_work import KeystoreStore

#: Tombstones read at a time.
PAGE = 1000


class Ledger:
    def __init__(self, keystore: KeystoreStore) -> None:
        self._keystore = keystore

    def get(self, certificate_id: str) -> LedgerRow | None:
        with self._keystore.read() as uow:
            return uow.ledger.get(certificate_id)

    def page(
        self, workspace_id: str | None = None, after_seq: int = 0, limit: int = PAGE
    ) -> list[LedgerRow]:
        """Tombstones after ``after_seq``, oldest first (of one workspace, or of all)."""
        with self._keystore.read() as uow:
            return uow.ledger.page(workspace_id, after_seq, limit)

    def all(self, workspace_id: str | None = None) -> list[LedgerRow]:
        """Every tombstone, oldest first, read a page at a time."""
        rows: list[LedgerRow] = []
        while page := self.page(workspace_id, rows[-1].seq if rows else 0):
            rows += page
        return rows

    def append_once(self, certificate_id: str, make: Callable[[], LedgerRow]) -> None:
        """Append the tombstone ``make()`` builds, unless ``certificate_id`` is recorded
        already (a rerun of the same purge, or a replay into a ledger that has it)."""
        with self._keystore.write() as uow:
            if uow.ledger.get(certificate_id) is None:
                uow.ledger.add(make())
                uow.commit()

    def key_shreds(self, purged_after: datetime) -> list[tuple[datetime, datetime]]:
        """(deleted_at, purged_at) of every purge since ``purged_after`` that destroyed a
        key: what keystore backups taken before it hold."""
        with self._keystore.read() as uow:
            return uow.ledger.key_shreds(purged_after)

    def key_shreds_by_workspace(self, purged_after: datetime) -> dict[str, datetime]:
        """Per workspace, the newest purge since ``purged_after`` that destroyed a key."""
        with self._keystore.read() as uow:
            return uow.ledger.key_shreds_by_workspace(purged_after)

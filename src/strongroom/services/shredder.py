"""The shredder: what every permanent deletion runs, whoever asks (a purge on its deadline,
the ledger replay after a restore, a privacy request's erasure).

For one subject (a project, a record, a file or a whole workspace), in this order:

1. destroy its key (a project's data key; a workspace's key and every key it wraps), so
   every copy of its ciphertext, in every backup, is unreadable from here on;
2. delete its records with their blind-index entries, in committed batches;
3. delete its files in batches, each batch's blobs BEFORE their rows: a crash between
   leaves rows naming blobs that are gone, which a rerun finds and finishes (deleting a
   missing blob does nothing). The other order would leave blobs no row names, which no
   rerun would ever find;
4. delete what else the subject owns, in one transaction: a project's row and the trash
   entries inside it (closed as purged, their purges cancelled); a workspace's rows of
   every table, after its export artifacts' blobs.

A privacy erasure names its records and files one by one (:meth:`Shredder.delete_listed`):
steps 2 and 3 on those only; no key is destroyed (the project keeps its other records).

Every step may run twice: deleting what is gone does nothing. The caller records its own
progress in the transactions the shredder opens (``on_batch``, ``last``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from strongroom.blobs.base import BlobStore
from strongroom.crypto.keyring import Keyring
from strongroom.domain.lifecycle import DeadlineAction, EntryState, PurgeKind, TrashKind
from strongroom.storage.repositories.shredding import Scope
from strongroom.storage.unit_of_work import DataStore, DataUnitOfWork

#: Rows deleted per transaction.
BATCH = 500

#: Called in each batch's transaction with the index entries it deleted.
OnBatch = Callable[[DataUnitOfWork, int], None]
#: Called in the last transaction with what it deleted (a workspace's rows by table).
Last = Callable[[DataUnitOfWork, dict[str, int]], None]


@dataclass(frozen=True)
class Subject:
    """What one permanent deletion deletes."""

    kind: PurgeKind
    workspace_id: str
    subject_id: str  # the project, record or file id; the workspace id for a workspace

    @property
    def scope(self) -> Scope:
        """The column of records and files that names the subject's rows."""
        if self.kind is PurgeKind.WORKSPACE:
            return "workspace_id"
        return "project_id" if self.kind is PurgeKind.PROJECT else "id"


class Shredder:
    def __init__(self, store: DataStore, keyring: Keyring, blobs: BlobStore) -> None:
        self._store = store
        self._keyring = keyring
        self._blobs = blobs

    def destroy_keys(self, subject: Subject) -> None:
        """Destroy the subject's key, if it has one of its own (idempotent)."""
        if subject.kind is PurgeKind.PROJECT:
            self._keyring.destroy_data_key(subject.subject_id)
        elif subject.kind is PurgeKind.WORKSPACE:
            self._keyring.destroy_workspace_keys(subject.workspace_id)

    def count(self, uow: DataUnitOfWork, subject: Subject) -> dict[str, int]:
        """Records and files (with their bytes) the subject still has."""
        return uow.shredding.counts(subject.scope, subject.subject_id)

    def delete(
        self,
        subject: Subject,
        now: datetime,
        *,
        keep_deadline: str = "",
        on_batch: OnBatch | None = None,
        last: Last | None = None,
    ) -> None:
        """Delete the subject's rows and blobs (steps 2 to 4 above). ``keep_deadline`` is
        the deadline running a workspace's purge, which outlives the workspace."""
        self._delete_records(subject, on_batch)
        self._delete_files(subject, on_batch)
        if subject.kind is PurgeKind.WORKSPACE:
            with self._store.read() as uow:
                exports = uow.shredding.export_blobs(subject.workspace_id)
            for key in exports:
                self._blobs.delete(key)
        with self._store.write() as uow:
            removed: dict[str, int] = {}
            if subject.kind is PurgeKind.WORKSPACE:
                removed = uow.shredding.delete_workspace(subject.workspace_id, keep_deadline)
            elif subject.kind is PurgeKind.PROJECT:
                close_nested_entries(uow, subject.subject_id, now)
                uow.shredding.delete_project(subject.subject_id)
            if last is not None:
                last(uow, removed)
            uow.commit()

    def delete_listed(
        self,
        workspace_id: str,
        record_ids: list[str],
        file_ids: list[str],
        now: datetime,
        *,
        on_batch: OnBatch | None = None,
        last: Last | None = None,
    ) -> None:
        """Delete the workspace's listed records (with their index entries) and files (blobs
        before rows; ids of another workspace's are ignored), in batches, closing their
        trash entries as purged (their own purges cancelled); ``last`` runs in a
        transaction of its own at the end."""
        for start in range(0, len(record_ids), BATCH):
            with self._store.write() as uow:
                batch = uow.shredding.listed_records(
                    workspace_id, record_ids[start : start + BATCH]
                )
                index_entries = uow.shredding.delete_records(batch) if batch else 0
                uow.trash.close_purged(batch, now)  # those deleted from the trash
                if on_batch is not None:
                    on_batch(uow, index_entries)
                uow.commit()
        for start in range(0, len(file_ids), BATCH):
            with self._store.read() as uow:
                files = uow.shredding.listed_files(workspace_id, file_ids[start : start + BATCH])
            for _file_id, blob_key in files:  # blobs before rows: see the module's step 3
                self._blobs.delete(blob_key)
            with self._store.write() as uow:
                uow.shredding.delete_files([file_id for file_id, _ in files])
                uow.trash.close_purged([file_id for file_id, _ in files], now)
                if on_batch is not None:
                    on_batch(uow, 0)
                uow.commit()
        with self._store.write() as uow:
            if last is not None:
                last(uow, {})
            uow.commit()

    def _delete_records(self, subject: Subject, on_batch: OnBatch | None) -> None:
        while True:
            with self._store.write() as uow:
                record_ids = uow.shredding.record_ids(subject.scope, subject.subject_id, BATCH)
                if not record_ids:
                    return
                index_entries = uow.shredding.delete_records(record_ids)
                if on_batch is not None:
                    on_batch(uow, index_entries)
                uow.commit()

    def _delete_files(self, subject: Subject, on_batch: OnBatch | None) -> None:
        while True:
            with self._store.read() as uow:
                files = uow.shredding.files(subject.scope, subject.subject_id, BATCH)
            if not files:
                return
            for _file_id, blob_key in files:  # blobs before rows: see the module's step 3
                self._blobs.delete(blob_key)
            with self._store.write() as uow:
                uow.shredding.delete_files([file_id for file_id, _ in files])
                if on_batch is not None:
                    on_batch(uow, 0)
                uow.commit()


def close_nested_entries(uow: DataUnitOfWork, project_id: str, now: datetime) -> None:
    """Trash entries of records and files inside a purged project: their data went with
    it, so they are purged, and their own purges cancelled."""
    for entry in uow.trash.of_project(project_id, EntryState.TRASHED):
        if entry.kind != TrashKind.PROJECT:
            uow.deadlines.cancel_for(entry.id, (DeadlineAction.PURGE_TRASH,), now)
            uow.trash.set_state(entry.id, EntryState.PURGED, now)

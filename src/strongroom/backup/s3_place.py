"""Backups in an S3 bucket (``backup_url = "s3://bucket/prefix"``): the folder's layout
(backup/manifest.py) as object names under the prefix, through the S3 blob store's client
(blobs/s3.py: multipart uploads, errors, credentials from the AWS chain only).

The folder's guarantees, on S3:

* nothing half-written is visible: every part is one upload that appears only when
  completed (an exception aborts it), and the manifest is written last; a backup whose
  manifest is missing is not a backup (not listed, removed by the next writer);
* deletion really deletes: a bucket that keeps object versions (versioning enabled or
  suspended) is refused before anything is written or deleted, since a delete there
  only hides the bytes behind a delete marker;
* the lock: S3 has none, so the place's lock is a file in the home
  (``HOME/.backup-place.lock``) for the processes of this machine and, with a PostgreSQL
  data store, an advisory lock named after ``backup_url`` for those of every machine
  (storage/locks.py): a backup written on one node is never expired under it by a worker
  on another;
* S3 down: StorageUnavailable (503, CLI exit 2) before anything is recorded as done.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from strongroom.backup.locking import folder_lock
from strongroom.backup.manifest import DATA, BackupPlace, PartWriter
from strongroom.blobs.s3 import S3BlobStore
from strongroom.errors import ConfigurationError, Conflict, NotFound
from strongroom.storage.locks import machines_lock

LOCK_FOLDER = ".backup-place.lock"
#: An empty object written with the first backup and never deleted: the prefix held
#: backups, even once every one has expired (a folder keeps its empty ``data/``).
MADE = DATA + "/.backups-made"


def split_backup_url(url: str) -> tuple[str, str]:
    """``(bucket, prefix)`` of ``s3://bucket/prefix`` (the prefix ends with / or is "")."""
    parts = urlsplit(url)
    prefix = parts.path.strip("/")
    return parts.netloc, prefix + "/" if prefix else ""


class S3Place(BackupPlace):
    def __init__(self, store: S3BlobStore, url: str, home: Path, database_url: str = "") -> None:
        self.store = store
        self.where = url
        self.home = home
        #: The data store every node shares: the place's lock across machines is held there.
        self.database_url = database_url
        self._checked = False

    @classmethod
    def at(
        cls,
        url: str,
        home: Path,
        endpoint_url: str = "",
        region: str = "",
        database_url: str = "",
    ) -> S3Place:
        bucket, prefix = split_backup_url(url)
        store = S3BlobStore(bucket, prefix, endpoint_url=endpoint_url, region=region)
        return cls(store, url, home, database_url)

    def __repr__(self) -> str:
        return f"backup.S3Place({self.where!r})"

    def _name(self, name: str) -> str:
        return self.store.prefix + name

    def _relative(self, full: str) -> str:
        return full[len(self.store.prefix) :]

    def identity(self) -> str:
        return self.where

    @contextlib.contextmanager
    def lock(self, *, exclusive: bool, wait: bool = True) -> Iterator[None]:
        with (
            folder_lock(self.home / LOCK_FOLDER, exclusive=exclusive, wait=wait),
            contextlib.ExitStack() as held,
        ):
            if self.database_url:
                name = f"strongroom backup place {self.where}"
                taken = held.enter_context(
                    machines_lock(self.database_url, name, exclusive=exclusive, wait=wait)
                )
                if not taken:
                    raise Conflict(
                        f"the backups at {self.where} are busy (a backup is being "
                        "written on another node)"
                    )
            if exclusive:
                self._refuse_versioned()
            yield

    def _refuse_versioned(self) -> None:
        if not self._checked:
            if self.store.versioned():
                raise ConfigurationError(
                    f"the bucket of backup_url {self.where} keeps object versions: deleting "
                    "an expired backup there would keep its bytes; use a bucket without "
                    "versioning for backups"
                )
            self._checked = True

    def children(self, folder: str) -> list[str]:
        base = folder.rstrip("/") + "/"
        names: set[str] = set()
        for full, _ in self.store.listed(self._name(base)):
            rest = self._relative(full)[len(base) :]
            if "/" in rest:
                names.add(rest.split("/", 1)[0])
        return sorted(names)

    def files(self, folder: str) -> list[tuple[str, float]]:
        base = folder.rstrip("/") + "/"
        return [
            (self._relative(full), modified.timestamp())
            for full, modified in self.store.listed(self._name(base))
        ]

    def exists(self, name: str) -> bool:
        full = self._name(name)
        try:
            with self.store.calls(f"looking up {name}", missing=name):
                self.store.client.head_object(Bucket=self.store.bucket, Key=full)
        except NotFound:
            return False
        return True

    @contextlib.contextmanager
    def open(self, name: str) -> Iterator[BinaryIO]:
        with contextlib.ExitStack() as stack:
            try:
                reader = stack.enter_context(self.store.open_object(self._name(name), name))
            except NotFound:
                raise FileNotFoundError(name) from None
            yield reader

    def writer(self, name: str) -> AbstractContextManager[PartWriter]:
        return self.store.object_writer(self._name(name))

    def delete(self, name: str) -> None:
        self.store.delete_objects([self._name(name)])

    def delete_folder(self, folder: str) -> None:
        base = folder.rstrip("/") + "/"
        self.store.delete_objects([full for full, _ in self.store.listed(self._name(base))])

    def holds_backups(self) -> bool:
        return bool(self.store.listed(self._name(DATA + "/")))

    def mark_made(self) -> None:
        if not self.exists(MADE):
            with self.writer(MADE):
                pass

    def remove_partials(self) -> None:
        """Abort every unfinished upload under the prefix: with the exclusive lock held
        no writer of this deployment is running."""
        self.store.sweep_abandoned(timedelta(0))

"""Blobs as files under one folder, sharded by the first two characters of the id part.
Writes go to a temporary file in the same folder (in large chunks, with writeback started
as they go: :mod:`strongroom.durable_file`), are fsynced, then renamed. A full disk (or
quota) is ``StorageUnavailable`` (503, try again later), and the temporary file is removed
even then: its close fails on the same full disk."""

from __future__ import annotations

import contextlib
import errno
import os
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from strongroom.blobs.base import BlobWriter, check_key
from strongroom.durable_file import DurableFile
from strongroom.errors import NotFound, StorageUnavailable

#: A ``.partial`` file untouched this long was left by a killed upload: an upload being
#: written touches its file with every segment (and stalled bodies are cut off long before).
PARTIAL_MAX_AGE = timedelta(days=1)

#: Errors that pass once space is freed: answered "unavailable", never "internal error".
_OUT_OF_SPACE = (errno.ENOSPC, errno.EDQUOT)


class FolderBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(mode=0o700, parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"FolderBlobStore({str(self.root)!r})"

    def path(self, key: str) -> Path:
        check_key(key)
        shard = key.split("_", 1)[-1][:2]
        return self.root / shard / key

    @contextlib.contextmanager
    def writer(self, key: str) -> Iterator[BlobWriter]:
        final = self.path(key)
        temp = final.with_name(f".{final.name}.{os.getpid()}.partial")
        try:
            final.parent.mkdir(mode=0o700, exist_ok=True)
            f = DurableFile(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            try:
                yield f
                f.sync()
                f.close()
            except BaseException:
                with contextlib.suppress(OSError):  # flushing the rest fails the same way
                    f.close()
                temp.unlink(missing_ok=True)
                raise
            os.replace(temp, final)
            _fsync_dir(final.parent)
        except OSError as e:
            if e.errno in _OUT_OF_SPACE:
                raise StorageUnavailable(f"the blob store at {self.root} is full") from e
            raise

    @contextlib.contextmanager
    def open(self, key: str) -> Iterator[BinaryIO]:
        try:
            f = open(self.path(key), "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            raise NotFound(f"blob {key} is missing", blob=key) from None
        with f:
            yield f

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def sweep_abandoned(self, max_age: timedelta, now: float | None = None) -> int:
        """Remove the partial blobs killed writers left (:func:`sweep_partials`)."""
        return sweep_partials(self.root, max_age, now)


def sweep_partials(root: Path, max_age: timedelta, now: float | None = None) -> int:
    """Delete the ``.partial`` files (``writer``'s temporaries) under ``root`` not modified
    for ``max_age``: what uploads killed mid-stream left, which no rename will ever claim.
    ``now`` is a POSIX timestamp (default: the system clock, the one file times use).
    Returns how many were removed."""
    cutoff = (time.time() if now is None else now) - max_age.total_seconds()
    removed = 0
    for partial in root.glob("*/.*.partial"):
        try:
            if partial.lstat().st_mtime < cutoff:
                partial.unlink()
                removed += 1
        except FileNotFoundError:  # finished or removed meanwhile
            continue
    return removed


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

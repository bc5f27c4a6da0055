"""One lock per backup folder (``BACKUP_DIR/.lock``, flock): a backup being written holds
it exclusively, so expiry never deletes a pool blob a backup in progress is about to
name; readers (verify, restore, drill) hold it shared."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from strongroom.errors import Conflict


@contextlib.contextmanager
def folder_lock(root: Path, *, exclusive: bool, wait: bool = True) -> Iterator[None]:
    """Hold the folder's lock; with ``wait=False`` raise Conflict if it is taken."""
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(root / ".lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        flags = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        try:
            fcntl.flock(fd, flags if wait else flags | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Conflict(
                f"the backup folder {root} is busy (a backup is being written)"
            ) from None
        yield
    finally:
        os.close(fd)  # releases the lock

"""The marker of a restore that has not finished: a file in the new home, written before
anything else of the restore (backup/restore.py) and removed last. Its own module because
every ``open_strongroom`` looks for it, and that must not import the backup machinery."""

from __future__ import annotations

from pathlib import Path

#: The marker's name in a home. Changing it would let a home whose restore was cut short
#: by an older version be opened as if whole.
RESTORE_MARKER = ".strongroom-restore.json"


def is_unfinished_restore(home: Path) -> bool:
    """Whether ``home`` is a restore that has not finished (never to be opened as is)."""
    return (home / RESTORE_MARKER).exists()

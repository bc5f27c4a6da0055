"""Retention by absolute date, and what deletion certificates say about backups.

Every backup expires at a date fixed when it was taken (``created_at`` + retention, or
sooner if the retention setting was shortened since), whether or not newer backups exist.
The worker calls :func:`expire` on every pass with its clock: the manifest goes first (the
backup stops existing), then its parts, then every pool blob no remaining backup names.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from strongroom.backup.locking import folder_lock
from strongroom.backup.manifest import DATA, KEYSTORE, MANIFEST, POOL, Folder, fsync_dir
from strongroom.backup.writer import remove_incomplete
from strongroom.config import Settings
from strongroom.errors import Conflict, IntegrityFailure

log = logging.getLogger("strongroom.backup")


@dataclass
class ExpiryReport:
    deleted: list[str] = field(default_factory=list)
    pool_blobs_deleted: int = 0
    busy: bool = False  # a backup was being written: try again next pass

    def as_json(self) -> dict[str, Any]:
        return {
            "deleted": self.deleted,
            "pool_blobs_deleted": self.pool_blobs_deleted,
            "busy": self.busy,
        }


def retention_days(settings: Settings, kind: str) -> int:
    if kind == DATA:
        return settings.backup_retention_days
    return settings.keystore_backup_retention_days


def expiry_of(folder: Folder, kind: str, backup_id: str, days: int) -> datetime:
    """When a backup expires. A manifest that cannot be read expires by its file's age: a
    damaged backup must not outlive the promise either."""
    try:
        return folder.read_manifest(kind, backup_id).expiry(days)
    except IntegrityFailure:
        path = folder.backup_dir(kind, backup_id)
        stamp = max(p.stat().st_mtime for p in [path, *path.iterdir()])
        return datetime.fromtimestamp(stamp).astimezone() + timedelta(days=days)


def expire(settings: Settings, now: datetime) -> ExpiryReport:
    """Delete every backup whose date has come, and pool blobs no backup names."""
    report = ExpiryReport()
    folder = Folder(settings.backup_dir)
    if not folder.root.is_dir():
        return report
    try:
        with folder_lock(folder.root, exclusive=True, wait=False):
            remove_incomplete(folder)
            for kind in (DATA, KEYSTORE):
                for backup_id in folder.ids(kind):
                    if _expire_one(settings, folder, kind, backup_id, now):
                        report.deleted.append(backup_id)
            report.pool_blobs_deleted = _collect_pool(folder)
    except Conflict:
        report.busy = True
    return report


def _expire_one(
    settings: Settings, folder: Folder, kind: str, backup_id: str, now: datetime
) -> bool:
    """Delete one backup if its date has come. A failure is logged and leaves the others
    to be handled: one bad backup never stops expiry."""
    try:
        if expiry_of(folder, kind, backup_id, retention_days(settings, kind)) > now:
            return False
        _delete_backup(folder.backup_dir(kind, backup_id))
        return True
    except Exception:
        log.exception("expiring backup %s failed; retried next pass", backup_id)
        return False


def _delete_backup(path: Path) -> None:
    (path / MANIFEST).unlink(missing_ok=True)  # from here on it is not a backup
    fsync_dir(path)
    shutil.rmtree(path)
    fsync_dir(path.parent)


def _collect_pool(folder: Folder) -> int:
    pool = folder.root / POOL
    if not pool.is_dir():
        return 0
    named = {p.path for m in folder.manifests(DATA) for p in m.blob_parts}
    deleted = 0
    for shard in pool.iterdir():
        for blob in shard.iterdir():
            if str(blob.relative_to(folder.root)) not in named:
                blob.unlink(missing_ok=True)
                deleted += 1
        if not any(shard.iterdir()):
            os.rmdir(shard)
    return deleted


def _time(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def holding(settings: Settings, now: datetime, key_shredded: bool) -> list[dict[str, str]]:
    """For a deletion certificate: every backup that may still hold the purged subject's
    ciphertext (data backups taken before ``now``), and, when its key was destroyed, every
    keystore backup that still holds that key wrapped, each with the date it expires.
    After the last of those dates no copy anywhere can be read."""
    folder = Folder(settings.backup_dir)
    out: list[dict[str, str]] = []
    kinds = (DATA, KEYSTORE) if key_shredded else (DATA,)
    for kind in kinds:
        days = retention_days(settings, kind)
        for m in folder.manifests(kind):
            if m.created_at > now:
                continue
            if kind == DATA:
                holds = "ciphertext, its key destroyed" if key_shredded else "ciphertext"
            else:
                holds = "the destroyed key, wrapped by root"
            out.append(
                {
                    "backup_id": m.id,
                    "kind": kind,
                    "created_at": _time(m.created_at),
                    "expires_at": _time(m.expiry(days)),
                    "holds": holds,
                }
            )
    return out

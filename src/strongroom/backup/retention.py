"""Retention by absolute date, and what deletion certificates say about backups.

Every backup expires at a date fixed when it was taken (``created_at`` + retention, or
sooner if the retention setting was shortened since), whether or not newer backups exist.
The worker calls :func:`expire` on every pass with its clock: the manifest goes first (the
backup stops existing), then its parts, then every pool blob no remaining backup names.
Dates come from the manifest only when its seal verifies (and it is not dated in the
future); otherwise from the age of the backup's files, in expiry and in certificates.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from strongroom.backup.locking import folder_lock
from strongroom.backup.manifest import (
    DATA,
    KEYSTORE,
    MANIFEST,
    POOL,
    Folder,
    Manifest,
    fsync_dir,
    require_reachable,
)
from strongroom.backup.writer import remove_incomplete
from strongroom.config import Settings
from strongroom.errors import Conflict, IntegrityFailure, KeyUnavailable
from strongroom.services.keyring import Keyring

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


@dataclass(frozen=True)
class Held:
    """A backup as retention sees it: dated by its manifest when the seal verifies, else
    by its files' age (``manifest`` is then whatever could be parsed, or None)."""

    kind: str
    id: str
    created_at: datetime
    expires_at: datetime
    sealed: bool
    manifest: Manifest | None


def assess(
    folder: Folder, keyring: Keyring, kind: str, backup_id: str, days: int, now: datetime
) -> Held:
    """When a backup expires. A manifest whose seal does not verify, or dated after
    ``now``, proves nothing: the backup expires by its files' age, so neither a damaged nor
    an edited backup outlives the promise."""
    manifest: Manifest | None = None
    try:
        manifest = folder.read_manifest(kind, backup_id)
        manifest.key(keyring)
        if manifest.created_at > now:
            raise IntegrityFailure(f"backup {backup_id} is dated in the future")
        return Held(kind, backup_id, manifest.created_at, manifest.expiry(days), True, manifest)
    except (IntegrityFailure, KeyUnavailable) as e:
        log.warning("backup %s does not verify (%s): it expires by its files' age", backup_id, e)
    born = _file_age(folder.backup_dir(kind, backup_id), now, days)
    return Held(kind, backup_id, born, born + timedelta(days=days), False, manifest)


def _file_age(path: Path, now: datetime, days: int) -> datetime:
    """The newest modification time in a backup's folder; one after ``now`` cannot be
    trusted (it would keep the backup for ever): such a backup is due now."""
    stamp = max(p.stat().st_mtime for p in [path, *path.iterdir()])
    born = datetime.fromtimestamp(stamp, UTC)
    return born if born <= now else now - timedelta(days=days)


def expire(settings: Settings, keyring: Keyring, now: datetime) -> ExpiryReport:
    """Delete every backup whose date has come, and pool blobs no backup names."""
    report = ExpiryReport()
    folder = Folder(settings.backup_dir)
    if not folder.root.is_dir():
        return report
    try:
        with folder_lock(folder.root, exclusive=True, wait=False):
            remove_incomplete(folder)
            kept: list[Held] = []
            unknown = 0
            for kind in (DATA, KEYSTORE):
                for backup_id in folder.ids(kind):
                    held = _expire_one(settings, folder, keyring, kind, backup_id, now)
                    if held is None:
                        unknown += 1
                    elif held.expires_at <= now:
                        report.deleted.append(backup_id)
                    else:
                        kept.append(held)
            if not unknown:  # blobs of a backup that could not be read may be needed
                report.pool_blobs_deleted = _collect_pool(folder, kept)
    except Conflict:
        report.busy = True
    return report


def _expire_one(
    settings: Settings,
    folder: Folder,
    keyring: Keyring,
    kind: str,
    backup_id: str,
    now: datetime,
) -> Held | None:
    """Delete one backup if its date has come. A failure is logged (None) and the others
    are handled: one bad backup never stops expiry."""
    try:
        held = assess(folder, keyring, kind, backup_id, retention_days(settings, kind), now)
        if held.expires_at <= now:
            _delete_backup(folder.backup_dir(kind, backup_id))
        return held
    except Exception:
        log.exception("expiring backup %s failed; retried next pass", backup_id)
        return None


def _delete_backup(path: Path) -> None:
    (path / MANIFEST).unlink(missing_ok=True)  # from here on it is not a backup
    fsync_dir(path)
    shutil.rmtree(path)
    fsync_dir(path.parent)


def _collect_pool(folder: Folder, kept: list[Held]) -> int:
    """Delete pool blobs that no remaining backup names: those with a verified manifest,
    and those not yet expired by their files' age."""
    pool = folder.root / POOL
    if not pool.is_dir():
        return 0
    named = {
        folder.pool_relative(part.name.removeprefix("blob:"))
        for held in kept
        if held.manifest is not None and held.kind == DATA
        for part in held.manifest.blob_parts
    }
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


def holding(
    settings: Settings, keyring: Keyring, now: datetime, key_shredded: bool
) -> list[dict[str, str]]:
    """For a deletion certificate: every data backup that may still hold the purged
    subject's ciphertext, and, when its key was destroyed, every keystore backup that
    still holds that key wrapped, each with the date it expires (a backup whose manifest
    does not verify is named too, dated by its files' age). After the last of those dates
    no copy anywhere can be read."""
    folder = Folder(settings.backup_dir)
    require_reachable(settings.home, folder)
    found: list[Held] = []
    for kind in (DATA, KEYSTORE) if key_shredded else (DATA,):
        days = retention_days(settings, kind)
        for backup_id in folder.ids(kind):
            try:
                found.append(assess(folder, keyring, kind, backup_id, days, now))
            except FileNotFoundError:  # expired meanwhile
                continue
    return [_held_json(h, key_shredded) for h in sorted(found, key=lambda h: (h.created_at, h.id))]


def _held_json(held: Held, key_shredded: bool) -> dict[str, str]:
    if held.kind == DATA:
        holds = "ciphertext, its key destroyed" if key_shredded else "ciphertext"
    else:
        holds = "the destroyed key, wrapped by root"
    return {
        "backup_id": held.id,
        "kind": held.kind,
        "created_at": _time(held.created_at),
        "expires_at": _time(held.expires_at),
        "holds": holds,
    }

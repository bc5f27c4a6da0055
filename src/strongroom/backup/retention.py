"""Retention by absolute date, and what deletion certificates say about backups.

Every backup expires at a date fixed when it was taken (``created_at`` + retention, or
sooner if the retention setting was shortened since), whether or not newer backups exist; a
keystore backup sooner still once a purge destroyed a key it holds (backup/restorable.py).
The worker calls :func:`expire` on every pass with its clock: a fresh keystore backup first
if some data backup would otherwise outlive every keystore backup that restores it; then,
per backup due, the manifest (the backup stops existing), then its parts; then every pool
blob no remaining backup names.
Dates come from the manifest only when its seal verifies (and it is not dated in the
future); otherwise from the age of the backup's files, in expiry and in certificates.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from strongroom.backup import restorable, writer
from strongroom.backup.manifest import (
    DATA,
    KEYSTORE,
    POOL,
    BackupPlace,
    Folder,
    Manifest,
    require_reachable,
)
from strongroom.backup.places import open_place
from strongroom.backup.writer import remove_incomplete
from strongroom.config import Settings
from strongroom.crypto.keyring import Keyring
from strongroom.errors import Conflict, IntegrityFailure, KeyUnavailable
from strongroom.services.context import Context

log = logging.getLogger("strongroom.backup")


@dataclass
class ExpiryReport:
    deleted: list[str] = field(default_factory=list)
    pool_blobs_deleted: int = 0
    busy: bool = False  # a backup was being written: try again next pass
    renewed: str | None = None  # the keystore backup taken so older data backups restore

    def as_json(self) -> dict[str, Any]:
        return {
            "deleted": self.deleted,
            "pool_blobs_deleted": self.pool_blobs_deleted,
            "busy": self.busy,
            "keystore_backup_renewed": self.renewed,
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
    folder: BackupPlace, keyring: Keyring, kind: str, backup_id: str, days: int, now: datetime
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
    born = _file_age(folder, kind, backup_id, now, days)
    return Held(kind, backup_id, born, born + timedelta(days=days), False, manifest)


def _file_age(folder: BackupPlace, kind: str, backup_id: str, now: datetime, days: int) -> datetime:
    """The newest modification time of a backup's files; one after ``now`` (or none at
    all) cannot be trusted (it would keep the backup for ever): such a backup is due now."""
    stamp = folder.newest_write(kind, backup_id)
    if stamp is None:
        raise FileNotFoundError(backup_id)  # gone meanwhile
    born = datetime.fromtimestamp(stamp, UTC)
    return born if born <= now else now - timedelta(days=days)


def expire(ctx: Context, now: datetime) -> ExpiryReport:
    """Delete every backup whose date has come, and pool blobs no backup names. Before a
    keystore backup goes early (a key it holds was destroyed), or whenever a data backup
    would otherwise outlive every keystore backup that restores it, a fresh keystore
    backup is taken first; one that no data backup names goes once a newer one exists."""
    report = ExpiryReport()
    folder = open_place(ctx.settings)
    if isinstance(folder, Folder) and not folder.root.is_dir():
        return report
    try:
        with folder.lock(exclusive=True, wait=False):
            remove_incomplete(folder)
            shreds = key_shreds(ctx, now)
            data, unknown = _assess_kind(ctx, folder, DATA, now, shreds)
            keystores, unknown_keys = _assess_kind(ctx, folder, KEYSTORE, now, shreds)
            kept = [h for h in data if h.expires_at > now]
            kept_keys = [h for h in keystores if h.expires_at > now]
            due = [h for h in data + keystores if h.expires_at <= now]
            if not unknown:  # what a backup that could not be read needs is not known
                fresh = _renew_if_needed(ctx, folder, kept, kept_keys, now)
                if fresh is not None:
                    report.renewed = fresh.id
                    kept_keys.append(fresh)
                superseded = _superseded(kept, kept_keys)
                due += superseded
                kept_keys = [h for h in kept_keys if h not in superseded]
            for held in due:
                if _delete_one(folder, held):
                    report.deleted.append(held.id)
                else:
                    unknown += 1
            if not unknown + unknown_keys:
                report.pool_blobs_deleted = _collect_pool(folder, kept + kept_keys)
    except Conflict:
        report.busy = True
    return report


def key_shreds(ctx: Context, now: datetime) -> list[restorable.Shred]:
    """The purges that destroyed a key since the oldest keystore backup that can still be
    kept was taken (a day of margin for clocks)."""
    since = now - timedelta(days=ctx.settings.keystore_backup_retention_days + 1)
    return ctx.ledger.key_shreds(since)


def _assess_kind(
    ctx: Context, folder: BackupPlace, kind: str, now: datetime, shreds: list[restorable.Shred]
) -> tuple[list[Held], int]:
    """Every backup of ``kind`` with its date (keystore backups: brought forward by the
    keys destroyed since), and how many could not be assessed (logged; retried next
    pass: one bad backup never stops expiry)."""
    found: list[Held] = []
    failed = 0
    days = retention_days(ctx.settings, kind)
    window = timedelta(days=ctx.settings.backup_purge_window_days)
    for backup_id in folder.ids(kind):
        try:
            held = assess(folder, ctx.keyring, kind, backup_id, days, now)
        except Exception:
            log.exception("assessing backup %s failed; retried next pass", backup_id)
            failed += 1
            continue
        if kind == KEYSTORE:
            until = restorable.keystore_expiry(held.created_at, held.expires_at, shreds, window)
            held = replace(held, expires_at=until)
        found.append(held)
    return found, failed


def _dates(helds: list[Held]) -> list[restorable.Dated]:
    return [(h.created_at, h.expires_at) for h in helds if h.sealed]


def _renew_if_needed(
    ctx: Context, folder: BackupPlace, data: list[Held], keystores: list[Held], now: datetime
) -> Held | None:
    """A fresh keystore backup, if some data backup would otherwise stop being restorable
    before it expires. A failure is logged: the backups due still go (the promise first)."""
    if not restorable.needs_renewal(_dates(data), _dates(keystores)):
        return None
    try:
        manifest = writer.keystore_backup(ctx, folder, now)
    except Exception:
        log.exception("renewing the keystore backup failed; retried next pass")
        return None
    days = ctx.settings.keystore_backup_retention_days
    return Held(KEYSTORE, manifest.id, manifest.created_at, manifest.expiry(days), True, manifest)


def _superseded(data: list[Held], keystores: list[Held]) -> list[Held]:
    """Keystore backups no data backup names, once a newer keystore backup exists, as long
    as every data backup stays restorable without them (oldest first)."""
    named = {h.manifest.keystore_backup_id for h in data if h.manifest is not None}
    remaining = sorted((h for h in keystores if h.sealed), key=lambda h: (h.created_at, h.id))
    gone: list[Held] = []
    for held in list(remaining):
        newer = any(other.created_at > held.created_at for other in remaining)
        if held.id in named or not newer:
            continue
        without = [h for h in remaining if h is not held]
        if not restorable.needs_renewal(_dates(data), _dates(without)):
            remaining = without
            gone.append(held)
    return gone


def _delete_one(folder: BackupPlace, held: Held) -> bool:
    try:
        folder.delete_backup(held.kind, held.id)
        return True
    except Exception:
        log.exception("expiring backup %s failed; retried next pass", held.id)
        return False


def _collect_pool(folder: BackupPlace, kept: list[Held]) -> int:
    """Delete pool blobs that no remaining backup names: those with a verified manifest,
    and those not yet expired by their files' age."""
    named = {
        folder.pool_relative(part.name.removeprefix("blob:"))
        for held in kept
        if held.manifest is not None and held.kind == DATA
        for part in held.manifest.blob_parts
    }
    deleted = 0
    for name, _ in folder.files(POOL):
        if name not in named:
            folder.delete(name)
            deleted += 1
    folder.after_pool_collected()
    return deleted


def _time(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def holding(
    ctx: Context, now: datetime, deleted_at: datetime, key_shredded: bool
) -> list[dict[str, str]]:
    """For a deletion certificate: every data backup that may still hold the purged
    subject's ciphertext, and, when its key was destroyed, every keystore backup that
    still holds that key wrapped, each with the date it expires (a backup whose manifest
    does not verify is named too, dated by its files' age). After the last of those dates
    no copy anywhere can be read. A keystore backup's date counts this purge: it goes by
    ``deleted_at`` + the window at the latest."""
    folder = open_place(ctx.settings)
    require_reachable(ctx.settings.home, folder)
    shreds = [*key_shreds(ctx, now), (deleted_at, now)]
    window = timedelta(days=ctx.settings.backup_purge_window_days)
    found: list[Held] = []
    for kind in (DATA, KEYSTORE) if key_shredded else (DATA,):
        days = retention_days(ctx.settings, kind)
        for backup_id in folder.ids(kind):
            try:
                held = assess(folder, ctx.keyring, kind, backup_id, days, now)
            except FileNotFoundError:  # expired meanwhile
                continue
            if kind == KEYSTORE:
                until = restorable.keystore_expiry(held.created_at, held.expires_at, shreds, window)
                held = replace(held, expires_at=until)
            found.append(held)
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

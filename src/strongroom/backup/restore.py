"""Restoring a backup into a new home, then replaying the deletion ledger.

Order, so that nothing purged ever lands in the new home:

1. a marker file (``.strongroom-restore.json``) is written first; a home holding it is
   refused by ``open_strongroom`` until the restore finishes;
2. the data snapshot and the keystore snapshot are decrypted into the new databases;
3. the live deployment's ledger is replayed: every subject it names is deleted (rows,
   index entries, trash entries, deadlines) and its key destroyed in the restored
   keystore; the tombstones are copied into the restored ledger; SQLite is vacuumed;
4. only then are the blobs the restored rows still name copied from the pool, each
   checked against its SHA-256;
5. an audit event records the restore; the marker goes.

A restore killed at any point leaves the marker: rerunning the same restore into the same
folder redoes it from the start; anything else is refused. The marker records the
databases the restore writes; a rerun clears only those, and no restore ever names the
live data store or keystore (or a folder holding the live home, blobs or backups).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from strongroom.backup.manifest import DATA, KEYSTORE, BackupPlace, Manifest, Part
from strongroom.backup.marker import RESTORE_MARKER
from strongroom.backup.places import open_place
from strongroom.backup.reader import copy_checked, decrypt_snapshot, open_backup
from strongroom.clock import Clock
from strongroom.config import Settings, load_settings, write_settings
from strongroom.domain.lifecycle import PurgeKind
from strongroom.errors import Conflict, InvalidInput, NotFound
from strongroom.services import audit, erasure
from strongroom.services.context import Context
from strongroom.services.records import Records
from strongroom.services.shredder import Subject
from strongroom.storage import snapshots
from strongroom.storage.database import redact_url, same_database
from strongroom.storage.rows import LedgerRow
from strongroom.storage.unit_of_work import DataUnitOfWork

#: Blob copies at a time during a restore.
COPY_THREADS = 4
#: Settings a restored home takes from the live one (the root key, the promises).
CARRIED = (
    "environment",
    "kms",
    "pkcs11_module",
    "pkcs11_token_label",
    "pkcs11_pin_env",
    "pkcs11_scheme",
    # the Transit root key (a restore on a transit home failed without them)
    "transit_url",
    "transit_key",
    "transit_mount",
    "transit_token_env",
    "transit_approle_role_id_env",
    "transit_approle_secret_id_env",
    "transit_approle_mount",
    "transit_ca_file",
    "transit_connect_timeout_seconds",
    "transit_timeout_seconds",
    # the AWS KMS root key, likewise
    "aws_kms_key",
    "aws_kms_region",
    "aws_kms_endpoint_url",
    "aws_kms_connect_timeout_seconds",
    "aws_kms_timeout_seconds",
    "trash_days",
    "trial_retention_days",
    "cancellation_window_days",
    "backup_purge_window_days",
    "backup_retention_days",
    "keystore_backup_retention_days",
    "export_ttl_days",
)


class OpenedHome(Protocol):
    """What backup needs of an opened home (bootstrap's Strongroom): its context, and
    closing it."""

    ctx: Context

    def __enter__(self) -> Any: ...

    def __exit__(self, et: Any, e: Any, tb: Any) -> None: ...


#: Opens a home from its settings (with this clock, or the system's): bootstrap's, handed
#: to backup by the composition root, so backup never imports bootstrap.
OpenHome = Callable[[Settings, Clock | None], OpenedHome]


@dataclass
class RestoreReport:
    backup_id: str
    keystore_backup_id: str
    home: str
    counts: dict[str, int] = field(default_factory=dict)  # restored, after the replay
    replayed: dict[str, int] = field(default_factory=dict)  # tombstones applied, by kind
    blobs: int = 0
    files_without_blob: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "backup_id": self.backup_id,
            "keystore_backup_id": self.keystore_backup_id,
            "home": self.home,
            "counts": self.counts,
            "ledger_replayed": self.replayed,
            "blobs_copied": self.blobs,
            "files_without_blob": self.files_without_blob,
            "seconds": round(self.seconds, 3),
        }


def keystore_for(folder: BackupPlace, ctx: Context, data: Manifest) -> Manifest:
    """The keystore backup to restore with a data backup: the one taken with it; else the
    oldest taken after it (keys are only ever added or destroyed, so a later keystore
    opens everything the data backup holds that was not purged since)."""
    candidates = folder.manifests(KEYSTORE, ctx.keyring)
    for m in candidates:
        if m.id == data.keystore_backup_id:
            return m
    later = [m for m in candidates if m.created_at >= data.created_at]
    if later:
        return later[0]
    raise NotFound(
        f"no keystore backup taken at or after backup {data.id} exists any more; restore a "
        "newer backup",
        backup=data.id,
    )


def restore_home(
    ctx: Context,
    backup_id: str,
    target: Path,
    *,
    database_url: str = "",
    keystore_url: str = "",
    on_progress: Callable[[int], None] | None = None,
    open_home: OpenHome,
) -> RestoreReport:
    """Restore data backup ``backup_id`` into the new home ``target`` (SQLite inside it,
    or the given empty PostgreSQL databases), opened with ``open_home``."""
    started = time.monotonic()
    folder = open_place(ctx.settings)
    target = target.expanduser().resolve()
    _check_target_folder(ctx, target)
    with folder.lock(exclusive=False):
        data, data_key = open_backup(folder, ctx.keyring, backup_id)
        if data.kind != DATA:
            raise InvalidInput(f"{backup_id} is a keystore backup; restore a data backup")
        keystore = keystore_for(folder, ctx, data)
        keystore_key = keystore.key(ctx.keyring)
        settings = _prepare(ctx, data, target, database_url, keystore_url)
        with snapshots.loader(settings.database_url) as sink:
            decrypt_snapshot(folder, data, data_key, sink.write, on_progress)
        with snapshots.loader(settings.keystore_url) as sink:
            decrypt_snapshot(folder, keystore, keystore_key, sink.write)
        write_settings(settings, _carried_names(ctx, settings))
        report = RestoreReport(data.id, keystore.id, str(target))
        with open_home(settings, ctx.clock) as home:
            restored: Context = home.ctx
            report.replayed = replay_ledger(restored, ctx.ledger.all())
            if report.replayed:
                restored.store.vacuum()
            _copy_blobs(folder, data, restored, report, on_progress)
            with restored.store.write() as uow:
                report.counts = uow.backups.table_counts()
                audit.append(
                    uow,
                    ctx.clock.now(),
                    "system:backup",
                    "backup.restored",
                    None,
                    backup_id=data.id,
                    keystore_backup_id=keystore.id,
                    ledger_replayed=report.replayed,
                    blobs=report.blobs,
                )
                uow.commit()
    (target / RESTORE_MARKER).unlink()
    report.seconds = time.monotonic() - started
    return report


def _prepare(
    ctx: Context, data: Manifest, target: Path, database_url: str, keystore_url: str
) -> Settings:
    """Check the target, write the marker, and make the new home's settings."""
    options: dict[str, Any] = {n: getattr(ctx.settings, n) for n in CARRIED}
    if database_url or keystore_url:
        if not (database_url and keystore_url):
            raise InvalidInput("give both --database-url and --keystore-url, or neither")
        options.update(database_url=database_url, keystore_url=keystore_url)
    settings = load_settings(target, env={}, overrides=options)
    if snapshots.backend_of(settings.database_url) != data.backend:
        raise InvalidInput(
            f"backup {data.id} is of a {data.backend} data store: restore it into "
            f"{data.backend} (PostgreSQL: --database-url and --keystore-url of empty databases)"
        )
    urls = (settings.database_url, settings.keystore_url)
    _refuse_live_stores(ctx, urls)
    marker = target / RESTORE_MARKER
    if target.exists() and any(target.iterdir()):
        _clear_unfinished(marker, target, data.id, urls)
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    for url in urls:
        if not snapshots.is_empty(url):
            raise Conflict(f"{snapshots.redact(url)} is not empty; restore into empty databases")
    _write_marker(marker, data.id, urls)
    if ctx.settings.kms == "local":  # the same root key: a copy of the local key files
        shutil.copytree(ctx.settings.kms_dir, settings.kms_dir)
    return settings


def _check_target_folder(ctx: Context, target: Path) -> None:
    """The target is not a live folder (home, blobs, backups) nor holds one: a rerun of an
    unfinished restore empties the target."""
    s = ctx.settings
    for live in (s.home, *(Path(p).expanduser().resolve() for p in (s.blob_dir, s.backup_dir))):
        if target == live or target in live.parents:
            raise InvalidInput(f"restore into a new folder, not {live} or a folder holding it")


def _refuse_live_stores(ctx: Context, urls: tuple[str, ...]) -> None:
    """A restore never writes into (or clears) the live data store or keystore."""
    live = (ctx.settings.database_url, ctx.settings.keystore_url)
    for url in urls:
        if any(same_database(url, other) for other in live):
            raise InvalidInput(
                f"{snapshots.redact(url)} is a live database of this deployment; restore "
                "into new, empty databases"
            )


def _clear_unfinished(marker: Path, target: Path, backup_id: str, urls: tuple[str, ...]) -> None:
    """An unfinished restore of this backup into ``target``: empty the folder and the
    databases that restore created (named in its marker) so it is redone; anything else
    is refused."""
    recorded = _read_marker(marker)
    if recorded.get("backup_id") != backup_id:
        raise Conflict(
            f"{target} is not empty; restore into a new folder (or rerun the unfinished "
            "restore of the same backup there)"
        )
    for child in target.iterdir():
        if child.name != RESTORE_MARKER:
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    created = [u for u in recorded.get("urls", []) if isinstance(u, str)]
    for url in urls:
        if snapshots.backend_of(url) != "sqlite" and any(same_database(url, c) for c in created):
            snapshots.clear(url)


def _read_marker(marker: Path) -> dict[str, Any]:
    try:
        value = json.loads(marker.read_text("utf-8"))
    except (ValueError, OSError):
        return {}
    return value if isinstance(value, dict) else {}


def _write_marker(marker: Path, backup_id: str, urls: tuple[str, ...]) -> None:
    """The marker names the backup and the databases this restore writes (no password)."""
    fd = os.open(marker, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        body = {"backup_id": backup_id, "pid": os.getpid(), "urls": [redact_url(u) for u in urls]}
        json.dump(body, out)
        out.flush()
        os.fsync(out.fileno())


def _carried_names(ctx: Context, settings: Settings) -> list[str]:
    names = list(CARRIED)
    if snapshots.backend_of(settings.database_url) != "sqlite":
        names += ["database_url", "keystore_url"]
    return names


def replay_ledger(restored: Context, tombstones: list[LedgerRow]) -> dict[str, int]:
    """Delete from a restored home everything the ledger says was purged, destroy its keys
    there, and copy the tombstones into its ledger. Idempotent."""
    applied: dict[str, int] = {}
    for tomb in tombstones:
        _replay(restored, tomb)
        applied[tomb.kind] = applied.get(tomb.kind, 0) + 1
    return applied


def _replay(ctx: Context, tomb: LedgerRow) -> None:
    """Shred what one tombstone names (through the same shredder as the purge that wrote
    it), close its trash entries, and copy the tombstone."""
    kind = PurgeKind(tomb.kind)
    if kind is PurgeKind.SUBJECT:  # a privacy erasure: the subject's records, by digest
        erasure.replay(ctx, Records(ctx), json.loads(tomb.certificate))
        ctx.ledger.append_once(tomb.certificate_id, lambda: tomb)
        return
    subject = Subject(kind, tomb.workspace_id, tomb.subject_id)
    ctx.shredder.destroy_keys(subject)

    def close_entries(uow: DataUnitOfWork, _removed: dict[str, int]) -> None:
        if kind is not PurgeKind.WORKSPACE:  # its trash entries, purged elsewhere
            uow.trash.close_purged(tomb.subject_id, ctx.clock.now())

    ctx.shredder.delete(subject, ctx.clock.now(), last=close_entries)
    ctx.ledger.append_once(tomb.certificate_id, lambda: tomb)


def _copy_blobs(
    folder: BackupPlace,
    data: Manifest,
    restored: Context,
    report: RestoreReport,
    on_progress: Callable[[int], None] | None,
) -> None:
    """Copy from the pool the blobs the restored rows still name, a few at a time (reading,
    hashing and writing release the GIL, so copies overlap on several cores)."""
    parts = {p.name: p for p in data.blob_parts}
    with restored.store.read() as uow:
        wanted = uow.backups.blob_keys()
    copies: list[tuple[str, Part]] = []
    for blob_key in wanted:
        part = parts.get("blob:" + blob_key)
        if part is None:
            report.files_without_blob.append(blob_key)
        else:
            copies.append((blob_key, part))

    def copy(blob_key: str, part: Part) -> int:
        with restored.blobs.writer(blob_key) as out:
            copy_checked(folder, data, part, out.write)
        return part.size

    with ThreadPoolExecutor(max_workers=COPY_THREADS) as pool:
        for size in pool.map(lambda c: copy(*c), copies):  # the first failure is raised
            report.blobs += 1
            if on_progress is not None:
                on_progress(size)

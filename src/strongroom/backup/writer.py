"""Taking a backup while the server runs and writes go on.

1. A consistent snapshot of the data store (storage/snapshots.py) is encrypted, as it is
   read, with the segment format under a fresh backup key: ``data/<id>/snapshot.sr``.
2. The blobs that snapshot names are copied into the shared pool unless the pool has them
   already (blob ciphertext never changes: incremental by blob key). A blob gone by then
   was purged meanwhile: it is listed as missing, and the ledger removes its row on restore.
3. A keystore backup (its own key, its own folder, kept at least as long) is taken after
   the data snapshot, so it holds every key that snapshot needs, less those destroyed since.
4. Every part written is read back and hashed; only then is the data manifest written
   (temp, fsync, rename; on S3 one PUT). Until then the backup does not exist.

The place is a folder or an S3 prefix (backup/manifest.py BackupPlace): every part is
written through the place's writer, which makes it visible only once whole.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import IO, BinaryIO, cast

from strongroom import ids
from strongroom.backup.manifest import (
    DATA,
    KEY_KINDS,
    KEY_VERSION,
    KEYSTORE,
    SNAPSHOT,
    BackupPlace,
    Manifest,
    Part,
    mark_backups_made,
    part_binding,
)
from strongroom.backup.places import open_place
from strongroom.backup.scratch import scratch_folder
from strongroom.crypto import segments
from strongroom.crypto.secret import SecretKey
from strongroom.errors import IntegrityFailure, NotFound
from strongroom.services import audit
from strongroom.services.context import Context
from strongroom.storage import snapshots

Progress = Callable[[int], None]
CHUNK = 1024 * 1024


def _noop(_n: int) -> None:
    return None


def create(ctx: Context, on_progress: Progress | None = None) -> tuple[Manifest, Manifest]:
    """Take a data backup and its keystore backup; returns both manifests."""
    folder = open_place(ctx.settings)
    progress = on_progress or _noop
    with folder.lock(exclusive=True):
        remove_incomplete(folder)
        data, key = _data_parts(ctx, folder, progress)
        keystore = _keystore_backup(ctx, folder)
        data.keystore_backup_id = keystore.id
        data.seal_with(key)
        folder.write_manifest(data)
        mark_backups_made(ctx.settings.home, folder)
    with ctx.store.write() as uow:
        audit.append(
            uow,
            ctx.clock.now(),
            "system:backup",
            "backup.created",
            None,
            backup_id=data.id,
            keystore_backup_id=keystore.id,
            parts=len(data.parts),
            size=data.size,
            new_bytes=data.new_bytes,
            expires_at=data.expires_at.isoformat(),
        )
        uow.commit()
    return data, keystore


def remove_incomplete(folder: BackupPlace) -> list[str]:
    """Delete what a killed backup left (backups without a manifest, partial pool files,
    unfinished uploads). Call with the place's exclusive lock held."""
    removed = []
    folder.remove_partials()
    for kind in (DATA, KEYSTORE):
        for backup_id in folder.ids(kind):
            if not folder.complete(kind, backup_id):
                folder.delete_folder(folder.backup_name(kind, backup_id))
                removed.append(backup_id)
    return removed


def _new_manifest(ctx: Context, kind: str, now: datetime, days: int) -> tuple[Manifest, SecretKey]:
    backup_id = ids.new_id("backup" if kind == DATA else "keystore-backup")
    key, root_version, wrapped = ctx.keyring.new_backup_key(KEY_KINDS[kind], backup_id)
    manifest = Manifest(
        kind=kind,
        id=backup_id,
        created_at=now,
        expires_at=now + timedelta(days=days),
        backend="",
        revision="",
        root_version=root_version,
        wrapped_key=wrapped,
        parts=[],
        counts={},
    )
    return manifest, key


def _encrypt_part(
    stream: IO[bytes],
    folder: BackupPlace,
    manifest: Manifest,
    key: SecretKey,
    progress: Progress,
) -> Part:
    """Encrypt ``stream`` into the backup's snapshot part as it is read; no plaintext is
    written here."""
    name = folder.backup_name(manifest.kind, manifest.id, SNAPSHOT)
    digest = hashlib.sha256()
    size = 0
    with folder.writer(name) as out:

        def write(chunk: bytes) -> None:
            nonlocal size
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)

        segments.encrypt_stream(
            cast(BinaryIO, stream),
            write,
            key,
            manifest.id,
            KEY_VERSION,
            part_binding(manifest.id, "snapshot"),
            on_progress=progress,
        )
    return Part("snapshot", name, size, digest.hexdigest())


def _snapshot_into(
    ctx: Context,
    folder: BackupPlace,
    kind: str,
    days: int,
    progress: Progress,
    now: datetime | None = None,
) -> tuple[Manifest, SecretKey, snapshots.SnapshotFacts]:
    manifest, key = _new_manifest(ctx, kind, now or ctx.clock.now(), days)
    # The SQLite snapshot's temporary copy: owner-only, in the home (never the place).
    scratch = scratch_folder(ctx.settings)
    url = ctx.settings.database_url if kind == DATA else ctx.settings.keystore_url
    with snapshots.snapshot(url, kind, scratch) as (stream, facts):
        manifest.parts.append(_encrypt_part(stream, folder, manifest, key, progress))
    manifest.backend, manifest.revision, manifest.counts = (
        facts.backend,
        facts.revision,
        facts.counts,
    )
    return manifest, key, facts


def _data_parts(
    ctx: Context, folder: BackupPlace, progress: Progress
) -> tuple[Manifest, SecretKey]:
    days = ctx.settings.backup_retention_days
    manifest, key, facts = _snapshot_into(ctx, folder, DATA, days, progress)
    # only backups whose seal verifies: an unsealed manifest could name any file
    known = {p.name: p for m in folder.manifests(DATA, ctx.keyring) for p in m.blob_parts}
    written: list[Part] = [manifest.parts[0]]
    for blob_key in facts.blob_keys:
        part = _pool_blob(ctx, folder, blob_key, known, progress)
        if part is None:
            manifest.missing_blobs.append(blob_key)
            continue
        if part.name not in known:
            written.append(part)
        manifest.parts.append(part)
    _check_written(folder, written, manifest)
    manifest.new_bytes = sum(p.size for p in written)
    return manifest, key


def _pool_blob(
    ctx: Context, folder: BackupPlace, blob_key: str, known: dict[str, Part], progress: Progress
) -> Part | None:
    """The pool's copy of a blob: reused if present, copied otherwise; None if the blob is
    gone from the store."""
    name = "blob:" + blob_key
    path = folder.pool_relative(blob_key)
    if name in known:
        return known[name]
    if folder.exists(path):
        found, length = _hash_part(folder, path)  # a copy from a backup that never completed
        part = Part(name, path, length, found)
        known[name] = part
        return part
    digest = hashlib.sha256()
    size = 0
    try:
        with ctx.blobs.open(blob_key) as src, folder.writer(path) as out:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
                progress(len(chunk))
    except NotFound:
        return None
    return Part(name, path, size, digest.hexdigest())


def _hash_part(folder: BackupPlace, name: str) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with folder.open(name) as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _check_written(folder: BackupPlace, written: list[Part], manifest: Manifest) -> None:
    """Read back every part this backup wrote (the writers made each durable)."""
    for part in written:
        digest, size = _hash_part(folder, folder.part_name(manifest, part))
        if (digest, size) != (part.sha256, part.size):
            raise IntegrityFailure(
                f"part {part.name} of backup {manifest.id} did not read back as written",
                backup=manifest.id,
            )
    fresh = {p.name for p in written}
    for reused in manifest.parts:
        if reused.name not in fresh and not folder.exists(folder.part_name(manifest, reused)):
            raise IntegrityFailure(f"pool blob {reused.name} vanished during backup {manifest.id}")


def keystore_backup(ctx: Context, folder: BackupPlace, now: datetime) -> Manifest:
    """A keystore backup on its own, taken now from the live keystore (so it holds no key
    destroyed before it): retention renews with it. Call with the folder's exclusive lock
    held."""
    manifest = _keystore_backup(ctx, folder, now)
    with ctx.store.write() as uow:
        audit.append(
            uow,
            now,
            "system:backup",
            "backup.keystore_renewed",
            None,
            keystore_backup_id=manifest.id,
            expires_at=manifest.expires_at.isoformat(),
        )
        uow.commit()
    return manifest


def _keystore_backup(ctx: Context, folder: BackupPlace, now: datetime | None = None) -> Manifest:
    days = ctx.settings.keystore_backup_retention_days
    manifest, key, _facts = _snapshot_into(ctx, folder, KEYSTORE, days, _noop, now)
    _check_written(folder, manifest.parts, manifest)
    manifest.new_bytes = manifest.size
    manifest.seal_with(key)
    folder.write_manifest(manifest)
    return manifest

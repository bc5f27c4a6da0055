"""Restoring one workspace into the live deployment, after corruption or an operator's
mistake: ``strongroom backup restore ID --workspace WS``.

Semantics: the workspace's data (collections, projects, records and their index entries,
files, open trash entries and their purge deadlines) is replaced by the backup's; its
account side (plan, members, tokens, holds, billing, exports) stays as it is live.
Refused: a workspace the ledger says was purged, one that no longer exists live, and one
with a purge under way (or a workspace purge due). Left out, and counted: every project,
record or file the ledger says was purged or whose live trash entry is purging or purged,
and every project whose key is no longer in the live keystore. A subject deleted since the
backup stays deleted: restored in the trash under its live entry and deadline. These
checks run again inside the transaction that writes the rows (the live trash entries
locked), so a purge finishing while the snapshot is decrypted is honoured. Blobs the
restored files need are copied from the pool (checked) before the rows are written; blobs
of live files the backup does not have, and copies left out meanwhile, are deleted after.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from strongroom.backup.manifest import DATA, BackupPlace, Manifest
from strongroom.backup.places import open_place
from strongroom.backup.reader import copy_checked, decrypt_snapshot, open_backup
from strongroom.backup.scratch import scratch_folder
from strongroom.crypto.secret import SecretKey
from strongroom.domain.lifecycle import EntryState, PurgeKind
from strongroom.domain.model import ObjectState
from strongroom.errors import Conflict, InvalidInput, KeyUnavailable, NotFound
from strongroom.services import audit, erasure
from strongroom.services.context import Context
from strongroom.services.records import Records
from strongroom.storage import snapshots
from strongroom.storage.repositories.backups import WorkspaceRows, workspace_rows_at
from strongroom.storage.unit_of_work import DataUnitOfWork


@dataclass
class WorkspaceReport:
    backup_id: str
    workspace_id: str
    restored: dict[str, int] = field(default_factory=dict)
    left_out_purged: int = 0
    left_out_without_key: int = 0
    blobs_copied: int = 0
    blobs_deleted: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "backup_id": self.backup_id,
            "workspace_id": self.workspace_id,
            "restored": self.restored,
            "left_out_purged": self.left_out_purged,
            "left_out_without_key": self.left_out_without_key,
            "blobs_copied": self.blobs_copied,
            "blobs_deleted": self.blobs_deleted,
        }


def _purged_in(ctx: Context, workspace_id: str) -> set[str]:
    """The subjects the ledger says were purged; Conflict if the workspace itself was."""
    tombs = ctx.ledger.all(workspace_id)
    if any(t.kind == PurgeKind.WORKSPACE for t in tombs):
        raise Conflict(
            f"the deletion ledger says workspace {workspace_id} was purged; it is never restored",
            workspace_id=workspace_id,
        )
    gone = {t.subject_id for t in tombs}
    for t in tombs:  # a privacy erasure names the request: what it deleted is listed inside
        if t.kind == PurgeKind.SUBJECT:
            erased = json.loads(t.certificate)["erasure"]
            gone.update(erased["erased_records"], erased["files"])
    return gone


def _erasures(ctx: Context, workspace_id: str) -> list[dict[str, Any]]:
    """The workspace's privacy erasures, by their certificates, oldest first."""
    return [
        json.loads(t.certificate)
        for t in ctx.ledger.all(workspace_id)
        if t.kind == PurgeKind.SUBJECT
    ]


def _refuse_busy(uow: DataUnitOfWork, workspace_id: str) -> None:
    if uow.backups.busy_purges(workspace_id):
        raise Conflict(
            f"a purge is under way or due in {workspace_id}; retry when it has finished",
            workspace_id=workspace_id,
        )


def _read_backup_rows(
    ctx: Context, folder: BackupPlace, manifest: Manifest, key: SecretKey, ws: str
) -> WorkspaceRows:
    with snapshots.scratch_database(ctx.settings.database_url, scratch_folder(ctx.settings)) as url:
        with snapshots.loader(url) as sink:
            decrypt_snapshot(folder, manifest, key, sink.write)
        return workspace_rows_at(url, ws)


def _filter(ctx: Context, rows: WorkspaceRows, purged: set[str], report: WorkspaceReport) -> None:
    dropped_projects = set()
    for p in rows.rows("projects"):
        if p["id"] in purged:
            dropped_projects.add(p["id"])
            report.left_out_purged += 1
            continue
        try:
            ctx.keyring.data_key(p["id"])
        except KeyUnavailable:
            dropped_projects.add(p["id"])
            report.left_out_without_key += 1
    gone = purged | dropped_projects

    def keep(row: dict[str, Any]) -> bool:
        return row.get("id") not in gone and row.get("project_id") not in gone

    for name in ("projects", "records", "files", "trash_entries"):
        before = len(rows.rows(name))
        rows.tables[name] = [r for r in rows.rows(name) if keep(r)]
        if name in ("records", "files"):
            report.left_out_purged += before - len(rows.tables[name])
    rows.tables["trash_entries"] = [
        r for r in rows.rows("trash_entries") if r["subject_id"] not in gone
    ]
    record_ids = {r["id"] for r in rows.rows("records")}
    rows.tables["record_index"] = [
        r for r in rows.rows("record_index") if r["record_id"] in record_ids
    ]
    entries = {r["id"] for r in rows.rows("trash_entries")}
    rows.tables["deadlines"] = [r for r in rows.rows("deadlines") if r["subject_id"] in entries]


def _keep_deletions(rows: WorkspaceRows, trashed: dict[str, dict[str, Any]]) -> set[str]:
    """A subject deleted since the backup stays deleted: its restored row is trashed under
    the live entry, which is kept with its deadline; the backup's entries for it are left
    out. Returns the ids of the live entries kept."""
    kept = set()
    for name in ("projects", "records", "files"):
        for row in rows.rows(name):
            entry = trashed.get(row["id"])
            if entry is not None:
                row.update(state=ObjectState.TRASHED.value, trash_id=entry["id"])
                kept.add(entry["id"])
    rows.tables["trash_entries"] = [
        r for r in rows.rows("trash_entries") if r["subject_id"] not in trashed
    ]
    entries = {r["id"] for r in rows.rows("trash_entries")}
    rows.tables["deadlines"] = [r for r in rows.rows("deadlines") if r["subject_id"] in entries]
    return kept


def _apply_live(
    ctx: Context, uow: DataUnitOfWork, ws: str, rows: WorkspaceRows, report: WorkspaceReport
) -> set[str]:
    """Inside the replacing transaction, against the live ledger and trash: refuse during a
    workspace purge, leave out what was purged (or began purging) since the backup was
    read, keep deletions made since. Returns the live trash entries to keep."""
    _refuse_busy(uow, ws)
    entries = uow.backups.live_trash(ws)
    closing = [e for e in entries if e["state"] in (EntryState.PURGING, EntryState.PURGED)]
    gone = _purged_in(ctx, ws) | {e["subject_id"] for e in closing}
    _filter(ctx, rows, gone, report)
    trashed = {e["subject_id"]: e for e in entries if e["state"] == EntryState.TRASHED}
    return _keep_deletions(rows, trashed) | {e["id"] for e in closing}


def _copy_blobs(
    ctx: Context, folder: BackupPlace, manifest: Manifest, rows: WorkspaceRows
) -> set[str]:
    """Copy from the pool (checked) the blobs the restored files need and the live store
    lacks; returns their keys."""
    parts = {p.name: p for p in manifest.blob_parts}
    copied = set()
    for f in rows.rows("files"):
        key = f["blob_key"]
        if ctx.blobs.exists(key):
            continue
        part = parts.get("blob:" + key)
        if part is None:
            raise Conflict(f"backup {manifest.id} lacks the blob of file {f['id']}")
        with ctx.blobs.writer(key) as out:
            copy_checked(folder, manifest, part, out.write)
        copied.add(key)
    return copied


def restore_workspace(ctx: Context, backup_id: str, workspace_id: str) -> WorkspaceReport:
    folder = open_place(ctx.settings)
    report = WorkspaceReport(backup_id, workspace_id)
    purged = _purged_in(ctx, workspace_id)
    with ctx.store.read() as uow:
        if uow.workspaces.get(workspace_id) is None:
            raise NotFound(f"no workspace {workspace_id} in the live deployment")
        _refuse_busy(uow, workspace_id)
    ctx.keyring.workspace_key(workspace_id)  # KeyUnavailable if the live key is gone
    with folder.lock(exclusive=False):
        manifest, key = open_backup(folder, ctx.keyring, backup_id)
        if manifest.kind != DATA:
            raise InvalidInput(f"{backup_id} is a keystore backup; give a data backup")
        rows = _read_backup_rows(ctx, folder, manifest, key, workspace_id)
        _filter(ctx, rows, purged, report)
        copied = _copy_blobs(ctx, folder, manifest, rows)
    report.blobs_copied = len(copied)
    with ctx.store.write() as uow:
        kept = _apply_live(ctx, uow, workspace_id, rows, report)
        before = set(uow.backups.live_blobs(workspace_id))
        uow.backups.replace_workspace(workspace_id, rows, kept)
        # The subjects erased since the backup: found again in what it brought back, by
        # the same rules, before anyone can read it (services/erasure.py).
        erased: list[str] = []
        erased_files: list[str] = []
        records = Records(ctx)
        for certificate in _erasures(ctx, workspace_id):
            ids_, files = erasure.replay_in(uow, ctx, records, certificate, ctx.clock.now())
            erased += ids_
            erased_files += files
        report.restored = rows.counts()
        audit.append(
            uow,
            ctx.clock.now(),
            "system:backup",
            "backup.workspace_restored",
            workspace_id,
            backup_id=backup_id,
            restored=report.restored,
            left_out_purged=report.left_out_purged,
            left_out_without_key=report.left_out_without_key,
        )
        uow.commit()
    if erased or erased_files:
        ctx.shredder.delete_listed(workspace_id, erased, erased_files, ctx.clock.now())
    for blob_key in (before | copied) - {f["blob_key"] for f in rows.rows("files")}:
        ctx.blobs.delete(blob_key)
        report.blobs_deleted += 1
    return report

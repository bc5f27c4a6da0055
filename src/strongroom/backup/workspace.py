"""Restoring one workspace into the live deployment, after corruption or an operator's
mistake: ``strongroom backup restore ID --workspace WS``.

Semantics: the workspace's data (collections, projects, records and their index entries,
files, open trash entries and their purge deadlines) is replaced by the backup's; its
account side (plan, members, tokens, holds, billing, exports) stays as it is live.
Refused: a workspace the ledger says was purged, one that no longer exists live, and one
with a purge under way. Left out, and counted: every project, record or file the ledger
says was purged, and every project whose key is no longer in the live keystore. Blobs the
restored files need are copied from the pool (checked) before the rows are written; blobs
of live files the backup does not have are deleted after.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from strongroom.backup.locking import folder_lock
from strongroom.backup.manifest import DATA, Folder
from strongroom.backup.reader import copy_checked, decrypt_snapshot, open_backup
from strongroom.errors import Conflict, InvalidInput, KeyUnavailable, NotFound
from strongroom.services import audit
from strongroom.services.context import Context
from strongroom.storage import snapshots, workspace_copy
from strongroom.storage.database import connect, make_engine
from strongroom.storage.workspace_copy import WorkspaceRows


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


def _purged_in(ctx: Context, workspace_id: str) -> tuple[bool, set[str]]:
    """Whether the ledger says the workspace was purged, and its purged subjects."""
    with ctx.keyring.keystore.read() as uow:
        tombs = uow.keys.tombstones(workspace_id=workspace_id, limit=1_000_000)
    return any(t.kind == "workspace" for t in tombs), {t.subject_id for t in tombs}


def _read_backup_rows(ctx: Context, folder: Folder, backup_id: str, ws: str) -> WorkspaceRows:
    manifest, key = open_backup(folder, ctx.keyring, backup_id)
    if manifest.kind != DATA:
        raise InvalidInput(f"{backup_id} is a keystore backup; give a data backup")
    with snapshots.scratch_database(ctx.settings.database_url, folder.root) as url:
        with snapshots.loader(url) as sink:
            decrypt_snapshot(folder, manifest, key, sink.write)
        engine = make_engine(url)
        try:
            with connect(engine) as conn:
                return workspace_copy.read(conn, ws)
        finally:
            engine.dispose()


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


def restore_workspace(ctx: Context, backup_id: str, workspace_id: str) -> WorkspaceReport:
    folder = Folder(ctx.settings.backup_dir)
    report = WorkspaceReport(backup_id, workspace_id)
    was_purged, purged = _purged_in(ctx, workspace_id)
    if was_purged:
        raise Conflict(
            f"the deletion ledger says workspace {workspace_id} was purged; it is never restored",
            workspace_id=workspace_id,
        )
    with ctx.store.read() as uow:
        if uow.workspaces.get(workspace_id) is None:
            raise NotFound(f"no workspace {workspace_id} in the live deployment")
        if workspace_copy.busy_purges(uow.conn, workspace_id):
            raise Conflict(f"a purge is under way in {workspace_id}; retry when it has finished")
    ctx.keyring.workspace_key(workspace_id)  # KeyUnavailable if the live key is gone
    with folder_lock(folder.root, exclusive=False):
        rows = _read_backup_rows(ctx, folder, backup_id, workspace_id)
        _filter(ctx, rows, purged, report)
        manifest = folder.read_manifest(DATA, backup_id)
        parts = {p.name: p for p in manifest.blob_parts}
        for f in rows.rows("files"):
            key = f["blob_key"]
            if ctx.blobs.exists(key):
                continue
            part = parts.get("blob:" + key)
            if part is None:
                raise Conflict(f"backup {backup_id} lacks the blob of file {f['id']}")
            with ctx.blobs.writer(key) as out:
                copy_checked(folder, part, backup_id, out.write)
            report.blobs_copied += 1
    with ctx.store.write() as uow:
        before = set(workspace_copy.live_blobs(uow.conn, workspace_id))
        workspace_copy.replace(uow.conn, workspace_id, rows)
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
    for key in before - {f["blob_key"] for f in rows.rows("files")}:
        ctx.blobs.delete(key)
        report.blobs_deleted += 1
    return report

"""``sr.backups``: the use cases of backups, for the CLI and for embedding."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from strongroom.backup import drill, reader, restore, retention, workspace, writer
from strongroom.backup.locking import folder_lock
from strongroom.backup.manifest import DATA, KEYSTORE, Folder, Manifest
from strongroom.services.context import Context


@dataclass(frozen=True)
class BackupEntry:
    id: str
    kind: str
    created_at: datetime
    expires_at: datetime
    size: int
    new_bytes: int
    parts: int
    keystore_backup_id: str | None
    counts: dict[str, int]

    @classmethod
    def of(cls, m: Manifest, days: int) -> BackupEntry:
        return cls(
            m.id,
            m.kind,
            m.created_at,
            m.expiry(days),
            m.size,
            m.new_bytes,
            len(m.parts),
            m.keystore_backup_id,
            m.counts,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "size": self.size,
            "new_bytes": self.new_bytes,
            "parts": self.parts,
            "keystore_backup_id": self.keystore_backup_id,
            "counts": self.counts,
        }


class Backups:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def __repr__(self) -> str:
        return f"Backups({self.ctx.settings.backup_dir!r})"

    @property
    def folder(self) -> Folder:
        return Folder(self.ctx.settings.backup_dir)

    def create(self, on_progress: Callable[[int], None] | None = None) -> BackupEntry:
        data, _keystore = writer.create(self.ctx, on_progress)
        return BackupEntry.of(data, self.ctx.settings.backup_retention_days)

    def list(self, kind: str = DATA) -> list[BackupEntry]:
        """Complete backups (manifest present, seal verified), oldest first."""
        days = retention.retention_days(self.ctx.settings, kind)
        return [BackupEntry.of(m, days) for m in self.folder.manifests(kind, self.ctx.keyring)]

    def list_all(self) -> builtins.list[BackupEntry]:
        return self.list(DATA) + self.list(KEYSTORE)

    def verify(self, backup_id: str) -> reader.VerifyReport:
        with folder_lock(self.folder.root, exclusive=False):
            return reader.verify(self.folder, self.ctx.keyring, backup_id)

    def restore_home(
        self,
        backup_id: str,
        target: Path,
        *,
        database_url: str = "",
        keystore_url: str = "",
        on_progress: Callable[[int], None] | None = None,
    ) -> restore.RestoreReport:
        return restore.restore_home(
            self.ctx,
            backup_id,
            target,
            database_url=database_url,
            keystore_url=keystore_url,
            on_progress=on_progress,
        )

    def restore_workspace(self, backup_id: str, workspace_id: str) -> workspace.WorkspaceReport:
        return workspace.restore_workspace(self.ctx, backup_id, workspace_id)

    def expire(self, now: datetime | None = None) -> retention.ExpiryReport:
        return retention.expire(self.ctx.settings, self.ctx.keyring, now or self.ctx.clock.now())

    def drill(self, scratch: Path | None = None) -> drill.DrillReport:
        return drill.run(self.ctx, scratch)

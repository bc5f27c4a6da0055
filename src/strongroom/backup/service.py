"""``sr.backups``: the use cases of backups, for the CLI and for embedding."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from strongroom.backup import drill, reader, restorable, restore, retention, workspace, writer
from strongroom.backup.manifest import DATA, KEYSTORE, BackupPlace, Manifest
from strongroom.backup.places import open_place
from strongroom.backup.restore import OpenHome
from strongroom.services import audit
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
    #: Data backups: until when a keystore backup that restores it is kept (None: none
    #: is). Keystore backups are restored with a data backup, never alone: None.
    restorable_until: datetime | None = None

    @classmethod
    def of(
        cls, m: Manifest, expires_at: datetime, restorable_until: datetime | None = None
    ) -> BackupEntry:
        return cls(
            m.id,
            m.kind,
            m.created_at,
            expires_at,
            m.size,
            m.new_bytes,
            len(m.parts),
            m.keystore_backup_id,
            m.counts,
            restorable_until,
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
            "restorable_until": (
                None if self.restorable_until is None else self.restorable_until.isoformat()
            ),
        }


class Backups:
    def __init__(self, ctx: Context, open_home: OpenHome) -> None:
        self.ctx = ctx
        self._open_home = open_home
        self._place: BackupPlace | None = None

    def __repr__(self) -> str:
        return f"Backups({self.folder.where!r})"

    @property
    def folder(self) -> BackupPlace:
        """The backup place: the folder backup_dir, or backup_url's S3 prefix."""
        if self._place is None:
            self._place = open_place(self.ctx.settings)
        return self._place

    def create(self, on_progress: Callable[[int], None] | None = None) -> BackupEntry:
        data, keystore = writer.create(self.ctx, on_progress)
        expires = data.expiry(self.ctx.settings.backup_retention_days)
        until = restorable.restorable_until(
            data.created_at, expires, [(keystore.created_at, keystore.expires_at)]
        )
        return BackupEntry.of(data, expires, until)

    def list(self, kind: str = DATA) -> list[BackupEntry]:
        """Complete backups (manifest present, seal verified), oldest first."""
        data, keystores = self._dated()
        return data if kind == DATA else keystores

    def list_all(self) -> builtins.list[BackupEntry]:
        data, keystores = self._dated()
        return data + keystores

    def _dated(self) -> tuple[builtins.list[BackupEntry], builtins.list[BackupEntry]]:
        """Data and keystore backups with the dates retention gives them: a keystore
        backup's brought forward by keys destroyed since; a data backup's restorable-until
        from the keystore backups taken at or after it."""
        settings, now = self.ctx.settings, self.ctx.clock.now()
        shreds = retention.key_shreds(self.ctx, now)
        window = timedelta(days=settings.backup_purge_window_days)
        keystores = [
            BackupEntry.of(
                m,
                restorable.keystore_expiry(
                    m.created_at,
                    m.expiry(settings.keystore_backup_retention_days),
                    shreds,
                    window,
                ),
            )
            for m in self.folder.manifests(KEYSTORE, self.ctx.keyring)
        ]
        dates = [(k.created_at, k.expires_at) for k in keystores]
        data = []
        for m in self.folder.manifests(DATA, self.ctx.keyring):
            expires = m.expiry(settings.backup_retention_days)
            until = restorable.restorable_until(m.created_at, expires, dates)
            data.append(BackupEntry.of(m, expires, until))
        return data, keystores

    def verify(self, backup_id: str) -> reader.VerifyReport:
        with self.folder.lock(exclusive=False):
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
            open_home=self._open_home,
        )

    def restore_workspace(self, backup_id: str, workspace_id: str) -> workspace.WorkspaceReport:
        return workspace.restore_workspace(self.ctx, backup_id, workspace_id)

    def expire(self, now: datetime | None = None) -> retention.ExpiryReport:
        return retention.expire(self.ctx, now or self.ctx.clock.now())

    def drill(self, scratch: Path | None = None, actor: str = "system") -> drill.DrillReport:
        """Restore the newest backup into a scratch home and check it; the outcome is an
        audit event (``backup.drill``), which the backup promise reads."""
        report = drill.run(self.ctx, self._open_home, scratch)
        audit.record(
            self.ctx.store,
            self.ctx.clock.now(),
            actor,
            "backup.drill",
            None,
            ok=report.ok,
            backup_id=report.backup_id,
            problems=report.problems[:5],
        )
        return report

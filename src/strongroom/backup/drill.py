"""The restore drill: restore the newest backup into a temporary home, check it, compare
it with the live store, report, and remove the temporary home.

Checks: every part verifies; the restore finishes (ledger replayed); the restored audit
chain verifies; a sample of restored records and files decrypts; the restored counts are
the backup's, less what the ledger removed. Live counts are shown beside them: the
difference is what changed since the backup was taken.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from strongroom.backup.manifest import DATA
from strongroom.backup.places import open_place
from strongroom.backup.reader import verify
from strongroom.backup.restore import OpenHome, restore_home
from strongroom.backup.scratch import scratch_folder
from strongroom.config import load_settings
from strongroom.errors import NotFound, StrongroomError
from strongroom.services.context import Context
from strongroom.storage import snapshots

SAMPLE = 100
COMPARED = ("workspaces", "projects", "records", "files")


@dataclass
class DrillReport:
    backup_id: str = ""
    backup_created_at: str = ""
    age_hours: float = 0.0
    parts_verified: int = 0
    bytes_verified: int = 0
    restore_seconds: float = 0.0
    ledger_replayed: dict[str, int] = field(default_factory=dict)
    audit_events_verified: int = 0
    decrypted: dict[str, int] = field(default_factory=dict)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "backup_id": self.backup_id,
            "backup_created_at": self.backup_created_at,
            "age_hours": round(self.age_hours, 2),
            "parts_verified": self.parts_verified,
            "bytes_verified": self.bytes_verified,
            "restore_seconds": round(self.restore_seconds, 3),
            "ledger_replayed": self.ledger_replayed,
            "audit_events_verified": self.audit_events_verified,
            "decrypted": self.decrypted,
            "counts": self.counts,
            "problems": self.problems,
        }


@contextlib.contextmanager
def _scratch_urls(ctx: Context, home: Path) -> Iterator[tuple[str, str]]:
    """Databases for the drill's home: SQLite inside it, or scratch PostgreSQL databases."""
    s = ctx.settings
    if snapshots.backend_of(s.database_url) == "sqlite":
        yield "", ""
        return
    with (
        snapshots.scratch_database(s.database_url, home) as data,
        snapshots.scratch_database(s.keystore_url, home) as keys,
    ):
        yield data, keys


def run(ctx: Context, open_home: OpenHome, scratch: Path | None = None) -> DrillReport:
    report = DrillReport()
    folder = open_place(ctx.settings)
    backups = folder.manifests(DATA, ctx.keyring)
    if not backups:
        raise NotFound(f"no backup in {folder.where} to drill; run: strongroom backup create")
    newest = backups[-1]
    now = ctx.clock.now()
    report.backup_id = newest.id
    report.backup_created_at = newest.created_at.isoformat()
    report.age_hours = (now - newest.created_at).total_seconds() / 3600
    checked = verify(folder, ctx.keyring, newest.id)
    report.parts_verified, report.bytes_verified = checked.parts, checked.bytes
    report.problems += [f"part {b['part']}: {b['problem']}" for b in checked.bad_parts]
    if not checked.ok:
        return report
    parent = Path(
        tempfile.mkdtemp(prefix="strongroom-drill-", dir=scratch or scratch_folder(ctx.settings))
    )
    try:
        home = parent / "home"
        with _scratch_urls(ctx, parent) as (data_url, keys_url):
            started = time.monotonic()
            try:
                restored = restore_home(
                    ctx,
                    newest.id,
                    home,
                    database_url=data_url,
                    keystore_url=keys_url,
                    open_home=open_home,
                )
            except StrongroomError as e:
                report.problems.append(f"restore failed: {e}")
                return report
            report.restore_seconds = time.monotonic() - started
            report.ledger_replayed = restored.replayed
            with open_home(load_settings(home), None) as sr:
                _check_restored(sr, report, newest.counts, restored.counts)
                with ctx.store.read() as uow:
                    live = uow.backups.table_counts()
            report.counts = {
                "backup": {k: newest.counts.get(k, 0) for k in COMPARED},
                "restored": {k: restored.counts.get(k, 0) for k in COMPARED},
                "live": {k: live.get(k, 0) for k in COMPARED},
            }
    finally:
        shutil.rmtree(parent, ignore_errors=True)
    return report


def _check_restored(
    sr: Any, report: DrillReport, backup: dict[str, int], restored: dict[str, int]
) -> None:
    try:
        report.audit_events_verified = sr.audit.verify()
    except StrongroomError as e:
        report.problems.append(f"the restored audit chain does not verify: {e}")
    with sr.ctx.store.read() as uow:
        records, files = uow.backups.live_sample(SAMPLE)
    decrypted = {"records": 0, "files": 0}
    try:
        for ws, prj, record_id in records:
            sr.records.get(ws, prj, record_id, actor="system:drill")
            decrypted["records"] += 1
        for ws, prj, file_id in files:
            sr.files.read_into(ws, prj, file_id, lambda _b: None, actor="system:drill")
            decrypted["files"] += 1
    except StrongroomError as e:
        report.problems.append(f"a restored object does not decrypt: {e}")
    report.decrypted = decrypted
    for name in COMPARED:
        if report.ledger_replayed:
            if restored.get(name, 0) > backup.get(name, 0):
                report.problems.append(f"more {name} restored than the backup holds")
        elif restored.get(name, 0) != backup.get(name, 0):
            report.problems.append(
                f"{name}: backup holds {backup.get(name, 0)}, restored {restored.get(name, 0)}"
            )

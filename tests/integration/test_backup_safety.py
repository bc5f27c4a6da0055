"""Backups against a hostile or unlucky backup folder and target: a rerun restore never
clears a database it did not create, planted or edited manifests neither stop expiry nor
outlive retention nor launder files into a backup, a single-workspace restore never brings
back what was purged or deleted meanwhile, and nothing decrypted is left behind."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, make_url, text

from strongroom.backup import workspace
from strongroom.backup.manifest import Folder, Part
from strongroom.bootstrap import Strongroom
from strongroom.clock import FixedClock
from strongroom.config import Settings
from strongroom.errors import Conflict, IntegrityFailure, InvalidInput, NotFound
from strongroom.storage import snapshots
from tests.integration.test_backup import MARKERS, contents, seed

MARKER = ".strongroom-restore.json"
DAY = timedelta(days=1)


def plant_marker(target: Path, backup_id: str) -> None:
    target.mkdir()
    (target / MARKER).write_text(json.dumps({"backup_id": backup_id}))


def workspace_count(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM workspaces")).scalar_one())
    finally:
        engine.dispose()


def test_a_rerun_restore_never_writes_into_or_clears_the_live_databases(
    sr: Strongroom, home: Settings, tmp_path: Path
) -> None:
    seed(sr, 1)
    entry = sr.backups.create()
    target = tmp_path / "elsewhere"
    plant_marker(target, entry.id)
    for live in (home.database_url, home.keystore_url):
        other = make_url(live).set(database=str(tmp_path / "spare.db")).render_as_string(False)
        with pytest.raises(InvalidInput, match="live database"):
            sr.backups.restore_home(entry.id, target, database_url=live, keystore_url=other)
    assert workspace_count(home.database_url) == 1
    with pytest.raises(InvalidInput, match="new folder"):  # a rerun empties its target
        sr.backups.restore_home(entry.id, Path(home.home).parent)
    assert sr.backups.verify(entry.id).ok


POSTGRES_ONLY = pytest.mark.parametrize(
    "backend", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


@POSTGRES_ONLY
def test_a_rerun_restore_clears_only_the_databases_its_first_run_created(
    sr: Strongroom, home: Settings, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    server = request.getfixturevalue("postgres")
    names = [f"{server.prefix}_s{secrets.token_hex(4)}_{s}" for s in ("data", "keys")]
    for name in names:
        server.execute(f'CREATE DATABASE "{name}"')
    engine = create_engine(server.url(names[0]))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE precious (n int)"))
    engine.dispose()
    seed(sr, 1)
    entry = sr.backups.create()
    target = tmp_path / "elsewhere"
    plant_marker(target, entry.id)  # a marker that records no database
    urls = {"database_url": server.url(names[0]), "keystore_url": server.url(names[1])}
    with pytest.raises(Conflict, match="not empty"):
        sr.backups.restore_home(entry.id, target, **urls)
    assert not snapshots.is_empty(urls["database_url"])  # never cleared


def plant_copy(home: Settings, backup_id: str, **changes: object) -> str:
    """A copy of a backup's manifest under a new id, edited (its seal no longer opens)."""
    root = Path(home.backup_dir) / "data"
    doc = json.loads((root / backup_id / "manifest.json").read_text())
    fake = "bkp_" + secrets.token_hex(13)[:26]
    doc.update(id=fake, **changes)
    (root / fake).mkdir()
    (root / fake / "manifest.json").write_text(json.dumps(doc))
    return fake


def test_a_planted_manifest_with_a_naive_date_stops_neither_expiry_nor_certificates(
    sr: Strongroom, home: Settings, clock: FixedClock
) -> None:
    world = seed(sr, 2)
    first = sr.backups.create()
    plant_copy(home, first.id, created_at="2026-01-01T00:00:00", expires_at="2026-03-01T00:00:00")
    second = sr.backups.create()
    gone = sr.records.delete(world["ws"], world["project"], world["records"][0])
    sr.trash.purge_now(world["ws"], gone.id)
    assert len(sr.worker.run_once().done) == 1
    (certificate,) = sr.certificates.list(world["ws"])
    assert certificate["subject_id"] == world["records"][0]
    clock.advance(61 * DAY)
    assert {first.id, second.id} <= set(sr.backups.expire().deleted)


def date_files(path: Path, when: datetime) -> None:
    for p in [path, *path.iterdir()]:
        os.utime(p, (when.timestamp(), when.timestamp()))


def test_a_backup_whose_manifest_was_edited_expires_by_age_and_certificates_name_it(
    sr: Strongroom, home: Settings, clock: FixedClock
) -> None:
    world = seed(sr, 2)
    entry = sr.backups.create()
    folder = Path(home.backup_dir) / "data" / entry.id
    doc = json.loads((folder / "manifest.json").read_text())
    doc.update(created_at="2099-01-01T00:00:00+00:00", expires_at="2099-03-01T00:00:00+00:00")
    (folder / "manifest.json").write_text(json.dumps(doc))
    date_files(folder, clock.now())
    assert sr.backups.list() == []  # not a backup any more; still data on disk
    gone = sr.records.delete(world["ws"], world["project"], world["records"][0])
    sr.trash.purge_now(world["ws"], gone.id)
    sr.worker.run_once()
    (listed,) = sr.certificates.list(world["ws"])
    named = sr.certificates.get(str(listed["certificate_id"]))["backups_holding_ciphertext"]
    assert [(b["backup_id"], b["expires_at"][:10]) for b in named] == [
        (entry.id, (clock.now() + 60 * DAY).date().isoformat())
    ]
    clock.advance(59 * DAY)
    assert entry.id not in sr.backups.expire().deleted
    clock.advance(2 * DAY)
    assert entry.id in sr.backups.expire().deleted
    assert not folder.exists()


def test_a_planted_manifest_keeps_no_pool_blob_beyond_retention(
    sr: Strongroom, home: Settings, clock: FixedClock
) -> None:
    world = seed(sr, 1)
    first = sr.backups.create()
    gone = sr.files.delete(world["ws"], world["project"], world["files"][0])
    sr.trash.purge_now(world["ws"], gone.id)
    sr.worker.run_once()
    planted = plant_copy(
        home,
        first.id,
        created_at="2099-01-01T00:00:00+00:00",
        expires_at="2099-03-01T00:00:00+00:00",
    )
    date_files(Path(home.backup_dir) / "data" / planted, clock.now())
    pool = Folder(home.backup_dir).pool_path(world["files"][0])
    clock.advance(61 * DAY)
    assert {first.id, planted} <= set(sr.backups.expire().deleted)
    assert not pool.exists()


def during_restore(monkeypatch: pytest.MonkeyPatch, action: Callable[[], object]) -> None:
    """Run ``action`` once, after the backup's snapshot is decrypted and filtered, before
    the rows are written."""
    leave_out = workspace._filter
    pending = [action]

    def racing(*args: Any) -> None:
        leave_out(*args)
        while pending:
            pending.pop()()

    monkeypatch.setattr(workspace, "_filter", racing)


def test_a_purge_finishing_during_a_workspace_restore_is_honoured(
    sr: Strongroom, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = seed(sr, 3)
    ws, p = world["ws"], world["project"]
    entry = sr.backups.create()
    purged, file_id = world["records"][0], world["files"][0]
    due = [sr.records.delete(ws, p, purged), sr.files.delete(ws, p, file_id)]
    for trashed in due:
        sr.trash.purge_now(ws, trashed.id)
    during_restore(monkeypatch, lambda: sr.worker.run_once())
    report = sr.backups.restore_workspace(entry.id, ws)
    assert report.left_out_purged == 2
    with pytest.raises(NotFound):
        sr.records.get(ws, p, purged)
    assert file_id not in contents(sr, world)["files"]
    assert len(contents(sr, world)["records"]) == 2
    assert not sr.ctx.blobs.exists(file_id)  # the copy from the pool was removed again


def test_a_deletion_made_after_the_backup_stands_after_a_workspace_restore(
    sr: Strongroom, clock: FixedClock
) -> None:
    world = seed(sr, 3)
    ws, p = world["ws"], world["project"]
    entry = sr.backups.create()
    deleted = world["records"][1]
    trashed = sr.records.delete(ws, p, deleted)
    sr.backups.restore_workspace(entry.id, ws)
    with pytest.raises(NotFound):
        sr.records.get(ws, p, deleted)
    assert [(e.id, e.subject_id) for e in sr.trash.list(ws).items] == [(trashed.id, deleted)]
    clock.advance(31 * DAY)  # its purge deadline stands too
    sr.worker.run_once()
    assert deleted in {c["subject_id"] for c in sr.certificates.list(ws)}


def test_a_workspace_restore_is_refused_when_the_workspace_purge_becomes_due(
    sr: Strongroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = seed(sr, 1)
    entry = sr.backups.create()
    name = f"Acme {MARKERS[3]}"
    during_restore(monkeypatch, lambda: sr.plans.delete_workspace(world["ws"], name))
    with pytest.raises(Conflict, match="purge"):
        sr.backups.restore_workspace(entry.id, world["ws"])


def test_a_planted_manifest_cannot_make_a_backup_name_a_file_outside_the_pool(
    sr: Strongroom, home: Settings, clock: FixedClock
) -> None:
    seed(sr, 1)
    first = sr.backups.create()
    target = Path(home.home) / "strongroom.toml"
    doc = json.loads((Path(home.backup_dir) / "data" / first.id / "manifest.json").read_text())
    facts = {"path": "../strongroom.toml", "size": target.stat().st_size}
    facts["sha256"] = hashlib.sha256(target.read_bytes()).hexdigest()
    parts = [p if p["name"] == "snapshot" else {**p, **facts} for p in doc["parts"]]
    plant_copy(home, first.id, parts=parts)
    shutil.rmtree(Path(home.backup_dir) / "data" / first.id)  # the real one is gone
    clock.advance(DAY)
    second = sr.backups.create()
    folder = Folder(home.backup_dir)
    manifest = folder.read_manifest("data", second.id)
    assert not any(p.path.startswith("..") for p in manifest.parts)
    assert all(folder.part_path(manifest, p).is_relative_to(folder.root) for p in manifest.parts)
    assert sr.backups.verify(second.id).ok
    outside = Part("blob:..", "pool/../..", 1, "0" * 64)
    with pytest.raises(IntegrityFailure, match="not where a part belongs"):
        folder.part_path(manifest, outside)
    moved = replace(manifest.blob_parts[0], path="../strongroom.toml")
    with pytest.raises(IntegrityFailure, match="not where a part belongs"):
        folder.part_path(manifest, moved)


def test_a_certificate_waits_while_the_backup_folder_is_gone(
    sr: Strongroom, clock: FixedClock
) -> None:
    """Backups were made; the folder is then unmounted (moved away): the purge destroys the
    key and deletes the rows, but issues no certificate claiming no backup holds the data
    until the folder is back; then the certificate names the backup."""
    ws = sr.workspaces.create("A", "owner@a.example")
    project = sr.projects.create(ws.id, "P")
    sr.records.put(ws.id, project.id, "notes", {"text": "x"})
    data = sr.backups.create()
    entry = sr.projects.delete(ws.id, project.id)
    root = Path(sr.settings.backup_dir)
    away = root.with_name(root.name + "-unmounted")
    root.rename(away)
    sr.trash.purge_now(ws.id, entry.id)
    report = sr.worker.run_once()
    assert report.failed and sr.certificates.list(ws.id) == []
    away.rename(root)
    clock.advance(timedelta(minutes=5))
    assert sr.worker.run_once().failed == []
    (cert,) = sr.certificates.list(ws.id)
    document = sr.certificates.get(str(cert["certificate_id"]))
    assert data.id in [b["backup_id"] for b in document["backups_holding_ciphertext"]]

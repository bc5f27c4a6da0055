"""Backups through the library, on SQLite and PostgreSQL, with real parts: a restore equals
its source, a backup taken during writes restores to a consistent state, purged data stays
purged after a restore, a flipped byte anywhere is named, the markers never appear in any
byte of the backup folder, and one workspace restores into the live deployment."""

from __future__ import annotations

import io
import secrets
import threading
from pathlib import Path
from typing import Any

import pytest

from strongroom import open_strongroom
from strongroom.bootstrap import Strongroom
from strongroom.clock import FixedClock
from strongroom.config import Settings
from strongroom.errors import Conflict, KeyUnavailable, NotFound
from strongroom.storage import snapshots

MARKERS = ["MARKER-RECORD-7f3a", "MARKER-FILE-c01d", "MARKER-NAME-9e2b", "Zanzibar-Q"]


def seed(sr: Strongroom, n: int = 20) -> dict[str, Any]:
    ws = sr.workspaces.create(f"Acme {MARKERS[3]}", "owner@acme.example")
    project = sr.projects.create(ws.id, "Hiring")
    other = sr.projects.create(ws.id, "Sales")
    records = sr.records.put_many(
        ws.id, project.id, "notes", [{"text": f"{MARKERS[0]} {i}"} for i in range(n)]
    )
    files = [
        sr.files.put(
            ws.id, project.id, f"{MARKERS[2]}-{i}.txt", io.BytesIO(MARKERS[1].encode() * 5000)
        ).id
        for i in range(3)
    ]
    extra = sr.records.put(ws.id, other.id, "notes", {"text": "in the other project"}).id
    return {
        "ws": ws.id,
        "project": project.id,
        "other": other.id,
        "records": records,
        "files": files,
        "extra": extra,
    }


def target_dbs(request: pytest.FixtureRequest, settings: Settings) -> dict[str, str]:
    """Empty databases for a restore: {} on SQLite (files in the new home)."""
    if snapshots.backend_of(settings.database_url) == "sqlite":
        return {}
    server = request.getfixturevalue("postgres")
    names = [f"{server.prefix}_r{secrets.token_hex(4)}_{s}" for s in ("data", "keys")]
    for name in names:
        server.execute(f'CREATE DATABASE "{name}"')
    return {"database_url": server.url(names[0]), "keystore_url": server.url(names[1])}


def contents(sr: Strongroom, world: dict[str, Any]) -> dict[str, Any]:
    ws, p = world["ws"], world["project"]
    out: dict[str, Any] = {
        "records": {r.id: r.document for r in sr.records.list(ws, p, "notes", limit=1000).items},
        "files": {},
    }
    for f in sr.files.list(ws, p):
        buffer = io.BytesIO()
        sr.files.read_into(ws, p, f.id, buffer.write)
        out["files"][f.id] = (f.name, buffer.getvalue())
    return out


def scan(folder: Path, needles: list[str]) -> list[str]:
    hits = []
    forms = [(n, [n.encode(), n.encode("utf-16-le")]) for n in needles]
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        hits += [f"{n} in {path}" for n, fs in forms if any(f in data for f in fs)]
    return hits


def test_a_restore_equals_its_source_and_no_marker_is_in_any_byte_of_the_backups(
    sr: Strongroom, home: Settings, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    world = seed(sr)
    before = contents(sr, world)
    entry = sr.backups.create()
    assert [e.id for e in sr.backups.list()] == [entry.id]
    assert entry.counts["records"] == 21 and entry.counts["files"] == 3

    report = sr.backups.restore_home(entry.id, tmp_path / "restored", **target_dbs(request, home))
    assert report.replayed == {} and report.blobs == 3
    with open_strongroom(tmp_path / "restored") as restored:
        assert contents(restored, world) == before
        assert restored.audit.verify() == sr.audit.verify()  # + backup.restored, - backup.created
        assert restored.records.get(world["ws"], world["other"], world["extra"]).document
    assert scan(Path(home.backup_dir), MARKERS) == []
    assert sr.backups.verify(entry.id).ok


def test_a_backup_taken_during_writes_restores_to_a_consistent_state(
    sr: Strongroom, home: Settings, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    world = seed(sr, 5)
    stop = threading.Event()
    written: list[int] = []

    def writer() -> None:
        i = 0
        while not stop.is_set():
            sr.records.put_many(world["ws"], world["project"], "notes", [{"n": i}] * 20)
            if i % 5 == 0:
                sr.files.put(world["ws"], world["project"], f"f{i}", io.BytesIO(b"x" * 70000))
            i += 1
            written.append(i)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 3:
            threading.Event().wait(0.01)
        entry = sr.backups.create()
    finally:
        stop.set()
        thread.join()
    assert len(written) > 3
    sr.backups.restore_home(entry.id, tmp_path / "restored", **target_dbs(request, home))
    with open_strongroom(tmp_path / "restored") as restored:
        assert restored.audit.verify() > 0
        got = contents(restored, world)  # every record and file decrypts
        assert len(got["records"]) == entry.counts["records"] - 1  # less the other project's
        assert len(got["files"]) == entry.counts["files"]
        with restored.ctx.store.read() as uow:
            assert uow.backups.table_counts()["audit_events"] == entry.counts["audit_events"] + 1


def test_backup_then_purge_then_restore_the_purged_data_is_absent_and_undecryptable(
    sr: Strongroom,
    home: Settings,
    clock: FixedClock,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    world = seed(sr)
    ws = world["ws"]
    entry = sr.backups.create()
    project_entry = sr.projects.delete(ws, world["project"])
    record_entry = sr.records.delete(ws, world["other"], world["extra"])
    for e in (project_entry, record_entry):
        sr.trash.purge_now(ws, e.id)
    assert len(sr.worker.run_once().done) == 2
    certificates = {c["subject_id"]: c for c in sr.certificates.list(ws)}
    project_cert = sr.certificates.get(str(certificates[world["project"]]["certificate_id"]))
    named = {b["backup_id"]: b for b in project_cert["backups_holding_ciphertext"]}
    assert set(named) == {entry.id, entry.keystore_backup_id}
    assert named[entry.id]["expires_at"].startswith(entry.expires_at.date().isoformat())
    assert named[str(entry.keystore_backup_id)]["kind"] == "keystore"
    record_cert = sr.certificates.get(str(certificates[world["extra"]]["certificate_id"]))
    assert [b["backup_id"] for b in record_cert["backups_holding_ciphertext"]] == [entry.id]

    report = sr.backups.restore_home(entry.id, tmp_path / "restored", **target_dbs(request, home))
    assert report.replayed == {"project": 1, "record": 1}
    assert report.blobs == 0  # the purged project's files never land in the new home
    with open_strongroom(tmp_path / "restored") as restored:
        with pytest.raises(NotFound):
            restored.projects.get(ws, world["project"])
        with pytest.raises(NotFound):
            restored.records.get(ws, world["other"], world["extra"])
        with pytest.raises(KeyUnavailable):
            restored.ctx.keyring.data_key(world["project"])
        assert {c["subject_id"] for c in restored.certificates.list(ws)} == set(certificates)
        assert restored.audit.verify() > 0
        assert not list((tmp_path / "restored" / "blobs").rglob("fil_*"))
    with pytest.raises(KeyUnavailable):  # the backup's copy of the live key is gone too
        sr.ctx.keyring.data_key(world["project"])


def test_one_workspace_restores_into_the_live_deployment_without_what_was_purged(
    sr: Strongroom, clock: FixedClock
) -> None:
    world = seed(sr)
    ws, p = world["ws"], world["project"]
    bystander = seed(sr, 2)
    entry = sr.backups.create()
    before = contents(sr, world)
    # operator error and corruption: records changed and deleted, a file lost
    sr.records.put(ws, p, "notes", {"text": "written after the backup"})
    gone = sr.records.delete(ws, p, world["records"][0])
    sr.trash.purge_now(ws, gone.id)
    sr.worker.run_once()
    trashed = sr.files.delete(ws, p, world["files"][0])
    sr.backups.create()  # (a newer backup exists; the older one is restored)

    report = sr.backups.restore_workspace(entry.id, ws)
    assert report.left_out_purged == 1
    after = contents(sr, world)
    expected = dict(before["records"])
    del expected[world["records"][0]]
    assert after["records"] == expected
    assert world["files"][0] not in after["files"]  # a deletion since the backup stands...
    sr.trash.restore(ws, trashed.id)  # ...in the trash, with its deadline
    assert contents(sr, world)["files"] == before["files"]
    assert len(contents(sr, bystander)["records"]) == 2  # other workspaces are untouched
    assert sr.audit.verify() > 0

    with pytest.raises(NotFound):
        sr.backups.restore_workspace(entry.id, "ws_" + "a" * 26)


def test_a_restore_refuses_a_folder_that_is_not_empty(
    sr: Strongroom, home: Settings, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    seed(sr, 1)
    entry = sr.backups.create()
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "something").write_text("x")
    with pytest.raises(Conflict, match="not empty"):
        sr.backups.restore_home(entry.id, busy, **target_dbs(request, home))
    with pytest.raises(NotFound):
        sr.backups.restore_home("bkp_" + "a" * 26, tmp_path / "new")

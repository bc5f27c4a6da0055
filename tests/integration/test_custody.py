"""The custody core end to end on real databases: every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, update

from strongroom import (
    IntegrityFailure,
    InvalidInput,
    KeyUnavailable,
    NotFound,
    TooLarge,
    open_strongroom,
)
from strongroom.bootstrap import Strongroom
from strongroom.config import Settings
from strongroom.domain.roles import Role
from strongroom.storage import keystore_tables, tables


def _setup(sr: Strongroom) -> tuple[str, str]:
    ws = sr.workspaces.create("Acme Talent", "owner@acme.example")
    project = sr.projects.create(ws.id, "Backend hiring")
    return ws.id, project.id


def _counts(sr: Strongroom) -> tuple[int, int, int]:
    with sr.ctx.store.read() as uow:
        return uow.records.count(), uow.files.count(), uow.audit.head(lock=False)[0]


def test_workspace_project_and_members_round_trip(sr: Strongroom) -> None:
    ws_id, project_id = _setup(sr)
    sr.workspaces.add_member(ws_id, "reviewer@acme.example", "viewer")
    assert [w.name for w in sr.workspaces.list()] == ["Acme Talent"]
    assert sr.projects.get(ws_id, project_id).name == "Backend hiring"
    members = {m.email: m.role for m in sr.workspaces.members(ws_id)}
    assert members == {"owner@acme.example": Role.OWNER, "reviewer@acme.example": Role.VIEWER}


def test_records_round_trip_list_and_update(sr: Strongroom) -> None:
    ws_id, project_id = _setup(sr)
    docs = [{"name": f"Candidate {i}", "score": i, "tags": ["a", "b"]} for i in range(25)]
    ids = sr.records.put_many(ws_id, project_id, "candidates", docs)
    assert [sr.records.get(ws_id, project_id, i).document for i in ids] == docs

    seen, cursor = [], None
    while True:
        page = sr.records.list(ws_id, project_id, "candidates", cursor, limit=10)
        seen += [r.id for r in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert sorted(seen) == sorted(ids)

    with sr.ctx.store.read() as uow:
        before = uow.records.get(ws_id, project_id, ids[0])
    sr.records.update(ws_id, project_id, ids[0], {"name": "Renamed", "score": 99})
    with sr.ctx.store.read() as uow:
        after = uow.records.get(ws_id, project_id, ids[0])
    assert before is not None and after is not None
    assert after.sealed != before.sealed
    assert sr.records.get(ws_id, project_id, ids[0]).document == {"name": "Renamed", "score": 99}

    one = sr.records.put(ws_id, project_id, "candidates", {"name": "Single", "score": 1})
    assert one == sr.records.get(ws_id, project_id, one.id)  # put returns what a read gives
    assert one.collection == "candidates" and one.created_at == one.updated_at


def test_blind_index_finds_personal_fields_and_follows_updates(sr: Strongroom) -> None:
    ws_id, project_id = _setup(sr)
    sr.records.declare_collection(ws_id, "contacts", ["email", "phone"])
    a = sr.records.put(
        ws_id, project_id, "contacts", {"email": "Ada@Example.com", "phone": "+44 20 7946 0321"}
    ).id
    sr.records.put(ws_id, project_id, "contacts", {"email": "bob@example.com"})
    assert sr.records.find(ws_id, "email", "  ada@example.COM") == [a]
    assert sr.records.find(ws_id, "phone", "+442079460321") == [a]
    sr.records.update(ws_id, project_id, a, {"email": "ada@new.example"})
    assert sr.records.find(ws_id, "email", "ada@example.com") == []
    assert sr.records.find(ws_id, "email", "ada@new.example") == [a]


def test_files_stream_round_trip(sr: Strongroom, tmp_path: Path) -> None:
    ws_id, project_id = _setup(sr)
    content = os.urandom(3 * 64 * 1024 + 17)
    stored = sr.files.put(ws_id, project_id, "cv.pdf", io.BytesIO(content))
    out = tmp_path / "out.pdf"
    info = sr.files.get_to_path(ws_id, project_id, stored.id, out)
    assert out.read_bytes() == content
    assert info.name == "cv.pdf" and info.size == len(content)
    assert [f.name for f in sr.files.list(ws_id, project_id)] == ["cv.pdf"]


def test_marker_is_nowhere_in_the_home_folder_bytes(
    sr: Strongroom, home: Settings, tmp_path: Path
) -> None:
    marker = "MARKER-7f3a9c1e-strongroom-plaintext"
    ws = sr.workspaces.create(f"{marker} workspace", f"{marker.lower()}@example.com")
    project = sr.projects.create(ws.id, f"{marker} project")
    sr.records.declare_collection(ws.id, "contacts", ["email", "name"])
    record_id = sr.records.put(
        ws.id,
        project.id,
        "contacts",
        {"name": marker, "email": f"{marker}@example.com", "note": marker * 3},
    ).id
    file_bytes = (marker + "\n").encode() * 5000
    stored = sr.files.put(ws.id, project.id, f"{marker}.txt", io.BytesIO(file_bytes))

    # While the store is open, so SQLite's WAL and shared-memory files are scanned too.
    found = [p for p in home.home.rglob("*") if p.is_file() and marker.encode() in p.read_bytes()]
    found += [
        p
        for p in home.home.rglob("*")
        if p.is_file() and marker.encode("utf-16-le") in p.read_bytes()
    ]
    assert found == []
    if not home.database_url.startswith("postgresql"):
        assert (home.home / "data.db-wal").exists()

    assert sr.records.get(ws.id, project.id, record_id).document["name"] == marker
    out = tmp_path / "back.txt"
    sr.files.get_to_path(ws.id, project.id, stored.id, out)
    assert out.read_bytes() == file_bytes


def test_tampered_record_never_decrypts_and_is_audited(sr: Strongroom) -> None:
    ws_id, project_id = _setup(sr)
    rid = sr.records.put(ws_id, project_id, "notes", {"text": "confidential"}).id
    with sr.ctx.store.write() as uow:
        sealed = uow.records.get(ws_id, project_id, rid).sealed  # type: ignore[union-attr]
        flipped = sealed[:-5] + bytes([sealed[-5] ^ 1]) + sealed[-4:]
        uow.conn.execute(
            update(tables.records).where(tables.records.c.id == rid).values(sealed=flipped)
        )
        uow.commit()
    with pytest.raises(IntegrityFailure) as raised:
        sr.records.get(ws_id, project_id, rid)
    assert "confidential" not in str(raised.value)
    last = sr.audit.events(limit=1000)[-1]
    assert last.action == "decrypt.failed" and last.subject["object_id"] == rid
    assert sr.audit.verify() == len(sr.audit.events(limit=1000))


def test_ciphertexts_swapped_between_records_fail(sr: Strongroom) -> None:
    ws_id, project_id = _setup(sr)
    a, b = sr.records.put_many(ws_id, project_id, "notes", [{"n": "a"}, {"n": "b"}])
    with sr.ctx.store.write() as uow:
        sa = uow.records.get(ws_id, project_id, a).sealed  # type: ignore[union-attr]
        sb = uow.records.get(ws_id, project_id, b).sealed  # type: ignore[union-attr]
        uow.conn.execute(update(tables.records).where(tables.records.c.id == a).values(sealed=sb))
        uow.conn.execute(update(tables.records).where(tables.records.c.id == b).values(sealed=sa))
        uow.commit()
    for rid in (a, b):
        with pytest.raises(IntegrityFailure):
            sr.records.get(ws_id, project_id, rid)


def test_tampered_file_leaves_no_output(sr: Strongroom, home: Settings, tmp_path: Path) -> None:
    ws_id, project_id = _setup(sr)
    stored = sr.files.put(ws_id, project_id, "big.bin", io.BytesIO(os.urandom(200_000)))
    blob = next(p for p in (home.home / "blobs").rglob(stored.id))
    data = bytearray(blob.read_bytes())
    data[150_000] ^= 0x40
    blob.write_bytes(bytes(data))
    out = tmp_path / "out.bin"
    with pytest.raises(IntegrityFailure):
        sr.files.get_to_path(ws_id, project_id, stored.id, out)
    assert list(tmp_path.iterdir()) == [home.home] or not out.exists()
    assert not any(p.name.startswith(".out.bin") for p in tmp_path.iterdir())
    assert not out.exists()


def test_bad_input_writes_nothing(sr: Strongroom) -> None:
    ws_id, project_id = _setup(sr)
    before = _counts(sr)
    too_big = {"blob": "x" * (sr.settings.record_max_bytes + 1)}
    with pytest.raises(TooLarge):
        sr.records.put_many(ws_id, project_id, "notes", [{"ok": 1}, too_big])
    with pytest.raises(InvalidInput):
        sr.records.put_many(ws_id, project_id, "notes", [{"ok": 1}, ["not", "an", "object"]])
    with pytest.raises(InvalidInput):
        sr.records.put(ws_id, project_id, "Bad Collection!", {"ok": 1})
    with pytest.raises(NotFound):
        sr.records.put(ws_id, "prj_" + "a" * 26, "notes", {"ok": 1})
    with pytest.raises(InvalidInput):
        sr.projects.create(ws_id, "")
    assert _counts(sr) == before


def test_tenant_boundaries(sr: Strongroom) -> None:
    ws_a, project_a = _setup(sr)
    ws_b = sr.workspaces.create("Other Co", "owner@other.example").id
    rid = sr.records.put(ws_a, project_a, "notes", {"secret": 1}).id
    stored = sr.files.put(ws_a, project_a, "a.txt", io.BytesIO(b"a"))
    with pytest.raises(NotFound):
        sr.records.get(ws_b, project_a, rid)
    with pytest.raises(NotFound):
        sr.projects.get(ws_b, project_a)
    with pytest.raises(NotFound):
        sr.files.info(ws_b, project_a, stored.id)
    with pytest.raises(NotFound):
        sr.records.put(ws_b, project_a, "notes", {"x": 1})


def test_rotation_rewraps_without_reencrypting(sr: Strongroom) -> None:
    ws_id, project_id = _setup(sr)
    rid = sr.records.put(ws_id, project_id, "notes", {"kept": True}).id
    with sr.ctx.store.read() as uow:
        sealed_before = uow.records.get(ws_id, project_id, rid).sealed  # type: ignore[union-attr]

    result = sr.keys.rotate_workspace(ws_id)
    assert result.version == 2 and result.rewrapped_keys == 2
    root = sr.keys.rotate_root()
    assert root.root_version == 2

    with sr.ctx.keyring.keystore.read() as uow:
        versions = uow.conn.execute(
            select(
                keystore_tables.workspace_keys.c.version,
                keystore_tables.workspace_keys.c.root_version,
            )
        ).all()
    assert [tuple(v) for v in versions] == [(2, 2)]
    with sr.ctx.store.read() as uow:
        sealed_after = uow.records.get(ws_id, project_id, rid).sealed  # type: ignore[union-attr]
    assert sealed_after == sealed_before  # data was not re-encrypted

    # A new process (empty cache) reads everything through the rotated keys.
    sr.ctx.keyring.forget_all()
    assert sr.records.get(ws_id, project_id, rid).document == {"kept": True}
    assert sr.workspaces.get(ws_id).name == "Acme Talent"
    assert sr.workspaces.members(ws_id)[0].email == "owner@acme.example"
    actions = [e.action for e in sr.audit.events(limit=1000)]
    assert "key.rotate_workspace" in actions and "key.rotate_root" in actions


def test_old_root_version_destroyed_after_rotation_is_not_needed(sr: Strongroom) -> None:
    ws_id, project_id = _setup(sr)
    rid = sr.records.put(ws_id, project_id, "notes", {"n": 1}).id
    sr.keys.rotate_root()
    sr.ctx.keyring.kms.destroy_version(1)
    sr.ctx.keyring.forget_all()
    assert sr.records.get(ws_id, project_id, rid).document == {"n": 1}


def test_destroyed_project_key_makes_data_unreadable(sr: Strongroom, tmp_path: Path) -> None:
    ws_id, project_id = _setup(sr)
    rid = sr.records.put(ws_id, project_id, "notes", {"n": 1}).id
    other = sr.projects.create(ws_id, "Kept")
    kept = sr.records.put(ws_id, other.id, "notes", {"n": 2}).id
    stored = sr.files.put(ws_id, project_id, "f.bin", io.BytesIO(b"payload" * 100))
    assert sr.records.get(ws_id, project_id, rid).document == {"n": 1}  # keys now cached
    assert sr.records.get(ws_id, other.id, kept).document == {"n": 2}
    with sr.ctx.keyring.keystore.write() as uow:
        assert uow.keys.delete_data_key(project_id) == 1
        uow.commit()
    sr.ctx.keyring.forget(project_id)  # what a purge does in this process
    with pytest.raises(KeyUnavailable):
        sr.records.get(ws_id, project_id, rid)
    with pytest.raises(KeyUnavailable):
        sr.files.get_to_path(ws_id, project_id, stored.id, tmp_path / "x")
    assert not (tmp_path / "x").exists()
    assert sr.records.get(ws_id, other.id, kept).document == {"n": 2}


def test_keystore_is_a_separate_database(sr: Strongroom, home: Settings) -> None:
    _setup(sr)
    data_tables = set(inspect(sr.ctx.store.engine).get_table_names())
    assert {"workspace_keys", "data_keys", "directory_keys"}.isdisjoint(data_tables)
    assert home.keystore_url != home.database_url
    status = sr.keys.status()
    assert status.keystore["workspace_keys"] == 1
    assert status.keystore["data_keys"] == 2  # the workspace's and the project's
    assert status.workspaces == 1


def test_reopen_reads_everything_back(home: Settings) -> None:
    with open_strongroom(settings=home) as sr:
        ws_id, project_id = _setup(sr)
        rid = sr.records.put(ws_id, project_id, "notes", {"n": "persisted"}).id
    with open_strongroom(settings=home) as sr:
        assert sr.records.get(ws_id, project_id, rid).document == {"n": "persisted"}
        assert sr.audit.verify() == 4  # home.init, workspace, project, record


def test_audit_events_name_ids_not_plaintext(sr: Strongroom) -> None:
    ws_id, project_id = _setup(sr)
    sr.records.put(ws_id, project_id, "notes", {"text": "very private words"})
    dumped = json.dumps([e.as_json() for e in sr.audit.events(limit=1000)])
    assert "very private words" not in dumped and "Acme Talent" not in dumped
    assert "owner@acme.example" not in dumped
    assert [e.action for e in sr.audit.events(ws_id)] == [
        "workspace.create",
        "project.create",
        "record.put",
    ]

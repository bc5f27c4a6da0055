"""Workspace export on real databases (SQLite and PostgreSQL): what a customer gets in the
ZIP, that verify catches every kind of damage, and the API's jobs as the worker runs them."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from datetime import timedelta
from pathlib import Path

import pytest

from strongroom import Conflict, NotFound
from strongroom.bootstrap import Strongroom
from strongroom.clock import FixedClock
from strongroom.errors import Expired, ExportInvalid
from strongroom.export.jobs import JobState
from tests.export_support import entries, rewrite_zip, run_due_exports, zip_bytes_entries

MARKER = "Zyxwvut-marker-4711"
BIG = os.urandom(1024 * 1024 + 12345)
CONTACTS = [
    {"name": "Ada Lovelace", "email": "ada@example.com", "tags": ["math", "poetry"]},
    {"name": f"{MARKER} Grace", "score": 9.5, "$ref": "x", "nested": {"a": [1, None]}},
    {"active": True, "note": None, "multi": 'line one\nline, two "quoted"'},
]
NOTES = [{"text": f"note {i}", "n": i} for i in range(7)]
FILES = {
    "cv.pdf": b"%PDF-1.7 resume " + MARKER.encode(),
    "../../etc/passwd": b"not a password file",
    "big.bin": BIG,
    "CON.txt": b"windows device name",
    "cv.pdf ": b"same name, other file",
}


def _workspace(sr: Strongroom) -> tuple[str, str, dict[str, str]]:
    ws = sr.workspaces.create("Acme Talent", "owner@acme.example")
    sr.workspaces.add_member(ws.id, "viewer@acme.example", "viewer")
    project = sr.projects.create(ws.id, "Hiring")
    sr.records.declare_collection(ws.id, "contacts", ["email"])
    sr.records.put_many(ws.id, project.id, "contacts", CONTACTS)
    sr.records.put_many(ws.id, project.id, "notes", NOTES)
    file_ids = {}
    for name, data in FILES.items():
        file_ids[sr.files.put(ws.id, project.id, name, io.BytesIO(data)).id] = name
    return ws.id, project.id, file_ids


def test_export_holds_every_record_and_file_and_verifies(sr: Strongroom, tmp_path: Path) -> None:
    ws_id, prj, file_ids = _workspace(sr)
    seen: list[tuple[int, int]] = []
    out = tmp_path / "export.zip"
    summary = sr.exports.write(ws_id, out, progress=lambda d, t: seen.append((d, t)))
    assert sr.exports.verify(out).entries == summary.entries == len(entries(out))
    assert seen[-1] == (summary.entries, summary.entries)
    assert summary.sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    assert summary.counts["records"] == len(CONTACTS) + len(NOTES)
    assert summary.counts["files"] == len(FILES)
    got = entries(out)

    # records, as JSON Lines: exactly the stored documents
    lines = [json.loads(x) for x in got[f"records/{prj}/contacts.jsonl"].splitlines()]
    stored = {r.id: r.document for r in sr.records.list(ws_id, prj, "contacts").items}
    assert {x["id"]: x["document"] for x in lines} == stored
    canon = lambda d: json.dumps(d, sort_keys=True)  # noqa: E731
    assert sorted(map(canon, stored.values())) == sorted(map(canon, CONTACTS))
    assert len(got[f"records/{prj}/notes.jsonl"].splitlines()) == len(NOTES)

    # the same records as CSV: metadata columns, fields in first-seen order, $ escaped
    rows = list(csv.DictReader(io.StringIO(got[f"records/{prj}/contacts.csv"].decode())))
    assert {r["$id"] for r in rows} == set(stored)
    by_id = {r["$id"]: r for r in rows}
    for record_id, doc in stored.items():
        row = by_id[record_id]
        if "$ref" in doc:
            assert row["$$ref"] == "x" and row["score"] == "9.5"
            assert json.loads(row["nested"]) == {"a": [1, None]}
        if "multi" in doc:
            assert row["multi"] == doc["multi"] and row["active"] == "true"
            assert row["note"] == "null" and row["email"] == ""

    # files under files/<project>/<file id>/<safe name>, byte for byte
    for file_id, name in file_ids.items():
        [path] = [p for p in got if p.startswith(f"files/{prj}/{file_id}/")]
        assert got[path] == FILES[name]
        assert ".." not in path.split("/") and "\\" not in path
    names = {p.rsplit("/", 1)[1] for p in got if p.startswith("files/")}
    assert names == {"cv.pdf", "_.._etc_passwd", "big.bin", "_CON.txt"}

    members = json.loads(got["members.json"])
    assert {m["email"]: m["role"] for m in members} == {
        "owner@acme.example": "owner",
        "viewer@acme.example": "viewer",
    }
    projects = json.loads(got["projects.json"])
    assert projects["projects"][0]["name"] == "Hiring"
    assert projects["declared_collections"] == [{"name": "contacts", "personal_fields": ["email"]}]
    actions = [json.loads(x)["action"] for x in got["audit.jsonl"].splitlines()]
    assert actions[0] == "workspace.create" and actions.count("file.put") == len(FILES)
    manifest = json.loads(got["manifest.json"])
    assert list(got)[-1] == "manifest.json"
    assert manifest["workspace"] == {
        "id": ws_id,
        "name": "Acme Talent",
        "state": "active",
        "created_at": manifest["workspace"]["created_at"],
    }
    assert {e["path"] for e in manifest["entries"]} == set(got) - {"manifest.json"}


def test_an_export_leaves_out_what_was_written_after_it_began(
    sr: Strongroom, clock: FixedClock, tmp_path: Path
) -> None:
    """Writes made while the export runs (from its first progress report, after
    projects.json and before any record or file is read) are left out, as
    docs/export-format.md promises; the next export holds them."""
    ws_id, prj, file_ids = _workspace(sr)
    before = {r.id for r in sr.records.list(ws_id, prj, "contacts").items}
    changed = next(iter(sr.records.list(ws_id, prj, "notes").items)).id
    written: dict[str, str] = {}

    def write_during_export(done: int, _total: int) -> None:
        if written:
            return
        clock.advance(timedelta(seconds=1))  # the export began an instant ago
        written["record"] = sr.records.put(ws_id, prj, "contacts", {"name": f"{MARKER} later"}).id
        sr.records.update(ws_id, prj, changed, {"text": "changed during the export"})
        written["file"] = sr.files.put(ws_id, prj, "later.txt", io.BytesIO(b"added later")).id
        written["during"] = str(done)

    during = tmp_path / "during.zip"
    summary = sr.exports.write(ws_id, during, progress=write_during_export)
    assert written["during"] == "1"  # only projects.json had been written
    got = entries(during)
    contacts = [json.loads(x) for x in got[f"records/{prj}/contacts.jsonl"].splitlines()]
    assert {x["id"] for x in contacts} == before
    assert MARKER + " later" not in got[f"records/{prj}/contacts.csv"].decode()
    notes = [json.loads(x)["id"] for x in got[f"records/{prj}/notes.jsonl"].splitlines()]
    assert changed not in notes and len(notes) == len(NOTES) - 1  # changed after it began
    assert {p.split("/")[2] for p in got if p.startswith("files/")} == set(file_ids)
    audited = [json.loads(x)["action"] for x in got["audit.jsonl"].splitlines()]
    assert "record.update" not in audited and audited.count("file.put") == len(FILES)
    assert summary.counts["records"] == len(CONTACTS) + len(NOTES) - 1
    assert summary.counts["files"] == len(FILES)
    assert sr.exports.verify(during).entries == summary.entries

    next_export = sr.exports.write(ws_id, tmp_path / "next.zip")
    assert next_export.counts["records"] == len(CONTACTS) + 1 + len(NOTES)
    assert next_export.counts["files"] == len(FILES) + 1
    later = entries(tmp_path / "next.zip")
    assert written["file"] in {p.split("/")[2] for p in later if p.startswith("files/")}


def test_csv_is_the_same_whether_kept_in_memory_or_read_again(
    sr: Strongroom, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws_id, prj, _ = _workspace(sr)
    sr.records.put_many(ws_id, prj, "notes", [{"n": i, f"f{i % 5}": "x" * i} for i in range(300)])
    sr.exports.write(ws_id, tmp_path / "kept.zip")
    monkeypatch.setattr("strongroom.export.replay.MAX_BYTES", 1)  # always read again
    sr.exports.write(ws_id, tmp_path / "reread.zip")
    kept, reread = entries(tmp_path / "kept.zip"), entries(tmp_path / "reread.zip")
    for name in (f"records/{prj}/notes.csv", f"records/{prj}/contacts.csv"):
        assert kept[name] == reread[name]
        assert len(kept[name].splitlines()) > 1


@pytest.mark.parametrize("damage", ["flip", "drop", "extra", "manifest"])
def test_verify_names_the_damaged_entry(sr: Strongroom, tmp_path: Path, damage: str) -> None:
    ws_id, prj, _file_ids = _workspace(sr)
    good = tmp_path / "good.zip"
    sr.exports.write(ws_id, good)
    bad = tmp_path / "bad.zip"
    big = next(p for p in entries(good) if p.endswith("/big.bin"))
    notes = f"records/{prj}/notes.jsonl"
    if damage == "flip":  # a byte in the middle of the big (stored) file's data
        data = bytearray(good.read_bytes())
        at = data.find(BIG[500_000:500_032])
        data[at] ^= 0x01
        bad.write_bytes(bytes(data))
        expected = big
    elif damage == "drop":
        rewrite_zip(good, bad, drop=notes)
        expected = notes
    elif damage == "extra":
        rewrite_zip(good, bad, add=("files/smuggled.exe", b"MZ"))
        expected = "files/smuggled.exe"
    else:  # a manifest edited to match a changed entry's size but not its hash
        manifest = json.loads(entries(good)["manifest.json"])
        for e in manifest["entries"]:
            if e["path"] == notes:
                e["sha256"] = "0" * 64
        rewrite_zip(good, bad, replace=("manifest.json", json.dumps(manifest).encode()))
        expected = notes
    with pytest.raises(ExportInvalid) as caught:
        sr.exports.verify(bad)
    assert caught.value.entry == expected
    assert expected in str(caught.value)


def test_verify_checks_the_manifest_against_its_schema(sr: Strongroom, tmp_path: Path) -> None:
    ws_id, _, _ = _workspace(sr)
    good = tmp_path / "good.zip"
    sr.exports.write(ws_id, good)
    manifest = json.loads(entries(good)["manifest.json"])
    manifest["entries"][0]["path"] = "../escape.txt"
    bad = tmp_path / "bad.zip"
    rewrite_zip(good, bad, replace=("manifest.json", json.dumps(manifest).encode()))
    with pytest.raises(ExportInvalid, match="schema") as caught:
        sr.exports.verify(bad)
    assert caught.value.entry == "manifest.json"


# jobs ---------------------------------------------------------------------------------------
def _blob_files(sr: Strongroom) -> list[Path]:
    return [p for p in Path(sr.settings.blob_dir).rglob("exp_*") if p.is_file()]


def test_an_export_job_runs_seals_its_artifact_and_expires(
    sr: Strongroom, clock: FixedClock
) -> None:
    ws_id, _prj, _ = _workspace(sr)
    job = sr.exports.create_job(ws_id, actor="token:t1")
    assert job.state is JobState.QUEUED
    with sr.ctx.store.read() as uow:
        [deadline] = uow.deadlines.pending_for(job.id, "export.run")
    assert (deadline.reason, deadline.step, deadline.progress, deadline.attempts) == (
        "export",
        "start",
        "{}",
        0,
    )
    with pytest.raises(Conflict):
        sr.exports.open_artifact(ws_id, job.id)

    assert run_due_exports(sr) == ["export.run"]
    done = sr.exports.job(ws_id, job.id)
    assert done.state is JobState.DONE
    assert done.entries_done == done.entries_total and done.entries_total
    assert done.expires_at == clock.now() + timedelta(days=sr.settings.export_ttl_days)
    [blob] = _blob_files(sr)
    assert MARKER.encode() not in blob.read_bytes()
    assert BIG[:4096] not in blob.read_bytes()

    _, chunks = sr.exports.open_artifact(ws_id, job.id)
    data = b"".join(chunks)
    assert hashlib.sha256(data).hexdigest() == done.sha256 and len(data) == done.size
    got = zip_bytes_entries(data)
    assert any(v == BIG for v in got.values())

    assert run_due_exports(sr) == []  # the expiry is not due yet
    clock.advance(timedelta(days=sr.settings.export_ttl_days))
    assert run_due_exports(sr) == ["export.expire"]
    assert sr.exports.job(ws_id, job.id).state is JobState.EXPIRED
    assert _blob_files(sr) == []
    with pytest.raises(Expired):
        sr.exports.open_artifact(ws_id, job.id)
    actions = [e.action for e in sr.audit.events(ws_id, 0, 1000)]
    assert {"export.create", "export.done", "export.download", "export.expire"} <= set(actions)


def test_a_job_rerun_after_a_crash_starts_over_and_a_done_job_is_left_alone(
    sr: Strongroom,
) -> None:
    ws_id, _, _ = _workspace(sr)
    job = sr.exports.create_job(ws_id)
    with sr.ctx.blobs.writer(job.id) as leftover:  # a crash after the blob, before "done"
        leftover.write(b"half an archive")
    with sr.ctx.store.write() as uow:
        uow.export_jobs.update(job.id, state="running", entries_done=3)
        uow.commit()
    first = sr.exports.run_job(job.id)
    assert first.state is JobState.DONE
    _, chunks = sr.exports.open_artifact(ws_id, job.id)
    assert b"".join(chunks).startswith(b"PK")
    again = sr.exports.run_job(job.id)
    assert (again.sha256, again.finished_at) == (first.sha256, first.finished_at)


def test_jobs_belong_to_their_workspace(sr: Strongroom) -> None:
    ws_id, _, _ = _workspace(sr)
    other = sr.workspaces.create("Other", "o@other.example")
    job = sr.exports.create_job(ws_id)
    with pytest.raises(NotFound):
        sr.exports.job(other.id, job.id)
    with pytest.raises(NotFound):
        sr.exports.open_artifact(other.id, job.id)

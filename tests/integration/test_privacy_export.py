"""A data subject's package on SQLite and PostgreSQL: exactly the subject's records across
projects (restricted ones included, trashed ones left out and counted), their files, a
ZIP that ``export verify`` accepts and that imports into another workspace losing
nothing; an unverified request and a tampered package are refused, nothing written."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from strongroom.bootstrap import Strongroom
from strongroom.errors import Conflict, ExportInvalid, InvalidInput, MalformedDocument
from strongroom.export.verify import verify_archive

ADA = "ada@example.com"
CV = b"%PDF-1.7 Ada's CV " + bytes(range(256)) * 600  # several 64 KiB segments
PORTRAIT = b"\x89PNG portrait"


def _corpus(sr: Strongroom) -> dict[str, Any]:
    """Two projects, three collections, the subject planted in emails, names, nested and
    array fields; other people everywhere beside them."""
    ws = sr.workspaces.create("Acme", "owner@acme.example").id
    hiring, sales = sr.projects.create(ws, "Hiring").id, sr.projects.create(ws, "Sales").id
    sr.records.declare_collection(
        ws, "candidates", ["candidate.email", "refs[].email"], file_fields=["cv", "photos"]
    )
    sr.records.declare_collection(ws, "contacts", ["email", "name", "phone"])
    sr.records.declare_collection(ws, "notes", ["author_email"])
    cv = sr.files.put(ws, hiring, "ada-cv.pdf", io.BytesIO(CV)).id
    photo = sr.files.put(ws, hiring, "ada.png", io.BytesIO(PORTRAIT)).id
    bob_cv = sr.files.put(ws, hiring, "bob-cv.pdf", io.BytesIO(b"BOB-CV")).id
    own = sr.records.put(
        ws,
        hiring,
        "candidates",
        {
            "candidate": {"email": "Ada@Example.com", "name": "Ada"},
            "refs": [{"email": "bob@example.com"}],
            "cv": cv,
            "photos": [photo, "fil_aaaaaaaaaaaaaaaaaaaaaaaaaa"],  # the second names no file
        },
    ).id
    referred = sr.records.put(
        ws,
        hiring,
        "candidates",
        {"candidate": {"email": "cy@example.com"}, "refs": [{"email": ADA}], "cv": bob_cv},
    ).id
    bob = sr.records.put(
        ws, hiring, "candidates", {"candidate": {"email": "bob@example.com"}, "cv": bob_cv}
    ).id
    contact = sr.records.put(ws, sales, "contacts", {"email": ADA, "name": "Ada L."}).id
    restricted = sr.records.put(ws, sales, "contacts", {"name": "Ada", "email": ADA}).id
    trashed = sr.records.put(ws, sales, "contacts", {"email": ADA, "note": "TRASHED-NOTE"}).id
    sr.records.put(ws, sales, "contacts", {"email": "eve@example.com", "note": "EVE-NOTE"})
    sr.records.put(ws, sales, "notes", {"author_email": "eve@example.com", "text": "x"})
    sr.records.delete(ws, sales, trashed)
    # Restricted by another request (her name, as written in one record only).
    hold = sr.privacy.create(ws, type="restriction", law="gdpr", identifiers=[("name", "ada")])
    assert sr.privacy.restrict(ws, hold.id) == 1
    return {
        "ws": ws,
        "hiring": hiring,
        "sales": sales,
        "own": own,
        "referred": referred,
        "bob": bob,
        "contact": contact,
        "restricted": restricted,
        "trashed": trashed,
        "cv": cv,
        "photo": photo,
        "bob_cv": bob_cv,
        "hold": hold.id,
    }


def _access(sr: Strongroom, ws: str, kind: str = "access") -> str:
    request = sr.privacy.create(ws, type=kind, law="gdpr", identifiers=[("email", ADA)])
    sr.privacy.verify(ws, request.id, method="replied from the address", by="support")
    return request.id


def _read(path: Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    with zipfile.ZipFile(path) as archive:
        entries = {n: archive.read(n) for n in archive.namelist()}
    return json.loads(entries.pop("manifest.json")), entries


def test_the_package_holds_exactly_the_subjects_records_and_files(
    sr: Strongroom, tmp_path: Path
) -> None:
    c = _corpus(sr)
    ws = c["ws"]
    request = _access(sr, ws)
    target = tmp_path / "ada.zip"

    summary = sr.privacy.export(ws, request, target)

    assert target.stat().st_mode & 0o777 == 0o600
    manifest, entries = _read(target)
    records = {
        json.loads(line)["id"]: json.loads(line)["document"]
        for name, data in entries.items()
        if name.endswith(".jsonl")
        for line in data.splitlines()
    }
    # every record that names Ada, in every project, restricted ones too; nothing else
    assert set(records) == {c["own"], c["referred"], c["contact"], c["restricted"]}
    assert records[c["own"]]["cv"] == c["cv"]
    assert set(entries) == {
        f"records/{c['hiring']}/candidates.jsonl",
        f"records/{c['hiring']}/candidates.csv",
        f"records/{c['sales']}/contacts.jsonl",
        f"records/{c['sales']}/contacts.csv",
        f"files/{c['hiring']}/{c['cv']}/ada-cv.pdf",
        f"files/{c['hiring']}/{c['photo']}/ada.png",
        # the file of a record that is Ada's only as a referee is in the same record
        f"files/{c['hiring']}/{c['bob_cv']}/bob-cv.pdf",
    }
    assert entries[f"files/{c['hiring']}/{c['cv']}/ada-cv.pdf"] == CV
    everything = b"".join(entries.values())
    assert b"EVE-NOTE" not in everything and b"TRASHED-NOTE" not in everything
    assert c["bob"].encode() not in everything
    assert manifest["format"] == "strongroom-subject-export"
    assert manifest["request"]["id"] == request and manifest["request"]["type"] == "access"
    assert manifest["counts"] == {
        "projects": 2,
        "collections": 2,
        "records": 4,
        "restricted_records": 1,
        "trashed_left_out": 1,
        "files": 3,
        "file_bytes": len(CV) + len(PORTRAIT) + len(b"BOB-CV"),
    }
    facts = manifest["facts"]
    assert [cat["collection"] for cat in facts["categories"]] == ["candidates", "contacts"]
    assert facts["categories"][0]["file_fields"] == ["cv", "photos"]
    assert {"path": "email", "kind": "email"} in facts["categories"][1]["personal_fields"]
    assert facts["retention"]["trash_days"] == sr.settings.trash_days
    assert facts["retention"]["backup_purge_window_days"] == sr.settings.backup_purge_window_days
    assert facts["recipients"] == [] and facts["source"]["workspace_id"] == ws
    csv = entries[f"records/{c['sales']}/contacts.csv"].decode()
    assert csv.startswith("$id,$created_at,$updated_at,") and csv.count("\r\n") == 3
    assert summary.counts["records"] == 4

    verified = verify_archive(target)
    assert verified.format == "strongroom-subject-export" and verified.workspace_id == ws
    assert sr.privacy.get(ws, request).state.value == "in_progress"


def test_restricted_records_stay_restricted_and_only_the_request_reads_them(
    sr: Strongroom, tmp_path: Path
) -> None:
    c = _corpus(sr)
    ws = c["ws"]
    request = _access(sr, ws, "portability")
    sr.privacy.export(ws, request, tmp_path / "ada.zip")
    _manifest, entries = _read(tmp_path / "ada.zip")
    assert c["restricted"].encode() in entries[f"records/{c['sales']}/contacts.jsonl"]
    assert c["restricted"] not in {r.id for r in sr.records.list(ws, c["sales"], None).items}


def test_an_unverified_request_is_refused_and_nothing_is_written(
    sr: Strongroom, tmp_path: Path
) -> None:
    c = _corpus(sr)
    ws = c["ws"]
    request = sr.privacy.create(ws, type="access", law="gdpr", identifiers=[("email", ADA)])
    out = tmp_path / "out"
    out.mkdir()
    before = len(sr.audit.events(ws))
    with pytest.raises(Conflict, match="verify"):
        sr.privacy.export(ws, request.id, out / "ada.zip")
    assert list(out.iterdir()) == []
    assert len(sr.audit.events(ws)) == before
    assert sr.privacy.get(ws, request.id).state.value == "received"
    deletion = sr.privacy.create(ws, type="deletion", law="gdpr", identifiers=[("email", ADA)])
    sr.privacy.verify(ws, deletion.id, method="letter", by="dpo")
    with pytest.raises(Conflict, match="cannot export"):
        sr.privacy.export(ws, deletion.id, out / "ada.zip")
    assert list(out.iterdir()) == []


def test_the_audit_counts_and_never_names_values(sr: Strongroom, tmp_path: Path) -> None:
    c = _corpus(sr)
    ws = c["ws"]
    request = _access(sr, ws)
    sr.privacy.export(ws, request, tmp_path / "ada.zip")
    event = sr.audit.events(ws)[-1]
    assert event.action == "privacy.export"
    text = json.dumps(event.as_tenant_json())
    assert "ada" not in text.lower() and "Ada" not in text
    assert event.subject["records"] == 4 and event.subject["files"] == 3
    assert event.subject["trashed_left_out"] == 1


def test_tampered_packages_are_refused_by_verify_and_import(sr: Strongroom, tmp_path: Path) -> None:
    c = _corpus(sr)
    ws = c["ws"]
    request = _access(sr, ws)
    good = tmp_path / "ada.zip"
    sr.privacy.export(ws, request, good)
    data = bytearray(good.read_bytes())
    at = data.index(b"%PDF-1.7 Ada's CV")  # stored, not deflated: the bytes are there
    data[at + 3] ^= 0x01
    bad = tmp_path / "bad.zip"
    bad.write_bytes(bytes(data))
    with pytest.raises(ExportInvalid):
        verify_archive(bad)
    other = sr.workspaces.create("Beta", "owner@beta.example").id
    target = sr.projects.create(other, "Imported").id
    with pytest.raises(MalformedDocument, match="nothing was imported"):
        sr.privacy.import_package(other, target, bad)
    assert sr.records.list(other, target, None).items == []
    assert sr.files.list(other, target) == []
    assert sr.records.collections(other) == []


def test_export_then_import_into_another_workspace_loses_nothing(
    sr: Strongroom, tmp_path: Path
) -> None:
    c = _corpus(sr)
    ws = c["ws"]
    request = _access(sr, ws, "portability")
    package = tmp_path / "ada.zip"
    sr.privacy.export(ws, request, package)
    _manifest, entries = _read(package)
    exported = {
        json.loads(line)["id"]: json.loads(line)
        for name, data in entries.items()
        if name.endswith(".jsonl")
        for line in data.splitlines()
    }

    other = sr.workspaces.create("Beta", "owner@beta.example").id
    target = sr.projects.create(other, "Imported").id
    done = sr.privacy.import_package(other, target, package)

    assert (done.records, done.files) == (4, 3)
    assert sorted(done.collections_declared) == ["candidates", "contacts"]
    declared = {col.name: col for col in sr.records.collections(other)}
    assert declared["candidates"].file_fields == ("cv", "photos")
    assert {f.declaration for f in declared["contacts"].personal} == {
        "email:email",
        "name:name",
        "phone:phone",
    }
    for old_id, line in exported.items():
        record = sr.records.get(other, target, done.record_ids[old_id])
        expected = json.loads(json.dumps(line["document"]))
        if "cv" in expected:
            expected["cv"] = done.file_ids[expected["cv"]]
        if "photos" in expected:
            expected["photos"] = [done.file_ids.get(p, p) for p in expected["photos"]]
        assert record.document == expected
        assert record.created_at.isoformat() == line["created_at"]
    new_cv = done.file_ids[c["cv"]]
    out = tmp_path / "cv.pdf"
    sr.files.get_to_path(other, target, new_cv, out)
    assert out.read_bytes() == CV
    assert sr.files.info(other, target, new_cv).name == "ada-cv.pdf"
    # indexed in the new workspace: a request there finds the same records
    there = sr.privacy.create(other, type="access", law="gdpr", identifiers=[("email", ADA)])
    assert {m.record_id for m in sr.privacy.locate(other, there.id)} == set(
        done.record_ids.values()
    )
    assert "privacy.import" in [e.action for e in sr.audit.events(other)]


def test_a_workspace_export_is_not_a_subject_package(sr: Strongroom, tmp_path: Path) -> None:
    c = _corpus(sr)
    sr.exports.write(c["ws"], tmp_path / "all.zip")
    other = sr.workspaces.create("Beta", "owner@beta.example").id
    target = sr.projects.create(other, "Imported").id
    with pytest.raises(InvalidInput, match="not a data subject's package"):
        sr.privacy.import_package(other, target, tmp_path / "all.zip")

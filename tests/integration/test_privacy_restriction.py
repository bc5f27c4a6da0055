"""Restriction (GDPR Art. 18) on SQLite and PostgreSQL: the subject's records leave every
read, list, find and workspace export until the restriction is lifted, and come back
unchanged after."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from strongroom.bootstrap import Strongroom
from strongroom.errors import Conflict, NotFound


def test_restricted_records_are_out_of_every_read_until_lifted(
    sr: Strongroom, tmp_path: Path
) -> None:
    ws = sr.workspaces.create("Acme", "owner@acme.example").id
    project = sr.projects.create(ws, "Hiring").id
    sr.records.declare_collection(ws, "contacts", ["email"])
    ada = sr.records.put(ws, project, "contacts", {"email": "ada@example.com", "note": "ADA-NOTE"})
    bob = sr.records.put(ws, project, "contacts", {"email": "bob@example.com"}).id
    request = sr.privacy.create(
        ws, type="restriction", law="gdpr", identifiers=[("email", "ada@example.com")]
    )

    assert sr.privacy.restrict(ws, request.id) == 1  # before verification: it only protects
    with pytest.raises(NotFound):
        sr.records.get(ws, project, ada.id)
    assert [r.id for r in sr.records.list(ws, project, None).items] == [bob]
    assert sr.records.find(ws, "email", "ada@example.com") == []
    with pytest.raises(NotFound):  # and not writable either: nothing changes it meanwhile
        sr.records.update(ws, project, ada.id, {"email": "x@example.com"})
    with pytest.raises(NotFound):
        sr.records.delete(ws, project, ada.id)
    sr.exports.write(ws, tmp_path / "export.zip")
    with zipfile.ZipFile(tmp_path / "export.zip") as archive:
        content = b"".join(archive.read(n) for n in archive.namelist())
    assert b"ADA-NOTE" not in content and bob.encode() in content
    [match] = sr.privacy.locate(ws, request.id)
    assert (match.record_id, match.restricted, match.trashed) == (ada.id, True, False)
    assert sr.privacy.restrict(ws, request.id) == 0  # already restricted

    assert sr.privacy.lift(ws, request.id) == 1
    assert sr.records.get(ws, project, ada.id).document == ada.document
    assert sr.records.find(ws, "email", "ada@example.com") == [ada.id]
    actions = [e.action for e in sr.audit.events(ws)]
    assert actions[-3:] == ["privacy.locate", "privacy.restrict", "privacy.lift"]


def test_only_a_restriction_request_restricts_and_two_must_both_lift(sr: Strongroom) -> None:
    ws = sr.workspaces.create("Acme", "owner@acme.example").id
    project = sr.projects.create(ws, "Hiring").id
    sr.records.declare_collection(ws, "contacts", ["email", "phone"])
    ada = sr.records.put(ws, project, "contacts", {"email": "ada@example.com", "phone": "+4420"})
    access = sr.privacy.create(ws, type="access", law="gdpr", identifiers=[("email", "a@x.org")])
    with pytest.raises(Conflict, match="cannot restrict"):
        sr.privacy.restrict(ws, access.id)
    by_email = sr.privacy.create(
        ws, type="restriction", law="gdpr", identifiers=[("email", "ada@example.com")]
    )
    by_phone = sr.privacy.create(
        ws, type="restriction", law="ccpa", identifiers=[("phone", "+4420")]
    )
    assert sr.privacy.restrict(ws, by_email.id) == 1
    assert sr.privacy.restrict(ws, by_phone.id) == 1  # the same record, for a second reason
    assert sr.privacy.lift(ws, by_email.id) == 1
    with pytest.raises(NotFound):  # the other request still restricts it
        sr.records.get(ws, project, ada.id)
    assert sr.privacy.lift(ws, by_phone.id) == 1
    assert sr.records.get(ws, project, ada.id).id == ada.id
    assert sr.privacy.lift(ws, by_phone.id) == 0
    assert sr.privacy.restrict(ws, by_phone.id) == 1  # restricted again after a lift
    with pytest.raises(NotFound):
        sr.records.get(ws, project, ada.id)

"""Reads that name what the user needs, over the real HTTPS API and through the services,
on SQLite and PostgreSQL: a trashed record's problem detail gives its trash entry and
restore deadline; a search by a field no collection declares is refused; a project's
records list across every collection."""

from __future__ import annotations

from pathlib import Path

import pytest

from strongroom.bootstrap import Strongroom
from strongroom.errors import InvalidInput
from tests.e2e.api_support import live_server


def test_a_trashed_record_is_404_naming_the_trash_and_its_deadline(
    tmp_path: Path, backend: dict[str, str]
) -> None:
    with live_server(tmp_path / "home", **backend) as live:
        sr = live.sr
        ws = sr.workspaces.create("Acme", "owner@acme.example")
        project = sr.projects.create(ws.id, "Hiring")
        record = sr.records.put(ws.id, project.id, "notes", {"text": "call back"}).id
        other = sr.records.put(ws.id, project.id, "notes", {"text": "keep"}).id
        token = sr.access.create_token(ws.id, "viewer").token
        entry = sr.records.delete(ws.id, project.id, record)
        with live.client(token) as client:
            base = f"/v1/workspaces/{ws.id}/projects/{project.id}/records"
            gone = client.get(f"{base}/{record}")
            assert client.get(f"{base}/{other}").status_code == 200
            missing = client.get(f"{base}/rec_aaaaaaaaaaaaaaaaaaaaaaaaaa")
        assert gone.status_code == 404
        body = gone.json()
        assert body["title"] == "in trash"
        assert "in the trash" in body["detail"] and entry.id in body["detail"]
        assert body["trash_entry_id"] == entry.id
        assert body["restore_until"] == entry.restore_until.isoformat(timespec="seconds")
        assert missing.status_code == 404 and "trash" not in missing.json()["detail"]

        sr.projects.delete(ws.id, project.id)
        with live.client(token) as client:
            hidden = client.get(f"{base}/{other}")
        assert hidden.status_code == 404 and f"project {project.id}" in hidden.json()["detail"]


def test_find_refuses_an_undeclared_field_and_list_spans_collections(sr: Strongroom) -> None:
    ws = sr.workspaces.create("Acme", "owner@acme.example")
    project = sr.projects.create(ws.id, "Hiring")
    sr.records.declare_collection(ws.id, "contacts", ["email"])
    ada = sr.records.put(ws.id, project.id, "contacts", {"email": "ada@example.com"}).id
    note = sr.records.put(ws.id, project.id, "notes", {"text": "call back"}).id
    assert sr.records.find(ws.id, "email", "ada@example.com") == [ada]
    assert sr.records.find(ws.id, "email", "bob@example.com") == []
    with pytest.raises(InvalidInput, match="'phone'"):
        sr.records.find(ws.id, "phone", "+1 555")

    page = sr.records.list(ws.id, project.id, None)
    assert sorted((r.id, r.collection) for r in page.items) == sorted(
        [(ada, "contacts"), (note, "notes")]
    )
    first = sr.records.list(ws.id, project.id, None, limit=1)
    second = sr.records.list(ws.id, project.id, None, first.next_cursor, limit=1)
    assert {first.items[0].id, second.items[0].id} == {ada, note}
    assert [r.id for r in sr.records.list(ws.id, project.id, "notes").items] == [note]

"""A record every reader can render, or no record: documents some reader cannot render
(nested too deep, integers a double cannot hold) are refused at write, by the API, the CLI
and the library alike, and nothing is stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from strongroom.bootstrap import Strongroom
from strongroom.domain.rules import MAX_DOCUMENT_DEPTH, MAX_DOCUMENT_INT
from strongroom.errors import InvalidInput
from tests.e2e.api_support import LiveServer, live_server
from tests.e2e.test_cli import audit_count, bad, ok_json


def nested(depth: int) -> dict[str, Any]:
    """A document ``depth`` levels of objects deep: ``{"a": {"a": ... 1}}``."""
    document: Any = 1
    for _ in range(depth):
        document = {"a": document}
    return document  # type: ignore[no-any-return]


def nested_text(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


#: Documents some reader could not render, as JSON text.
POISON = {
    "a few hundred levels deep": nested_text(300),
    "one level too deep": nested_text(MAX_DOCUMENT_DEPTH + 1),
    "arrays too deep": b'{"a":' + b"[" * MAX_DOCUMENT_DEPTH + b"]" * MAX_DOCUMENT_DEPTH + b"}",
    "an integer beyond 2**53": b'{"n":%d}' % (MAX_DOCUMENT_INT + 1),
    "a negative integer beyond 2**53": b'{"n":[%d]}' % -(MAX_DOCUMENT_INT + 1),
    "a lone surrogate": b'{"s":"\\ud800"}',
    "a lone surrogate in a key": b'{"\\udfff":1}',
    "NaN": b'{"x":NaN}',
    "Infinity": b'{"x":[Infinity]}',
}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("poison") / "home") as server:
        yield server


@pytest.fixture
def owner(live: LiveServer) -> Iterator[tuple[httpx.Client, str]]:
    ws = live.sr.workspaces.create("Acme", "owner@acme.example")
    project = live.sr.projects.create(ws.id, "Hiring")
    with live.client(live.sr.access.create_token(ws.id, "owner").token) as client:
        yield client, f"/v1/workspaces/{ws.id}/projects/{project.id}/records"


@pytest.mark.parametrize("text", POISON.values(), ids=POISON.keys())
def test_the_api_refuses_a_document_a_reader_cannot_render(
    owner: tuple[httpx.Client, str], text: bytes
) -> None:
    client, base = owner
    kept = client.post(base, json={"collection": "notes", "document": {"kept": True}})
    assert kept.status_code == 201
    body = b'{"collection":"notes","document":' + text + b"}"
    response = client.post(base, content=body, headers={"content-type": "application/json"})
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"] == "application/problem+json"
    # Nothing stored: the list still answers, with only the record that was kept.
    listed = client.get(base, params={"collection": "notes"})
    assert listed.status_code == 200
    assert [r["document"] for r in listed.json()["items"]] == [{"kept": True}]
    # An update is refused the same way, and leaves the document as it was.
    record = f"{base}/{kept.json()['id']}"
    update = b'{"document":' + text + b"}"
    response = client.put(record, content=update, headers={"content-type": "application/json"})
    assert response.status_code in (400, 422), response.text
    assert client.get(record).json()["document"] == {"kept": True}


def test_the_deepest_and_largest_accepted_documents_read_back_everywhere(
    owner: tuple[httpx.Client, str],
) -> None:
    client, base = owner
    deepest = nested(MAX_DOCUMENT_DEPTH)
    largest = {"n": MAX_DOCUMENT_INT, "m": -MAX_DOCUMENT_INT}
    for document in (deepest, largest):
        created = client.post(base, json={"collection": "notes", "document": document})
        assert created.status_code == 201, created.text
        assert client.get(f"{base}/{created.json()['id']}").json()["document"] == document
    listed = client.get(base, params={"collection": "notes"})
    assert listed.status_code == 200
    documents = [r["document"] for r in listed.json()["items"]]
    assert sorted(documents, key=json.dumps) == sorted([deepest, largest], key=json.dumps)


def test_the_library_raises_invalid_input_and_stores_nothing(sr: Strongroom) -> None:
    ws = sr.workspaces.create("Acme", "owner@acme.example")
    project = sr.projects.create(ws.id, "Hiring")
    kept = sr.records.put(ws.id, project.id, "notes", {"kept": True}).id
    cyclic: dict[str, Any] = {}
    cyclic["self"] = cyclic
    for document in (
        nested(300),
        nested(MAX_DOCUMENT_DEPTH + 1),
        {"n": 2**64},
        {"n": 10**5000},
        {"s": "\ud800"},
        {"x": float("nan")},
        cyclic,
    ):
        with pytest.raises(InvalidInput):
            sr.records.put(ws.id, project.id, "notes", document)
        with pytest.raises(InvalidInput):
            sr.records.put_many(ws.id, project.id, "notes", [{"ok": 1}, document])
        with pytest.raises(InvalidInput):
            sr.records.update(ws.id, project.id, kept, document)
    page = sr.records.list(ws.id, project.id, "notes")
    assert [r.document for r in page.items] == [{"kept": True}]


def test_the_cli_exits_2_and_stores_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ok_json("init", home=home)
    ws = ok_json("workspace", "create", "Acme", "--owner", "owner@acme.example", home=home)["id"]
    project = ok_json("project", "create", ws, "Hiring", home=home)["id"]
    events = audit_count(home)
    for text in (nested_text(300), b'{"n":%d}' % 2**60):
        message = bad("record", "put", ws, project, "notes", "-", home=home, stdin=text)
        assert "record" in message
    assert ok_json("record", "list", ws, project, "notes", home=home)["records"] == []
    assert audit_count(home) == events

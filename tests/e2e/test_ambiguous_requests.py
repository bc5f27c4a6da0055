"""Requests two readers could understand differently are refused, over real HTTPS:
repeated JSON keys (400, nothing changes), Content-Length with Transfer-Encoding (400 and
the connection closed), trailing-slash redirects to a client-chosen host (none), and
times out of range in a query (422, not 500)."""

from __future__ import annotations

import re
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from strongroom.bootstrap import Strongroom
from tests.e2e.api_support import LiveServer, live_server
from tests.e2e.test_cli import bad, ok_json

JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("ambiguous") / "home") as server:
        yield server


@pytest.fixture
def owner(live: LiveServer) -> Iterator[tuple[httpx.Client, str, str]]:
    ws = live.sr.workspaces.create("Acme", "owner@acme.example")
    project = live.sr.projects.create(ws.id, "Hiring")
    with live.client(live.sr.access.create_token(ws.id, "owner").token) as client:
        yield client, ws.id, project.id


def _audit_count(sr: Strongroom) -> int:
    return len(sr.audit.events(limit=100_000))


# repeated keys --------------------------------------------------------------------------
def test_a_token_body_with_two_roles_is_refused_and_issues_nothing(
    live: LiveServer, owner: tuple[httpx.Client, str, str]
) -> None:
    client, ws, _ = owner
    tokens = len(live.sr.access.tokens(ws))
    events = _audit_count(live.sr)
    body = b'{"role": "viewer", "expires_days": 1, "role": "owner"}'
    response = client.post(f"/v1/workspaces/{ws}/tokens", content=body, headers=JSON)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "'role' more than once" in response.json()["detail"]
    assert len(live.sr.access.tokens(ws)) == tokens
    assert _audit_count(live.sr) == events


@pytest.mark.parametrize(
    "document",
    [
        b'{"email": "a@example.com", "email": "b@example.com"}',
        b'{"person": {"name": "A", "tags": [{"k": 1, "k": 2}]}}',
    ],
    ids=["top level", "nested in an array"],
)
def test_a_record_with_a_repeated_key_is_refused_and_stores_nothing(
    owner: tuple[httpx.Client, str, str], document: bytes
) -> None:
    client, ws, project = owner
    base = f"/v1/workspaces/{ws}/projects/{project}/records"
    body = b'{"collection": "notes", "document": ' + document + b"}"
    response = client.post(base, content=body, headers=JSON)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    created = client.post(base, json={"collection": "notes", "document": {"v": 1}})
    record = f"{base}/{created.json()['id']}"
    response = client.put(record, content=b'{"document": ' + document + b"}", headers=JSON)
    assert response.status_code == 400, response.text
    assert client.get(record).json()["document"] == {"v": 1}
    listed = client.get(base, params={"collection": "notes"}).json()["items"]
    assert [r["document"] for r in listed] == [{"v": 1}]


def test_a_repeated_key_outside_the_body_schema_is_refused_too(
    owner: tuple[httpx.Client, str, str],
) -> None:
    """The same key twice at the top level of a body is 400, not one of FastAPI's 422s."""
    client, ws, _project = owner
    response = client.post(
        f"/v1/workspaces/{ws}/projects", content=b'{"name": "A", "name": "B"}', headers=JSON
    )
    assert response.status_code == 400
    assert [p["name"] for p in client.get(f"/v1/workspaces/{ws}/projects").json()["items"]] == [
        "Hiring"
    ]


def test_every_json_body_of_the_api_refuses_a_repeated_key(live: LiveServer) -> None:
    """Every operation the OpenAPI document gives a JSON body, sent a body with a key
    twice (no credentials: the body is read first), answers 400."""
    with live.client() as client:
        paths = client.get("/openapi.json").json()["paths"]
        operations = [
            (method, re.sub(r"\{[^}]+\}", "x", path))
            for path, item in paths.items()
            for method, operation in item.items()
            if "application/json" in operation.get("requestBody", {}).get("content", {})
        ]
        assert len(operations) >= 10
        for method, path in operations:
            response = client.request(
                method, path, content=b'{"a": {"b": 1, "b": 2}}', headers=JSON
            )
            assert response.status_code == 400, (method, path, response.text)


def test_the_cli_refuses_a_record_with_a_repeated_key(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ok_json("init", home=home)
    ws = ok_json("workspace", "create", "Acme", "--owner", "owner@acme.example", home=home)["id"]
    project = ok_json("project", "create", ws, "Hiring", home=home)["id"]
    message = bad("record", "put", ws, project, "notes", '{"a": 1, "a": 2}', home=home)
    assert "'a' more than once" in message
    assert ok_json("record", "list", ws, project, "notes", home=home)["records"] == []


# Content-Length with Transfer-Encoding ---------------------------------------------------
def _raw_exchange(live: LiveServer, request: bytes) -> tuple[bytes, bool]:
    """Send raw bytes over TLS; return what came back and whether the server closed the
    connection afterwards (it reads until the server closes or 30 s pass)."""
    url = urlsplit(live.url)
    context = ssl.create_default_context(cafile=live.ca)
    with (
        socket.create_connection((url.hostname, url.port), timeout=30) as raw,
        context.wrap_socket(raw, server_hostname=url.hostname) as tls,
    ):
        tls.sendall(request)
        received = b""
        try:
            while chunk := tls.recv(65536):
                received += chunk
        except TimeoutError:
            return received, False
        return received, True


def test_content_length_with_transfer_encoding_is_refused_and_the_connection_closed(
    live: LiveServer, owner: tuple[httpx.Client, str, str]
) -> None:
    _, ws, _project = owner
    token = live.sr.access.create_token(ws, "owner").token
    body = b'{"name": "Smuggled"}'
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    request = (
        f"POST /v1/workspaces/{ws}/projects HTTP/1.1\r\n"
        f"Host: {urlsplit(live.url).netloc}\r\n"
        f"Authorization: Bearer {token}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(chunked)}\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode() + chunked
    received, closed = _raw_exchange(live, request)
    assert received.startswith(b"HTTP/1.1 400 "), received[:200]
    assert b"\r\nconnection: close\r\n" in received.lower()
    assert closed
    names = [p.name for p in live.sr.projects.page(ws, None, 100).items]
    assert names == ["Hiring"]


def test_http_1_0_with_transfer_encoding_is_refused_and_the_connection_closed(
    live: LiveServer, owner: tuple[httpx.Client, str, str]
) -> None:
    """HTTP/1.0 has no chunked coding: a 1.0 proxy in front would frame this body another
    way (RFC 9112 section 6.1), so it is refused like CL with TE."""
    _, ws, _project = owner
    token = live.sr.access.create_token(ws, "owner").token
    body = b'{"name": "Smuggled"}'
    request = (
        f"POST /v1/workspaces/{ws}/projects HTTP/1.0\r\n"
        f"Host: {urlsplit(live.url).netloc}\r\n"
        f"Authorization: Bearer {token}\r\n"
        "Content-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode() + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    received, closed = _raw_exchange(live, request)
    assert received.startswith(b"HTTP/1.1 400 "), received[:200]
    assert closed
    names = [p.name for p in live.sr.projects.page(ws, None, 100).items]
    assert names == ["Hiring"]


# redirects --------------------------------------------------------------------------------
def test_a_trailing_slash_never_redirects_to_the_clients_host(
    owner: tuple[httpx.Client, str, str],
) -> None:
    client, ws, _ = owner
    for path in (f"/v1/workspaces/{ws}/projects/", "/v1/workspaces/"):
        response = client.get(path, headers={"host": "evil.example"}, follow_redirects=False)
        assert "evil.example" not in response.headers.get("location", "")
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"


# times out of range -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "until",
    ["99999-01-01", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "2026-13-01"],
)
def test_a_time_out_of_range_in_a_query_is_422(live: LiveServer, until: str) -> None:
    with live.client(live.sr.access.create_operator_token().token) as operator:
        response = operator.get("/v1/lifecycle/plan", params={"until": until})
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["loc"] == ["query", "until"]
        assert (
            operator.get("/v1/lifecycle/plan", params={"until": "9999-12-31T23:59:59Z"}).status_code
            == 200
        )

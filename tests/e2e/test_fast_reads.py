"""The fast path for one record by id answers exactly what the FastAPI route answers:
status, headers that matter, body; case by case (api/fast_reads.py)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from strongroom import init_home, open_strongroom
from strongroom.api.app import create_app
from strongroom.api.fast_reads import FastReads
from strongroom.api.limits import BodyLimit
from strongroom.api.security_headers import Message, Receive, Scope, Send
from strongroom.api.server import ServerThread
from strongroom.bootstrap import Strongroom
from strongroom.clock import FixedClock
from tests.e2e.api_support import LiveServer

HEADERS = ("content-type", "content-length", "www-authenticate", "allow")


@pytest.fixture
def sr(tmp_path: Path) -> Iterator[Strongroom]:
    init_home(tmp_path / "home")
    with open_strongroom(tmp_path / "home", clock=FixedClock()) as instance:
        yield instance


@contextmanager
def serving(sr: Strongroom, app: FastAPI) -> Iterator[httpx.Client]:
    """``app`` over real HTTPS; a client that trusts the home's CA."""
    tls = sr.settings.home / "tls"
    server = ServerThread(app, cert_path=tls / "server.pem", key_path=tls / "server-key.pem")
    with server as s, LiveServer(sr, s.url, tls / "ca.pem").client() as client:
        yield client


def _apps(sr: Strongroom) -> tuple[FastAPI, FastAPI]:
    fast = create_app(sr)
    plain = create_app(sr, fast_reads=False)
    assert [m.cls for m in fast.user_middleware] == [FastReads, BodyLimit]
    assert [m.cls for m in plain.user_middleware] == [BodyLimit]
    return fast, plain


def test_the_fast_path_answers_exactly_as_the_route(sr: Strongroom) -> None:
    ws = sr.workspaces.create("A", "owner@a.example")
    other = sr.workspaces.create("B", "owner@b.example")
    project = sr.projects.create(ws.id, "P")
    record = sr.records.put(ws.id, project.id, "notes", {"text": "héllo", "n": [1, 2.5]}).id
    trashed = sr.records.put(ws.id, project.id, "notes", {"text": "gone"}).id
    sr.records.delete(ws.id, project.id, trashed)
    viewer = sr.access.create_token(ws.id, "viewer").token
    theirs = sr.access.create_token(other.id, "owner").token
    revoked = sr.access.create_token(ws.id, "owner")
    sr.access.revoke(revoked.id)
    expired = sr.access.create_token(ws.id, "owner", 1).token
    operator = sr.access.create_operator_token().token
    base = f"/v1/workspaces/{ws.id}/projects/{project.id}/records"
    missing = "rec_" + "a" * 26
    cases: list[tuple[str, dict[str, str]]] = [
        (f"{base}/{record}", {"Authorization": f"Bearer {viewer}"}),
        (f"{base}/{record}?x=1", {"Authorization": f"bearer {viewer}"}),
        (f"{base}/{record}", {}),
        (f"{base}/{record}", {"Authorization": "Basic dXNlcjpwYXNz"}),
        (f"{base}/{record}", {"Authorization": "Bearer"}),
        (f"{base}/{record}", {"Authorization": "Bearer not-a-token"}),
        (f"{base}/{record}", {"Authorization": f"Bearer {revoked.token}"}),
        (f"{base}/{record}", {"Authorization": f"Bearer {theirs}"}),
        (f"{base}/{record}", {"Authorization": f"Bearer {operator}"}),
        (f"{base}/{trashed}", {"Authorization": f"Bearer {viewer}"}),
        (f"{base}/{missing}", {"Authorization": f"Bearer {viewer}"}),
        (f"{base}/rec_BAD", {"Authorization": f"Bearer {viewer}"}),  # FastAPI's 422
    ]
    fast_app, plain_app = _apps(sr)
    with serving(sr, fast_app) as fast, serving(sr, plain_app) as plain:
        seen = set()
        for path, headers in cases:
            a, b = fast.get(path, headers=headers), plain.get(path, headers=headers)
            assert (a.status_code, a.content) == (b.status_code, b.content), path
            for name in HEADERS:
                assert a.headers.get(name) == b.headers.get(name), (path, name)
            seen.add(a.status_code)
        sr.ctx.clock.advance(timedelta(days=2))  # type: ignore[attr-defined]
        path, headers = f"{base}/{record}", {"Authorization": f"Bearer {expired}"}
        a, b = fast.get(path, headers=headers), plain.get(path, headers=headers)
        assert (a.status_code, a.content) == (b.status_code, b.content) and a.status_code == 401
    assert seen == {200, 401, 403, 404, 422}


def test_other_methods_and_paths_go_to_fastapi(sr: Strongroom) -> None:
    ws = sr.workspaces.create("A", "owner@a.example")
    project = sr.projects.create(ws.id, "P")
    owner = sr.access.create_token(ws.id, "owner").token
    path = f"/v1/workspaces/{ws.id}/projects/{project.id}/records/rec_{'a' * 26}"
    with serving(sr, create_app(sr)) as client:
        answer = client.post(path, headers={"Authorization": f"Bearer {owner}"})
        assert answer.status_code == 405 and "GET" in answer.headers["allow"]
        slash = client.get(path + "/", headers={"Authorization": f"Bearer {owner}"})
        assert slash.status_code == 404  # FastAPI's (no slash redirects): not the fast path


def test_the_middleware_answers_a_record_read_itself_and_hands_on_the_rest(
    sr: Strongroom,
) -> None:
    ws = sr.workspaces.create("A", "owner@a.example")
    project = sr.projects.create(ws.id, "P")
    record = sr.records.put(ws.id, project.id, "notes", {"text": "hi"}).id
    owner = sr.access.create_token(ws.id, "owner").token
    handed_on: list[str] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        handed_on.append(f"{scope['method']} {scope['path']}")
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def call(method: str, path: str) -> list[Message]:
        sent: list[Message] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Message) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "method": method,
            "path": path,
            "headers": [(b"authorization", f"Bearer {owner}".encode())],
        }
        asyncio.run(FastReads(inner, sr)(scope, receive, send))
        return sent

    base = f"/v1/workspaces/{ws.id}/projects/{project.id}/records"
    answered = call("GET", f"{base}/{record}")
    assert answered[0]["status"] == 200 and json.loads(answered[1]["body"])["id"] == record
    assert handed_on == []
    for method, path in [("PUT", f"{base}/{record}"), ("GET", f"{base}/rec_BAD"), ("GET", base)]:
        assert call(method, path)[0]["status"] == 204
    assert handed_on == [f"PUT {base}/{record}", f"GET {base}/rec_BAD", f"GET {base}"]

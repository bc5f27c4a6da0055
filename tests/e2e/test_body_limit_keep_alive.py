"""Which answers keep the connection and which close it, over the real HTTPS server.

A request whose body was read whole (or that had none) leaves the connection open for the
next one: a client pays for one TLS handshake, not one per request. An answer given while
the body is still unread says ``Connection: close`` (the rest of the body would otherwise be
read as the next request), once, and keeps every header of its own."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator

import pytest

from tests.e2e.api_support import LiveServer, live_server
from tests.e2e.test_hostile_clients import (
    CLOSED_WITHIN,
    Tenant,
    _closed_within,
    _connect,
    _tenant,
    _tls,
)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("keep-alive") / "home") as server:
        yield server


@pytest.fixture(scope="module")
def tenant(live: LiveServer) -> Tenant:
    return _tenant(live.sr, "KeepAlive")


def _open(live: LiveServer) -> ssl.SSLSocket:
    return _tls(live).wrap_socket(_connect(live.url), server_hostname="localhost")


def _answer(sock: ssl.SSLSocket) -> tuple[int, list[tuple[str, str]], bytes]:
    """One whole answer: its status, its headers (names in lower case, in order, repeats
    kept) and its body (by Content-Length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        more = sock.recv(65536)
        assert more, f"the server closed the connection instead of answering: {data!r}"
        data += more
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = [(name.lower(), value) for name, value in (line.split(": ", 1) for line in lines[1:])]
    length = int(dict(headers)["content-length"])
    while len(body) < length:
        more = sock.recv(65536)
        assert more, "the server closed the connection within an answer"
        body += more
    assert len(body) == length
    return int(lines[0].split()[1]), headers, body


def _closes(headers: list[tuple[str, str]]) -> bool:
    return any(name == "connection" and value.lower() == "close" for name, value in headers)


def test_requests_read_whole_share_one_connection(live: LiveServer, tenant: Tenant) -> None:
    records = f"/v1/workspaces/{tenant.workspace_id}/projects/{tenant.project_id}/records"
    auth = f"Authorization: Bearer {tenant.token}\r\n"
    named = json.dumps({"collection": "kept", "document": {"kept": True}}).encode()
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(named), named)
    requests = [
        (b"GET /health HTTP/1.1\r\nHost: localhost\r\nUser-Agent: probe/1\r\n\r\n", 200),
        (  # some clients say so on every request
            b"GET /health HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n",
            200,
        ),
        (
            f"POST {records} HTTP/1.1\r\nHost: localhost\r\n{auth}"
            f"Content-Type: application/json\r\nContent-Length: {len(named)}\r\n\r\n".encode()
            + named,
            201,
        ),
        (
            f"POST {records} HTTP/1.1\r\nHost: localhost\r\n{auth}"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
            + chunked,
            201,
        ),
        (  # an empty body, said so: the route judges it
            f"POST {records} HTTP/1.1\r\nHost: localhost\r\n{auth}"
            "Content-Type: application/json\r\nContent-Length: 0\r\n\r\n".encode(),
            422,
        ),
        (
            f"GET {records}?collection=kept HTTP/1.1\r\nHost: localhost\r\n{auth}"
            "User-Agent: probe/1\r\nX-Request-Id: 1\r\n\r\n".encode(),
            200,
        ),
    ]
    with _open(live) as sock:
        for request, expected in requests:
            sock.sendall(request)
            status, headers, body = _answer(sock)
            assert status == expected, (request, body)
            assert not _closes(headers), request
    # the last answer lists the two records the bodies above wrote
    assert [r["document"] for r in json.loads(body)["items"]] == [{"kept": True}] * 2


@pytest.mark.parametrize(
    ("method", "token", "status", "own_header"),
    [
        ("POST", "not-a-token", 401, "www-authenticate"),  # an upload refused for its token
        ("PUT", None, 405, "allow"),  # no such method: the methods there are
    ],
)
def test_an_answer_before_the_body_closes_once_and_keeps_its_own_headers(
    live: LiveServer,
    tenant: Tenant,
    method: str,
    token: str | None,
    status: int,
    own_header: str,
) -> None:
    """Answered before any of the body's ten kilobytes was read."""
    path = f"/v1/workspaces/{tenant.workspace_id}/projects/{tenant.project_id}/files?name=a.bin"
    with _open(live) as sock:
        sock.sendall(
            f"{method} {path} HTTP/1.1\r\nHost: localhost\r\n"
            f"Authorization: Bearer {token or tenant.token}\r\n"
            "Content-Type: application/octet-stream\r\nContent-Length: 10000\r\n\r\n".encode()
        )
        answered, headers, body = _answer(sock)
        assert answered == status, body
        assert [value for name, value in headers if name == "connection"] == ["close"]
        named = dict(headers)
        assert named["content-type"] == "application/problem+json"
        assert named[own_header]
        assert json.loads(body)["status"] == status
        _closed_within(sock, CLOSED_WITHIN)

"""Connections held by hostile clients, over the real HTTPS server: request bodies that
stall (every route, not only uploads), more connections than a client may hold, and the
header deadline after an early answer."""

from __future__ import annotations

import json
import socket
import ssl
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest

from strongroom import init_home, open_strongroom
from strongroom.api.app import create_app
from strongroom.api.server import ServerThread
from tests.e2e.api_support import LiveServer, live_server
from tests.e2e.test_hostile_clients import (
    CLOSED_WITHIN,
    Probe,
    Tenant,
    _closed_within,
    _connect,
    _response_head,
    _stalled_upload,
    _tenant,
    _tls,
)

#: Generous for a loaded 2-core machine; without a body deadline no answer ever comes.
ANSWERED_WITHIN = 20.0


def _stalled_json(live: LiveServer, path: str, token: str | None = None) -> ssl.SSLSocket:
    """A JSON request that announces 100 bytes, sends a few, then nothing."""
    sock = _tls(live).wrap_socket(_connect(live.url), server_hostname="localhost")
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: localhost\r\n{auth}"
        "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    )
    sock.sendall(head.encode() + b'{"email": "a')
    return sock


# F1: a deadline on every request body ------------------------------------------------
def test_stalled_json_bodies_are_answered_408_while_health_answers(tmp_path: Path) -> None:
    stalled = 12
    with live_server(tmp_path / "home", body_timeout_seconds="2") as live, ExitStack() as stack:
        tenant = _tenant(live.sr, "Hostile")
        records = f"/v1/workspaces/{tenant.workspace_id}/projects/{tenant.project_id}/records"
        socks = [
            stack.enter_context(
                _stalled_json(live, "/v1/sessions")
                if i % 2
                else _stalled_json(live, records, tenant.token)
            )
            for i in range(stalled)
        ]
        with httpx.Client(base_url=live.url, verify=_tls(live), timeout=ANSWERED_WITHIN) as c:
            assert c.get("/health").status_code == 200
        for sock in socks:
            sock.settimeout(ANSWERED_WITHIN)
            status, headers, body = _response_head(sock)
            assert status == 408
            assert headers["content-type"] == "application/problem+json"
            assert headers["connection"] == "close"
            while len(body) < int(headers["content-length"]):
                body += sock.recv(4096)
            assert json.loads(body)["type"].endswith("request-timeout")
            _closed_within(sock, CLOSED_WITHIN)  # and the connection is gone
        with httpx.Client(base_url=live.url, verify=_tls(live), timeout=ANSWERED_WITHIN) as c:
            assert c.get("/health").status_code == 200


# F1: connections per client address --------------------------------------------------
@contextmanager
def _capped_server(
    home: Path, per_address: int, header_timeout: float = 120, **settings: str
) -> Iterator[LiveServer]:
    """``header_timeout`` long by default, so a close is the cap's, not the deadline's."""
    init_home(home, **settings)
    sr = open_strongroom(home)
    try:
        tls = home / "tls"
        with ServerThread(
            create_app(sr),
            cert_path=tls / "server.pem",
            key_path=tls / "server-key.pem",
            header_timeout=header_timeout,
            max_connections_per_address=per_address,
        ) as server:
            yield LiveServer(sr, server.url, tls / "ca.pem")
    finally:
        sr.close()


def _served(live: LiveServer, source: str = "127.0.0.1") -> ssl.SSLSocket:
    """A connection from ``source`` that has had one answer (so the server counts it)."""
    host, port = live.url.split("//")[1].rsplit(":", 1)
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.settimeout(30)
    raw.bind((source, 0))
    raw.connect((host, int(port)))
    sock = _tls(live).wrap_socket(raw, server_hostname="localhost")
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
    status, headers, body = _response_head(sock)
    assert status == 200
    while len(body) < int(headers["content-length"]):
        body += sock.recv(4096)
    return sock


def _closed_at_once(live: LiveServer, source: str = "127.0.0.1") -> None:
    """A connection from ``source`` is closed without an answer, well before any deadline."""
    host, port = live.url.split("//")[1].rsplit(":", 1)
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.settimeout(CLOSED_WITHIN)
    raw.bind((source, 0))
    raw.connect((host, int(port)))
    answer = b""
    try:
        with _tls(live).wrap_socket(raw, server_hostname="localhost") as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
            while more := sock.recv(4096):
                answer += more
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
        pass  # closed during the handshake or under the request
    except TimeoutError:
        pytest.fail(f"the server kept a connection over the cap open for {CLOSED_WITHIN} s")
    finally:
        raw.close()
    assert answer == b"", "a connection over the cap was answered"


def test_connections_over_the_per_address_cap_are_closed_at_once(tmp_path: Path) -> None:
    with _capped_server(tmp_path / "home", per_address=3) as live, ExitStack() as stack:
        held = [stack.enter_context(_served(live)) for _ in range(3)]
        _closed_at_once(live)
        # another address is still served
        with _served(live, "127.0.0.2"):
            pass
        with httpx.Client(
            base_url=live.url,
            verify=_tls(live),
            timeout=30,
            transport=httpx.HTTPTransport(verify=_tls(live), local_address="127.0.0.2"),
        ) as elsewhere:
            assert elsewhere.get("/health").status_code == 200
        # a connection given up frees its place
        held.pop().close()
        for _ in range(50):  # the server sees the close asynchronously
            try:
                stack.enter_context(_served(live))
                break
            except (ssl.SSLError, AssertionError, IndexError, OSError):
                continue
        else:
            pytest.fail("a closed connection's place was never given back")


def test_clients_that_never_finish_closing_free_their_places(tmp_path: Path) -> None:
    """Two connections answered 408 whose clients never acknowledge the close (nor read,
    nor hang up) free their places within about a header deadline (1 s here), not the
    30 s asyncio would wait for their TLS close."""
    home = tmp_path / "home"
    with (
        _capped_server(home, per_address=2, header_timeout=1, body_timeout_seconds="1") as live,
        ExitStack() as stack,
    ):
        for _ in range(2):
            sock = stack.enter_context(_stalled_json(live, "/v1/sessions"))
            sock.settimeout(ANSWERED_WITHIN)
            assert _response_head(sock)[0] == 408  # and the client goes quiet
        served_at = None
        started = time.monotonic()
        while time.monotonic() - started < ANSWERED_WITHIN:
            try:
                with _served(live):
                    served_at = time.monotonic() - started
                    break
            except (ssl.SSLError, AssertionError, IndexError, OSError):
                time.sleep(0.2)  # polling for the place, not waiting for luck
        assert served_at is not None, "the closed connections kept their places"


# F3: the header deadline after an early answer --------------------------------------
@pytest.fixture(scope="module")
def quick_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    home = tmp_path_factory.mktemp("quick") / "home"
    init_home(home)
    sr = open_strongroom(home)
    try:
        tls = home / "tls"
        with ServerThread(
            create_app(sr),
            cert_path=tls / "server.pem",
            key_path=tls / "server-key.pem",
            header_timeout=1,
            handshake_timeout=1,
        ) as server:
            yield LiveServer(sr, server.url, tls / "ca.pem")
    finally:
        sr.close()


def _early_answer(live: LiveServer, head: str) -> tuple[ssl.SSLSocket, int, dict[str, str]]:
    sock = _tls(live).wrap_socket(_connect(live.url), server_hostname="localhost")
    sock.sendall(head.encode())
    status, headers, body = _response_head(sock)
    while len(body) < int(headers["content-length"]):
        body += sock.recv(4096)
    return sock, status, headers


def test_after_a_413_a_trickled_next_request_is_cut_off(quick_server: LiveServer) -> None:
    head = (
        "POST /v1/sessions HTTP/1.1\r\nHost: localhost\r\n"
        "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
    )
    sock, status, headers = _early_answer(quick_server, head)
    with sock:
        assert status == 413
        assert headers["connection"] == "close"
        try:  # the rest of the body, then half a request head, a little at a time
            for piece in (b"x" * 100, b"GET /health HTTP/1.1\r\n", b"Ho"):
                sock.sendall(piece)
        except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
            return  # already closed
        _closed_within(sock, CLOSED_WITHIN)


def test_an_early_upload_refusal_closes_the_connection(quick_server: LiveServer) -> None:
    tenant = _tenant(quick_server.sr, "Early")
    path = f"/v1/workspaces/{tenant.workspace_id}/projects/{tenant.project_id}/files?name=a.bin"
    head = (
        f"POST {path} HTTP/1.1\r\n"
        "Host: localhost\r\nAuthorization: Bearer not-a-token\r\n"
        "Content-Type: application/octet-stream\r\nContent-Length: 1000000\r\n\r\n"
    )
    sock, status, headers = _early_answer(quick_server, head)
    with sock:
        assert status == 401
        assert headers["connection"] == "close"
        try:
            sock.sendall(b"y" * 1000)
        except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
            return
        _closed_within(sock, CLOSED_WITHIN)


# F2: the uploads' bound is per workspace, not per token -------------------------------
def test_minting_tokens_gains_no_more_uploads(tmp_path: Path) -> None:
    share = 3
    settings = {
        "uploads_per_workspace": str(share),
        "uploads_max": "16",
        "upload_idle_timeout_seconds": "600",
        "max_connections_per_address": "100",
    }
    with live_server(tmp_path / "home", **settings) as live, ExitStack() as stack:
        hostile, other = _tenant(live.sr, "Hostile"), _tenant(live.sr, "Other")
        tokens = [hostile.token] + [
            live.sr.access.create_token(hostile.workspace_id, "member").token for _ in range(7)
        ]
        probe = Probe(live.sr.files, "put")
        held = []
        for token in tokens[:share]:
            held.append(stack.enter_context(_stalled_upload(live, _as(hostile, token))))
            probe.wait_for(lambda p: p.active == len(held))
        for token in tokens[share:]:  # every other token of that workspace: 429 at once
            with _stalled_upload(live, _as(hostile, token)) as refused:
                refused.settimeout(ANSWERED_WITHIN)
                status, headers, _body = _response_head(refused)
                assert status == 429
                assert int(headers["retry-after"]) >= 1
        assert probe.active == share
        with live.client(other.token) as client:  # another workspace still uploads
            done = client.post(
                f"/v1/workspaces/{other.workspace_id}/projects/{other.project_id}/files",
                params={"name": "ok.bin"},
                content=b"z" * 1000,
                headers={"content-type": "application/octet-stream"},
            )
            assert done.status_code == 201, done.text


def _as(tenant: Tenant, token: str) -> Tenant:
    return Tenant(token, tenant.workspace_id, tenant.project_id)


def test_a_graceful_stop_does_not_wait_for_clients_that_never_finish_closing(
    tmp_path: Path,
) -> None:
    """A connection answered 408 whose client goes quiet (never acknowledging the close)
    delays a graceful stop by about a header deadline (1 s here), not asyncio's 30 s."""
    home = tmp_path / "home"
    init_home(home, body_timeout_seconds="1")
    sr = open_strongroom(home)
    try:
        tls = home / "tls"
        server = ServerThread(
            create_app(sr),
            cert_path=tls / "server.pem",
            key_path=tls / "server-key.pem",
            header_timeout=1,
        ).start()
        live = LiveServer(sr, server.url, tls / "ca.pem")
        with ExitStack() as stack:
            for _ in range(3):
                sock = stack.enter_context(_stalled_json(live, "/v1/sessions"))
                sock.settimeout(ANSWERED_WITHIN)
                assert _response_head(sock)[0] == 408  # and the client goes quiet
            server.stop(timeout=ANSWERED_WITHIN)  # raises if still waiting
    finally:
        sr.close()

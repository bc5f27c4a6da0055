"""Availability under hostile clients, over the real HTTPS server: stalled uploads, sign-in
floods, and connections that withhold their headers or their TLS handshake.

Where a test needs the server to be inside some work before it measures (an upload in
its thread, a password check running), it waits for a probe on the in-process service
(an event), never for a sleep."""

from __future__ import annotations

import os
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from strongroom import init_home, open_strongroom
from strongroom.api.app import create_app
from strongroom.api.server import ServerThread
from strongroom.bootstrap import Strongroom
from strongroom.storage import tables as t
from tests.e2e.api_support import LiveServer, live_server

#: Anyio's default thread pool, which every sync route shares.
SHARED_POOL_THREADS = 40
#: What "answers fast" means here: generous for a loaded 2-core machine, yet far below
#: what a starved pool costs (the requests below would wait until the test ends).
FAST = 5.0


# helpers ------------------------------------------------------------------------------
class Probe:
    """Counts calls into a method of the in-process service, and can hold them."""

    def __init__(self, target: Any, name: str, *, hold: bool = False) -> None:
        self.entered = 0
        self.active = 0
        self._changed = threading.Condition()
        self.release = threading.Event()
        if not hold:
            self.release.set()
        original: Callable[..., Any] = getattr(target, name)

        def probed(*args: Any, **kwargs: Any) -> Any:
            with self._changed:
                self.entered += 1
                self.active += 1
                self._changed.notify_all()
            try:
                self.release.wait(60)
                return original(*args, **kwargs)
            finally:
                with self._changed:
                    self.active -= 1
                    self._changed.notify_all()

        setattr(target, name, probed)

    def wait_for(self, test: Callable[[Probe], bool], timeout: float = 60) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: test(self), timeout), "the probe never saw it"


@dataclass
class Tenant:
    token: str
    workspace_id: str
    project_id: str


def _tenant(sr: Strongroom, name: str) -> Tenant:
    ws = sr.workspaces.create(name, f"{name.lower()}{os.urandom(4).hex()}@example.com")
    project = sr.projects.create(ws.id, "Hiring")
    return Tenant(sr.access.create_token(ws.id, "member").token, ws.id, project.id)


def _tls(live: LiveServer) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=live.ca)


def _connect(url: str) -> socket.socket:
    host, port = url.split("//")[1].rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=30)


def _stalled_upload(live: LiveServer, tenant: Tenant, sent: bytes = b"") -> ssl.SSLSocket:
    """An upload that announces a large body, sends ``sent`` of it, then nothing."""
    sock = _tls(live).wrap_socket(_connect(live.url), server_hostname="localhost")
    path = f"/v1/workspaces/{tenant.workspace_id}/projects/{tenant.project_id}/files?name=s.bin"
    head = (
        f"POST {path} HTTP/1.1\r\nHost: localhost\r\n"
        f"Authorization: Bearer {tenant.token}\r\n"
        "Content-Type: application/octet-stream\r\nContent-Length: 1000000\r\n\r\n"
    )
    sock.sendall(head.encode() + sent)
    return sock


def _response_head(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        more = sock.recv(65536)
        if not more:
            break
        data += more
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


def _timed(call: Callable[[], httpx.Response]) -> tuple[int, float]:
    started = time.monotonic()
    response = call()
    return response.status_code, time.monotonic() - started


def _file_rows(sr: Strongroom) -> int:
    with sr.ctx.store.read() as uow:
        return int(uow.conn.execute(select(func.count()).select_from(t.files)).scalar_one())


def _blob_files(sr: Strongroom) -> list[str]:
    return sorted(p.name for p in Path(sr.settings.blob_dir).rglob("*") if p.is_file())


# 1. stalled uploads -------------------------------------------------------------------
def test_stalled_uploads_do_not_freeze_other_tenants(tmp_path: Path) -> None:
    """More stalled uploads than the shared pool has threads: another tenant's reads and
    /health keep answering fast."""
    stalled_count = SHARED_POOL_THREADS + 5
    settings = {
        "uploads_max": "64",
        "uploads_per_workspace": "64",
        "upload_idle_timeout_seconds": "600",
    }
    with live_server(tmp_path / "home", **settings) as live, ExitStack() as stack:
        hostile, other = _tenant(live.sr, "Hostile"), _tenant(live.sr, "Other")
        probe = Probe(live.sr.files, "put")
        for _ in range(stalled_count):
            stack.enter_context(_stalled_upload(live, hostile))
        # every upload the server can take in is now waiting for its body
        probe.wait_for(lambda p: p.active >= SHARED_POOL_THREADS)
        reads = httpx.Client(base_url=live.url, verify=_tls(live), timeout=FAST)
        auth = {"Authorization": f"Bearer {other.token}"}
        with reads:
            for _ in range(5):
                listed = reads.get(f"/v1/workspaces/{other.workspace_id}/projects", headers=auth)
                assert listed.status_code == 200
                assert reads.get("/health").status_code == 200
        probe.wait_for(lambda p: p.active == stalled_count)  # all in, none refused


def test_a_stalled_upload_is_answered_408_and_leaves_nothing(
    tmp_path: Path, backend: dict[str, str]
) -> None:
    with live_server(tmp_path / "home", upload_idle_timeout_seconds="1", **backend) as live:
        tenant = _tenant(live.sr, "Slow")
        files_before, blobs_before = _file_rows(live.sr), _blob_files(live.sr)
        # more than one segment arrives (a partial blob is on disk), then nothing
        with _stalled_upload(live, tenant, sent=os.urandom(200_000)) as sock:
            started = time.monotonic()
            status, headers, _body = _response_head(sock)
            waited = time.monotonic() - started
        assert status == 408
        assert headers["content-type"] == "application/problem+json"
        assert headers["connection"] == "close"
        assert waited < 30  # the deadline is 1 s; without one the test would hang
        assert _file_rows(live.sr) == files_before
        assert _blob_files(live.sr) == blobs_before  # no blob, no .partial
        # and the upload's place is free again: a whole upload goes through
        with live.client(tenant.token) as client:
            done = client.post(
                f"/v1/workspaces/{tenant.workspace_id}/projects/{tenant.project_id}/files",
                params={"name": "ok.bin"},
                content=b"x" * 1000,
                headers={"content-type": "application/octet-stream"},
            )
            assert done.status_code == 201, done.text


def test_upload_bounds_per_workspace_429_and_overall_503(tmp_path: Path) -> None:
    settings = {
        "uploads_per_workspace": "2",
        "uploads_max": "3",
        "upload_idle_timeout_seconds": "600",
    }
    with live_server(tmp_path / "home", **settings) as live, ExitStack() as stack:
        first, second = _tenant(live.sr, "First"), _tenant(live.sr, "Second")
        probe = Probe(live.sr.files, "put")
        held = [stack.enter_context(_stalled_upload(live, first)) for _ in range(2)]
        probe.wait_for(lambda p: p.active == 2)

        def upload(tenant: Tenant) -> httpx.Response:
            with live.client(tenant.token) as client:
                client.timeout = httpx.Timeout(FAST)
                return client.post(
                    f"/v1/workspaces/{tenant.workspace_id}/projects/{tenant.project_id}/files",
                    params={"name": "n.bin"},
                    content=b"y" * 100,
                    headers={"content-type": "application/octet-stream"},
                )

        over_token = upload(first)
        assert over_token.status_code == 429, over_token.text
        assert int(over_token.headers["retry-after"]) >= 1
        stack.enter_context(_stalled_upload(live, second))
        probe.wait_for(lambda p: p.active == 3)
        over_all = upload(second)
        assert over_all.status_code == 503, over_all.text
        assert over_all.headers["content-type"] == "application/problem+json"
        assert int(over_all.headers["retry-after"]) >= 1
        assert probe.entered == 3  # the refused ones never reached the service
        for sock in held:  # two give up: their places free up
            sock.close()
        probe.wait_for(lambda p: p.active == 1)
        assert upload(first).status_code == 201


# 2. sign-in floods --------------------------------------------------------------------
def test_a_sign_in_flood_does_not_stall_other_tenants(tmp_path: Path) -> None:
    """~100 concurrent wrong sign-ins, with the password checks held running: another
    tenant's token reads answer fast; the flood is answered 401 or, past the sign-ins'
    line, 503 at once with Retry-After."""
    flood = 100
    settings = {"sign_in_failures_per_address": "10000", "max_connections_per_address": "1000"}
    with live_server(tmp_path / "home", **settings) as live:
        other = _tenant(live.sr, "Other")
        # argon2's hasher has slots: the probe holds the service's own password check
        checks = Probe(live.sr.access, "_verify", hold=True)
        pool = ThreadPoolExecutor(max_workers=flood)
        try:
            with httpx.Client(base_url=live.url, verify=_tls(live), timeout=120) as anonymous:

                def sign_in(i: int) -> httpx.Response:
                    body = {"email": f"guess{i}@example.com", "password": "wrong password"}
                    return anonymous.post("/v1/sessions", json=body)

                attempts = [pool.submit(sign_in, i) for i in range(flood)]
                checks.wait_for(lambda p: p.entered >= 2)  # both password checks running
                auth = {"Authorization": f"Bearer {other.token}"}
                with httpx.Client(base_url=live.url, verify=_tls(live), timeout=FAST) as reads:
                    for _ in range(5):
                        path = f"/v1/workspaces/{other.workspace_id}/projects"
                        status, took = _timed(lambda: reads.get(path, headers=auth))  # noqa: B023
                        assert status == 200 and took < FAST
                        assert reads.get("/health").status_code == 200
                checks.release.set()
                answers = [a.result() for a in attempts]
        finally:
            checks.release.set()
            pool.shutdown()
    statuses = {r.status_code for r in answers}
    assert statuses <= {401, 503}, statuses
    busy = [r for r in answers if r.status_code == 503]
    assert busy and all(int(r.headers["retry-after"]) >= 1 for r in busy)
    assert checks.entered <= flood - len(busy)


@contextmanager
def _second_server(home: Path) -> Iterator[LiveServer]:
    """Another server process's view of the same home (same data store)."""
    sr = open_strongroom(home)
    try:
        tls = home / "tls"
        with ServerThread(
            create_app(sr), cert_path=tls / "server.pem", key_path=tls / "server-key.pem"
        ) as server:
            yield LiveServer(sr, server.url, tls / "ca.pem")
    finally:
        sr.close()


def _from_address(live: LiveServer, address: str) -> httpx.Client:
    return httpx.Client(
        base_url=live.url,
        verify=_tls(live),
        timeout=30,
        transport=httpx.HTTPTransport(verify=_tls(live), local_address=address),
    )


def test_failed_sign_ins_are_limited_per_address_across_servers(
    tmp_path: Path, backend: dict[str, str]
) -> None:
    """N failures from one address, spread over distinct emails and two servers sharing
    the data store: the next sign-in from that address is 429, even for an email never
    tried and with the right password; another address is not affected."""
    allowed = 6
    home = tmp_path / "home"
    settings = {"sign_in_failures_per_address": str(allowed), **backend}
    email = f"ada{os.urandom(4).hex()}@example.com"
    with live_server(home, **settings) as first, _second_server(home) as second:
        first.sr.workspaces.create("Signed", email)
        first.sr.access.set_password(email, "correct horse battery")
        right = {"email": email, "password": "correct horse battery"}
        with first.client() as one, second.client() as two:
            for i in range(allowed):
                client = one if i % 2 else two
                wrong = {"email": f"spray{i}@example.com", "password": "wrong password"}
                assert client.post("/v1/sessions", json=wrong).status_code == 401
            for client in (one, two):
                limited = client.post("/v1/sessions", json=right)
                assert limited.status_code == 429, limited.text
                assert int(limited.headers["retry-after"]) > 0
                assert "address" in limited.json()["detail"]
        with _from_address(first, "127.0.0.2") as elsewhere:
            assert elsewhere.post("/v1/sessions", json=right).status_code == 201


def test_successful_sign_ins_do_not_use_up_the_address_limit(tmp_path: Path) -> None:
    """Colleagues behind one address signing in rightly are never locked out by it."""
    with live_server(tmp_path / "home", sign_in_failures_per_address="2") as live:
        email = f"bo{os.urandom(4).hex()}@example.com"
        live.sr.workspaces.create("Office", email)
        live.sr.access.set_password(email, "correct horse battery")
        with live.client() as client:
            body = {"email": email, "password": "correct horse battery"}
            for _ in range(4):
                assert client.post("/v1/sessions", json=body).status_code == 201


# 3. slow headers and stalled handshakes -------------------------------------------------
@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    home = tmp_path_factory.mktemp("strict") / "home"
    init_home(home)
    sr = open_strongroom(home)
    try:
        tls = home / "tls"
        with ServerThread(
            create_app(sr),
            cert_path=tls / "server.pem",
            key_path=tls / "server-key.pem",
            http_port=0,
            header_timeout=1,
            handshake_timeout=1,
        ) as server:
            server.ca = tls / "ca.pem"  # type: ignore[attr-defined]
            yield server
    finally:
        sr.close()


def _closed_within(sock: socket.socket, seconds: float) -> float:
    """Wait for the server to close ``sock``; how long it took (fails past ``seconds``)."""
    sock.settimeout(seconds)
    started = time.monotonic()
    try:
        while sock.recv(4096):
            pass
    except (ConnectionResetError, ssl.SSLError):
        pass
    except TimeoutError:
        pytest.fail(f"the server kept the connection open for {seconds} s")
    return time.monotonic() - started


#: The deadlines are 1 s; the bound is generous for a loaded machine and far below
#: asyncio's default handshake deadline (60 s) or none at all.
CLOSED_WITHIN = 15.0


def test_a_connection_that_sends_nothing_is_closed(strict_server: ServerThread) -> None:
    for url in (strict_server.url, strict_server.http_url):
        with _connect(url) as sock:
            _closed_within(sock, CLOSED_WITHIN)


def test_a_tls_handshake_that_stops_halfway_is_closed(strict_server: ServerThread) -> None:
    # a real ClientHello, cut short
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = ssl.create_default_context().wrap_bio(incoming, outgoing, server_hostname="localhost")
    with pytest.raises(ssl.SSLWantReadError):
        client.do_handshake()
    hello = outgoing.read()
    with _connect(strict_server.url) as sock:
        sock.sendall(hello[: len(hello) // 2])
        _closed_within(sock, CLOSED_WITHIN)


def test_half_the_headers_is_closed(strict_server: ServerThread) -> None:
    context = ssl.create_default_context(cafile=strict_server.ca)  # type: ignore[attr-defined]
    with context.wrap_socket(_connect(strict_server.url), server_hostname="localhost") as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\nAccept: */")
        _closed_within(sock, CLOSED_WITHIN)
    with _connect(strict_server.http_url) as plain:
        plain.sendall(b"GET / HTTP/1.1\r\nHost: loc")
        _closed_within(plain, CLOSED_WITHIN)


def test_half_the_headers_of_a_second_request_is_closed(strict_server: ServerThread) -> None:
    """The deadline holds again for each request on a kept-alive connection."""
    context = ssl.create_default_context(cafile=strict_server.ca)  # type: ignore[attr-defined]
    with context.wrap_socket(_connect(strict_server.url), server_hostname="localhost") as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        status, headers, body = _response_head(sock)
        assert status == 200
        while len(body) < int(headers["content-length"]):
            body += sock.recv(4096)
        sock.sendall(b"GET /health HTTP/1.1\r\nHo")
        _closed_within(sock, CLOSED_WITHIN)


def test_a_prompt_client_is_served(strict_server: ServerThread) -> None:
    context = ssl.create_default_context(cafile=strict_server.ca)  # type: ignore[attr-defined]
    with httpx.Client(base_url=strict_server.url, verify=context) as client:
        assert client.get("/health").status_code == 200

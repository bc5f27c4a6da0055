"""What the server's log says: one line for what a server on the internet expects (a
client hanging up mid-upload, a scanner's TLS handshake, a 4xx), one traceback for an
unexpected error."""

from __future__ import annotations

import json
import logging
import signal
import socket
import ssl
import subprocess
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e.api_support import live_server
from tests.e2e.test_cli import STRONGROOM
from tests.ports import free_port


def _wait_for(predicate: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _hang_up_mid_upload(url: str, ca: Path, path: str, token: str) -> None:
    """Announce 10 MB, send 256 KiB, close the connection."""
    parts = urlsplit(url)
    context = ssl.create_default_context(cafile=ca)
    with (
        socket.create_connection((parts.hostname, parts.port), timeout=30) as raw,
        context.wrap_socket(raw, server_hostname=parts.hostname) as tls,
    ):
        tls.sendall(
            (
                f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                f"Authorization: Bearer {token}\r\n"
                "Content-Type: application/octet-stream\r\nContent-Length: 10000000\r\n\r\n"
            ).encode()
            + b"x" * 256 * 1024
        )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[dict[str, Any], Path, list[str]]]:
    """`strongroom serve --demo` in a process, its stderr in a file; after the test's
    body, the process is stopped and the lines it logged are in the list."""
    log_path = tmp_path / "server.log"
    port = free_port()
    lines: list[str] = []
    command = [STRONGROOM, "serve", "--demo", "--json", "--no-worker"]
    with log_path.open("wb") as log_file:
        server = subprocess.Popen(
            [*command, "--home", str(tmp_path / "h"), "--port", str(port)],
            stdout=subprocess.PIPE,
            stderr=log_file,
        )
        try:
            assert server.stdout is not None
            yield json.loads(server.stdout.readline()), log_path, lines
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=60)
            assert server.stdout is not None
            server.stdout.close()
    lines.extend(log_path.read_text().splitlines())


def test_a_client_hanging_up_mid_upload_is_one_line_in_the_servers_log(
    served: tuple[dict[str, Any], Path, list[str]],
) -> None:
    started, log_path, _ = served
    ca, url, token = Path(started["ca"]), started["url"], started["token"]
    with httpx.Client(
        base_url=url,
        verify=ssl.create_default_context(cafile=ca),
        headers={"Authorization": f"Bearer {token}"},
    ) as client:
        ws = client.get("/v1/workspaces").json()["items"][0]["id"]
        project = client.get(f"/v1/workspaces/{ws}/projects").json()["items"][0]["id"]
        upload = f"/v1/workspaces/{ws}/projects/{project}/files?name=big.bin"
        for _ in range(3):
            _hang_up_mid_upload(url, ca, upload, token)
        _wait_for(
            lambda: log_path.read_text().count("client disconnected") == 3,
            "three disconnect lines",
        )
        # Expected conditions, logged as nothing worse than a line: a 404, a 422, a
        # scanner offering TLS 1.1, a client that distrusts the certificate.
        assert client.get("/v1/nowhere").status_code == 404
        assert client.get(f"/v1/workspaces/{ws}/projects?limit=0").status_code == 422
        old = ssl.create_default_context(cafile=ca)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            old.maximum_version = ssl.TLSVersion.TLSv1_1
        with pytest.raises((ssl.SSLError, httpx.ConnectError, httpx.RemoteProtocolError)):
            httpx.get(f"{url}/health", verify=old)
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{url}/health")  # the system's CAs do not know the local CA
        assert client.get("/health").status_code == 200  # the server is still serving
    log = log_path.read_text()
    lines = [json.loads(line) for line in log.splitlines()]  # JSON lines: log_format's default
    disconnects = [line for line in lines if "client disconnected" in line["message"]]
    assert len(disconnects) == 3
    path = f"POST /v1/workspaces/{ws}/projects/{project}/files"
    assert all(path in d["message"] for d in disconnects)
    assert all(d["level"] == "info" for d in disconnects)
    # Each on the line of its request: the id the request's own line names.
    requests = {r["request_id"]: r for r in lines if r["logger"] == "strongroom.request"}
    uploads = "/v1/workspaces/{workspace_id}/projects/{project_id}/files"
    assert all(requests[d["request_id"]]["route"] == uploads for d in disconnects)
    assert "Traceback" not in log
    assert all(line["level"] in ("info", "warning") for line in lines)


def test_an_unexpected_error_is_one_traceback_naming_the_request(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> object:
        raise RuntimeError("a bug")

    with live_server(tmp_path / "home") as live:
        ws = live.sr.workspaces.create("Acme", "owner@acme.example")
        monkeypatch.setattr(live.sr.projects, "page", broken)
        with (
            caplog.at_level(logging.INFO),
            live.client(live.sr.access.create_token(ws.id, "owner").token) as client,
        ):
            response = client.get(f"/v1/workspaces/{ws.id}/projects")
            assert response.status_code == 500
            assert response.json()["detail"] == "an unexpected error; it has been logged"
    # The server has stopped: everything it logged about the request is in.
    tracebacks = [r for r in caplog.records if r.exc_info is not None]
    assert len(tracebacks) == 1, [r.getMessage() for r in tracebacks]
    assert tracebacks[0].levelno == logging.ERROR
    assert f"GET /v1/workspaces/{ws.id}/projects" in tracebacks[0].getMessage()

"""The built-in HTTPS server (P3, P4) against real clients: httpx, Python's ssl forced to
old protocol versions, and sslyze's Mozilla "intermediate" check; certificate reload
without a restart (in a thread and, with SIGHUP, in a process); the HTTP redirect."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from strongroom.api.security_headers import (
    CONTENT_SECURITY_POLICY,
    STRICT_TRANSPORT_SECURITY,
    SecurityHeaders,
    https_redirect_app,
)
from strongroom.api.server import ServerFailed, ServerThread
from strongroom.clock import FixedClock
from strongroom.errors import ConfigurationError
from strongroom.tls.certificates import issue_server_certificate, make_local_ca
from strongroom.tls.context import CertificateReloader, server_context

SECURITY_HEADERS = {
    "strict-transport-security": STRICT_TRANSPORT_SECURITY,
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}


def hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse(f"hello {request.url.path}")


def cacheable(request: Request) -> PlainTextResponse:
    return PlainTextResponse(
        "public",
        headers={
            "Cache-Control": "max-age=60",
            "X-Frame-Options": "SAMEORIGIN",
            "Strict-Transport-Security": "max-age=0",
        },
    )


APP = Starlette(routes=[Route("/hello", hello), Route("/cacheable", cacheable)])


def make_tls(folder: Path) -> Path:
    now = datetime.now(UTC)
    make_local_ca(folder, now)
    issue_server_certificate(folder, now=now)
    return folder


def ca_context(folder: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(folder / "ca.pem"))


def served_serial(port: int, folder: Path) -> int:
    """The serial of the certificate a new connection is shown."""
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        ca_context(folder).wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der).serial_number


def file_serial(path: Path) -> int:
    return x509.load_pem_x509_certificate(path.read_bytes()).serial_number


def https_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "strongroom-https"]


@pytest.fixture(autouse=True)
def no_leaked_server_threads() -> Iterator[None]:
    before = set(https_threads())
    yield
    assert set(https_threads()) <= before, "a server thread outlived its test"


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tls(tmp_path_factory.mktemp("tls") / "tls")


@pytest.fixture(scope="module")
def server(tls: Path) -> Iterator[ServerThread]:
    with ServerThread(
        APP, cert_path=tls / "server.pem", key_path=tls / "server-key.pem", http_port=0
    ) as running:
        yield running


def test_https_works_and_every_response_carries_the_security_headers(
    server: ServerThread, tls: Path
) -> None:
    with httpx.Client(verify=ca_context(tls)) as client:
        response = client.get(server.url + "/hello")
        missing = client.get(server.url + "/nothing-here")
    assert response.status_code == 200
    assert response.text == "hello /hello"
    assert response.http_version == "HTTP/1.1"
    assert "server" not in response.headers
    for r in (response, missing):
        for name, value in SECURITY_HEADERS.items():
            assert r.headers.get_list(name) == [value], name
    assert missing.status_code == 404


def test_the_app_may_allow_caching_but_not_weaken_the_enforced_headers(
    server: ServerThread, tls: Path
) -> None:
    with httpx.Client(verify=ca_context(tls)) as client:
        response = client.get(server.url + "/cacheable")
    assert response.headers.get_list("cache-control") == ["max-age=60"]
    assert response.headers.get_list("x-frame-options") == ["DENY"]
    assert response.headers.get_list("strict-transport-security") == [STRICT_TRANSPORT_SECURITY]


def test_an_untrusted_client_refuses_the_certificate(server: ServerThread) -> None:
    with httpx.Client() as client, pytest.raises(httpx.ConnectError):  # system CAs only
        client.get(server.url + "/hello")


def handshake(port: int, folder: Path, version: ssl.TLSVersion) -> str | None:
    context = ca_context(folder)
    with warnings.catch_warnings():  # TLS 1.0 and 1.1 are deprecated in Python itself
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = version
        context.maximum_version = version
    if version < ssl.TLSVersion.TLSv1_2:
        context.set_ciphers("DEFAULT:@SECLEVEL=0")  # let this client offer old versions
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        return tls.version()


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1])
def test_tls_before_1_2_is_refused_by_the_server(
    server: ServerThread, tls: Path, version: ssl.TLSVersion
) -> None:
    with pytest.raises(ssl.SSLError) as refused:
        handshake(server.port, tls, version)
    # The server refused (asyncio closes the connection, sometimes after a protocol_version
    # alert); this client did not refuse to try, which would fail before sending anything.
    message = str(refused.value).upper()
    assert isinstance(refused.value, ssl.SSLEOFError) or "PROTOCOL_VERSION" in message
    assert "NO_PROTOCOLS_AVAILABLE" not in message


@pytest.mark.parametrize(
    ("version", "name"),
    [(ssl.TLSVersion.TLSv1_2, "TLSv1.2"), (ssl.TLSVersion.TLSv1_3, "TLSv1.3")],
)
def test_tls_1_2_and_1_3_are_accepted(
    server: ServerThread, tls: Path, version: ssl.TLSVersion, name: str
) -> None:
    assert handshake(server.port, tls, version) == name


# sslyze loads its bundled trust stores with cryptography, which warns about one of their
# certificates (a non-positive serial); the test runs with warnings as errors.
@pytest.mark.filterwarnings(
    "ignore:Parsed a serial number:cryptography.utils.CryptographyDeprecationWarning"
)
def test_sslyze_finds_the_server_compliant_with_mozilla_intermediate(
    server: ServerThread, tls: Path
) -> None:
    from sslyze import (
        CertificateInfoExtraArgument,
        ScanCommand,
        ScanCommandAttemptStatusEnum,
        ScanCommandsExtraArguments,
        Scanner,
        ServerNetworkLocation,
        ServerScanRequest,
        ServerScanStatusEnum,
    )
    from sslyze.mozilla_tls_profile.tls_config_checker import (
        SCAN_COMMANDS_NEEDED_BY_MOZILLA_CHECKER,
        MozillaTlsConfiguration,
        ServerNotCompliantWithTlsConfiguration,
        TlsConfigurationEnum,
        check_server_against_tls_configuration,
    )

    request = ServerScanRequest(
        server_location=ServerNetworkLocation("localhost", server.port, "127.0.0.1"),
        scan_commands=SCAN_COMMANDS_NEEDED_BY_MOZILLA_CHECKER | {ScanCommand.HTTP_HEADERS},
        scan_commands_extra_arguments=ScanCommandsExtraArguments(
            certificate_info=CertificateInfoExtraArgument(custom_ca_file=tls / "ca.pem")
        ),
    )
    scanner = Scanner(per_server_concurrent_connections_limit=4)
    scanner.queue_scans([request])
    [result] = list(scanner.get_results())
    assert result.scan_status == ServerScanStatusEnum.COMPLETED
    scan: Any = result.scan_result
    for command in (*SCAN_COMMANDS_NEEDED_BY_MOZILLA_CHECKER, ScanCommand.HTTP_HEADERS):
        attempt = getattr(scan, command.value)
        assert attempt.status == ScanCommandAttemptStatusEnum.COMPLETED, (
            command,
            attempt.error_reason,
            attempt.error_trace and "".join(attempt.error_trace.format()),
        )

    def accepted(field: str) -> list[str]:
        suites = getattr(scan, field).result.accepted_cipher_suites
        return [s.cipher_suite.name for s in suites]

    for old in ("ssl_2_0", "ssl_3_0", "tls_1_0", "tls_1_1"):
        assert not getattr(scan, f"{old}_cipher_suites").result.is_tls_version_supported, old
        assert accepted(f"{old}_cipher_suites") == []
    assert scan.tls_1_2_cipher_suites.result.is_tls_version_supported
    assert scan.tls_1_3_cipher_suites.result.is_tls_version_supported
    assert all("GCM" in s or "CHACHA20" in s for s in accepted("tls_1_2_cipher_suites"))
    assert all(s.startswith("TLS_ECDHE_") for s in accepted("tls_1_2_cipher_suites"))
    assert [c.name for c in scan.elliptic_curves.result.supported_curves] == ["secp256r1"]

    deployment = scan.certificate_info.result.certificate_deployments[0]
    assert deployment.verified_certificate_chain is not None  # validated against ca.pem
    assert deployment.received_chain_contains_anchor_certificate is False  # leaf only

    hsts = scan.http_headers.result.strict_transport_security_header
    assert hsts is not None
    assert hsts.max_age == 63072000
    assert hsts.include_subdomains

    try:
        check_server_against_tls_configuration(
            result, MozillaTlsConfiguration.get(TlsConfigurationEnum.MOZILLA_INTERMEDIATE)
        )
    except ServerNotCompliantWithTlsConfiguration as e:
        pytest.fail(f"not Mozilla intermediate: {e.issues}")


def test_the_http_listener_only_redirects_to_https(server: ServerThread) -> None:
    with httpx.Client() as client:
        get = client.get(server.http_url + "/hello/w%C3%B6rld?x=1&y=a%20b")
        post = client.post(server.http_url + "/records", content=b"{}")
    for response, path in ((get, "/hello/w%C3%B6rld?x=1&y=a%20b"), (post, "/records")):
        assert response.status_code == 308
        assert response.headers["location"] == f"https://127.0.0.1:{server.port}{path}"
        assert response.content == b""


def raw_http(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    "host",
    [b"evil.example/x", b"evil.example@good", b"a b", b"[::1", b"host:port", b""],
)
def test_the_redirect_refuses_a_host_header_it_cannot_trust(
    server: ServerThread, host: bytes
) -> None:
    answer = raw_http(server.http_port, b"GET /x HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert b"location" not in answer.lower()


async def call_redirect(
    headers: list[tuple[bytes, bytes]], raw_path: bytes, query: bytes = b""
) -> tuple[int, dict[bytes, bytes]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": raw_path.decode("latin-1"),
        "raw_path": raw_path,
        "query_string": query,
        "headers": headers,
    }
    await https_redirect_app(8443)(scope, receive, send)
    return sent[0]["status"], dict(sent[0]["headers"])


@pytest.mark.parametrize(
    ("host", "raw_path", "query", "location"),
    [
        (b"example.com", b"/a/b", b"", b"https://example.com:8443/a/b"),
        (b"Example.com:80", b"/a", b"q=1", b"https://Example.com:8443/a?q=1"),
        (b"[::1]:80", b"/", b"", b"https://[::1]:8443/"),
        (b"127.0.0.1", b"//evil.example/x", b"", b"https://127.0.0.1:8443//evil.example/x"),
        (b"example.com", b"http://evil.example/x", b"", b"https://example.com:8443/"),
        (b"example.com", b"/a\r\nSet-Cookie:x", b"a=<b>\r\n", None),
    ],
)
def test_redirect_locations_keep_the_host_and_encode_the_rest(
    host: bytes, raw_path: bytes, query: bytes, location: bytes | None
) -> None:
    import asyncio

    status, headers = asyncio.run(call_redirect([(b"host", host)], raw_path, query))
    assert status == 308
    if location is not None:
        assert headers[b"location"] == location
    else:
        assert headers[b"location"] == (
            b"https://example.com:8443/a%0D%0ASet-Cookie:x?a=%3Cb%3E%0D%0A"
        )


def test_two_host_headers_are_refused() -> None:
    import asyncio

    status, _ = asyncio.run(call_redirect([(b"host", b"a.example"), (b"host", b"b.example")], b"/"))
    assert status == 400


def test_security_headers_leave_other_scopes_alone() -> None:
    import asyncio

    seen: list[str] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])
        await send({"type": "lifespan.startup.complete"})

    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> Any:
        return {}

    asyncio.run(SecurityHeaders(inner)({"type": "lifespan"}, receive, send))
    assert seen == ["lifespan"]
    assert sent == [{"type": "lifespan.startup.complete"}]


def test_a_replaced_certificate_is_served_without_a_restart(tmp_path: Path) -> None:
    tls = make_tls(tmp_path / "tls")
    cert, key = tls / "server.pem", tls / "server-key.pem"
    with ServerThread(APP, cert_path=cert, key_path=key) as running:
        first = served_serial(running.port, tls)
        assert first == file_serial(cert)
        with httpx.Client(verify=ca_context(tls)) as client:
            assert client.get(running.url + "/hello").status_code == 200  # keep-alive open
            assert running.reload_certificate() is False  # nothing changed

            issue_server_certificate(tls, now=datetime.now(UTC))
            assert running.reload_certificate() is True
            second = served_serial(running.port, tls)
            assert second == file_serial(cert) != first
            # The connection opened before the reload still works.
            assert client.get(running.url + "/hello").status_code == 200

        # A broken pair is refused; the server keeps the certificate it has.
        good_cert = cert.read_bytes()
        cert.write_text("-----BEGIN CERTIFICATE-----\nnot really\n-----END CERTIFICATE-----\n")
        assert running.reload_certificate() is False
        assert served_serial(running.port, tls) == second
        # A certificate whose key is not the key file's: refused too.
        issue_server_certificate(tls, now=datetime.now(UTC))
        cert.write_bytes(good_cert)
        assert running.reload_certificate() is False
        assert served_serial(running.port, tls) == second


def test_the_periodic_check_reloads_on_its_own(tmp_path: Path) -> None:
    tls = make_tls(tmp_path / "tls")
    cert = tls / "server.pem"
    with ServerThread(
        APP, cert_path=cert, key_path=tls / "server-key.pem", reload_interval=0.2
    ) as running:
        first = served_serial(running.port, tls)
        issue_server_certificate(tls, now=datetime.now(UTC))
        deadline = time.monotonic() + 10
        while (serial := served_serial(running.port, tls)) == first:
            assert time.monotonic() < deadline, "the new certificate was never served"
            time.sleep(0.1)
        assert serial == file_serial(cert)


def test_the_reloader_keeps_the_old_pair_and_warns_of_expiry(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "tls"
    now = datetime(2026, 11, 27, tzinfo=UTC)
    make_local_ca(folder, now)
    issue_server_certificate(folder, now=now, days=40)
    cert, key = folder / "server.pem", folder / "server-key.pem"
    clock = FixedClock(now)
    caplog.set_level(logging.INFO, logger="strongroom.tls")

    reloader = CertificateReloader(server_context(cert, key), cert, key, clock=clock)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]

    clock.advance(timedelta(days=11))  # 29 days left
    assert reloader.check() is False
    warnings_logged = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings_logged) == 1
    assert "29 days" in warnings_logged[0] and str(cert) in warnings_logged[0]
    reloader.check()
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1  # once a day

    key.unlink()
    assert reloader.check() is False  # unreadable: logged, old pair kept
    assert any("cannot be read" in r.getMessage() for r in caplog.records)

    issue_server_certificate(folder, now=clock.now(), days=90)
    caplog.clear()
    assert reloader.check() is True
    assert any("reloaded" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


CHILD = textwrap.dedent(
    """
    import logging, sys
    from pathlib import Path
    from starlette.applications import Starlette
    from strongroom.api.server import run_server

    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(name)s %(message)s")
    folder = Path(sys.argv[1])
    run_server(
        Starlette(),
        host="127.0.0.1",
        port=0,
        cert_path=folder / "server.pem",
        key_path=folder / "server-key.pem",
        http_port=0,
        on_started=lambda: print("READY", flush=True),
    )
    print("RETURNED", flush=True)
    """
)


def read_until(proc: subprocess.Popen[str], marker: str) -> list[str]:
    assert proc.stdout is not None
    lines = []
    while line := proc.stdout.readline():
        lines.append(line)
        if marker in line:
            return lines
    pytest.fail(f"{marker!r} never came; output: {''.join(lines)}")


@pytest.mark.parametrize(("stop", "returncode"), [(signal.SIGINT, 0), (signal.SIGTERM, -15)])
def test_run_server_reloads_on_sighup_and_stops_on_a_signal(
    tmp_path: Path, stop: signal.Signals, returncode: int
) -> None:
    tls = make_tls(tmp_path / "tls")
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    with subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tls)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    ) as proc:
        watchdog = threading.Timer(30, proc.kill)
        watchdog.start()
        try:
            started = "".join(read_until(proc, "READY"))
            port = int(re.findall(r"serving https://127\.0\.0\.1:(\d+)", started)[0])
            first = served_serial(port, tls)

            issue_server_certificate(tls, now=datetime.now(UTC))
            proc.send_signal(signal.SIGHUP)
            read_until(proc, "TLS certificate reloaded")
            assert served_serial(port, tls) == file_serial(tls / "server.pem") != first

            proc.send_signal(stop)
            assert proc.wait(timeout=20) == returncode
            assert proc.stdout is not None
            rest = proc.stdout.read()
        finally:
            watchdog.cancel()
            watchdog.join()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert "Shutting down" in rest
    assert "Traceback" not in started + rest
    if stop == signal.SIGINT:
        assert "RETURNED" in rest


def test_startup_failures_are_reported_and_leave_nothing_running(
    tmp_path: Path, server: ServerThread, tls: Path
) -> None:
    @contextlib.asynccontextmanager
    async def broken_lifespan(app: Starlette) -> AsyncIterator[None]:
        raise RuntimeError("the database is down")
        yield  # pragma: no cover

    cert, key = tls / "server.pem", tls / "server-key.pem"
    broken = ServerThread(Starlette(lifespan=broken_lifespan), cert_path=cert, key_path=key)
    with pytest.raises(RuntimeError, match="did not start") as failed:
        broken.start()
    assert isinstance(failed.value.__cause__, ServerFailed)

    taken = ServerThread(APP, cert_path=cert, key_path=key, port=server.port)
    with pytest.raises(RuntimeError, match="did not start") as failed:
        taken.start()
    assert isinstance(failed.value.__cause__, ConfigurationError)
    assert "cannot listen" in str(failed.value.__cause__)

    with pytest.raises(ConfigurationError, match="cannot be read"):
        ServerThread(APP, cert_path=tmp_path / "missing.pem", key_path=key)
    with pytest.raises(ConfigurationError, match="cannot be used together"):
        ServerThread(APP, cert_path=tls / "ca.pem", key_path=key)

"""The TLS and certificate promises probe whatever answers at ``public_url``: here a tiny
TLS server of the test's own, which allows TLS 1.1 or sends no HSTS, fails them; so does
an address nobody answers at, and a certificate closer to its end than the setting allows."""

from __future__ import annotations

import socket
import ssl
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from strongroom import init_home, open_strongroom
from strongroom.domain.promises import Verdict
from strongroom.promises import tls_probe
from strongroom.promises.transport import check_certificate
from tests.e2e.trust_support import free_port

ONE_YEAR = 365 * 24 * 3600


@contextmanager
def tiny_tls_server(
    home: Path,
    *,
    allow_tls11: bool,
    hsts: str | None,
    oldest: ssl.TLSVersion = ssl.TLSVersion.TLSv1_1,
) -> Iterator[str]:
    """An HTTPS server on a free port, with the home's certificate, answering every
    request with an empty 200 (and ``Strict-Transport-Security: hsts`` if given). With
    ``allow_tls11`` it accepts versions down to ``oldest``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(home / "tls" / "server.pem", home / "tls" / "server-key.pem")
    if allow_tls11:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = oldest
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    header = f"Strict-Transport-Security: {hsts}\r\n" if hsts else ""
    answer = f"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n{header}Connection: close\r\n\r\n"
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                raw, _ = listener.accept()
            except TimeoutError:
                continue
            try:
                with context.wrap_socket(raw, server_side=True) as tls:
                    tls.settimeout(2)
                    request = b""
                    while b"\r\n\r\n" not in request:
                        chunk = tls.recv(4096)
                        if not chunk:
                            break
                        request += chunk
                    if request:
                        tls.sendall(answer.encode())
            except (ssl.SSLError, OSError):
                pass  # a handshake the probe made only to see it refused, or accepted

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{port}"
    finally:
        stop.set()
        thread.join(5)
        listener.close()


@pytest.fixture
def made(tmp_path: Path) -> Path:
    """A home whose certificate the tiny servers present (public_url set per test)."""
    home = tmp_path / "made"
    init_home(home)
    return home


def verdicts(tmp_path: Path, made: Path, public_url: str, **settings: str) -> dict[str, Verdict]:
    """Every promise check of a home served (by the tiny server) at ``public_url``."""
    home = tmp_path / f"home-{len(list(tmp_path.iterdir()))}"
    init_home(home, public_url=public_url, **settings)
    (home / "tls").mkdir(exist_ok=True)
    for name in ("ca.pem", "server.pem", "server-key.pem"):
        (home / "tls" / name).write_bytes((made / "tls" / name).read_bytes())
    with open_strongroom(home) as sr:
        run = sr.promises.check_all()
    return {p.id: v for p, v in run.results}


def test_a_server_that_accepts_tls_1_1_fails_the_tls_promise(tmp_path: Path, made: Path) -> None:
    with tiny_tls_server(made, allow_tls11=True, hsts=f"max-age={ONE_YEAR}") as url:
        found = verdicts(tmp_path, made, url)
    assert not found["tls"].holds
    assert "accepted a TLS 1.1 handshake" in found["tls"].evidence
    assert found["certificate"].holds, found["certificate"].evidence


def test_a_server_that_accepts_tls_1_0_fails_the_tls_promise(tmp_path: Path, made: Path) -> None:
    with tiny_tls_server(
        made, allow_tls11=True, hsts=f"max-age={ONE_YEAR}", oldest=ssl.TLSVersion.TLSv1
    ) as url:
        found = verdicts(tmp_path, made, url)
    assert not found["tls"].holds
    assert "accepted a TLS 1.0 handshake" in found["tls"].evidence


def test_a_machine_that_cannot_offer_tls_1_1_proves_nothing(
    tmp_path: Path, made: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An OpenSSL built without TLS 1.1 fails every TLS 1.1 handshake before sending a
    byte: that is not the server refusing, and the promise must not hold on it."""
    offers = tls_probe.can_offer
    monkeypatch.setattr(
        tls_probe,
        "can_offer",
        lambda version: version != ssl.TLSVersion.TLSv1_1 and offers(version),
    )
    with tiny_tls_server(made, allow_tls11=False, hsts=f"max-age={ONE_YEAR}") as url:
        found = verdicts(tmp_path, made, url)
    assert not found["tls"].holds
    assert "cannot offer TLS 1.1" in found["tls"].evidence


def test_this_machine_can_offer_the_versions_the_probe_needs() -> None:
    """The probe's premise here: a hello for each old version is written (else the tests
    above would pass for the wrong reason), and for TLS 1.2."""
    for version in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1_2):
        assert tls_probe.can_offer(version), version


def test_a_server_without_hsts_fails_the_tls_promise(tmp_path: Path, made: Path) -> None:
    with tiny_tls_server(made, allow_tls11=False, hsts=None) as url:
        found = verdicts(tmp_path, made, url)
    assert not found["tls"].holds
    assert "without a Strict-Transport-Security header" in found["tls"].evidence


def test_a_short_hsts_fails_and_a_year_holds(tmp_path: Path, made: Path) -> None:
    with tiny_tls_server(made, allow_tls11=False, hsts="max-age=86400") as url:
        short = verdicts(tmp_path, made, url)
    with tiny_tls_server(made, allow_tls11=False, hsts=f"max-age={ONE_YEAR}; preload") as url:
        year = verdicts(tmp_path, made, url)
    assert not short["tls"].holds and "max-age=86400, under one year" in short["tls"].evidence
    assert year["tls"].holds, year["tls"].evidence
    assert "refused TLS 1.0 (" in year["tls"].evidence
    assert "TLS 1.1 (" in year["tls"].evidence


def test_nobody_answering_fails_tls_and_certificate(tmp_path: Path, made: Path) -> None:
    found = verdicts(tmp_path, made, f"https://127.0.0.1:{free_port()}")
    for promise in ("tls", "certificate"):
        assert not found[promise].holds
        assert "could not be probed" in found[promise].evidence


def test_a_certificate_near_its_end_fails(tmp_path: Path, made: Path) -> None:
    """`init` issues a certificate for 365 days: asking for 365 more fails at once."""
    with tiny_tls_server(made, allow_tls11=False, hsts=f"max-age={ONE_YEAR}") as url:
        found = verdicts(tmp_path, made, url, certificate_min_days="365")
    assert not found["certificate"].holds
    assert "in less than 365 days" in found["certificate"].evidence


def test_a_certificate_from_another_ca_fails(tmp_path: Path, made: Path) -> None:
    other = tmp_path / "other"
    init_home(other)  # its own CA: made's certificate does not verify against it
    with tiny_tls_server(made, allow_tls11=False, hsts=f"max-age={ONE_YEAR}") as url:
        home = tmp_path / "home-other-ca"
        init_home(home, public_url=url)
        with open_strongroom(home) as sr:  # trusts its own CA, not made's
            found = {p.id: v for p, v in sr.promises.check_all().results}
    assert not found["certificate"].holds
    assert "does not verify" in found["certificate"].evidence


def test_in_production_the_local_ca_is_not_trusted(tmp_path: Path, made: Path) -> None:
    """No browser trusts the CA `init` made: a production deployment presenting a
    certificate from it fails, while a development home's check accepts it and says why."""
    with tiny_tls_server(made, allow_tls11=False, hsts=f"max-age={ONE_YEAR}") as url:
        home = tmp_path / "home-prod"
        init_home(home, public_url=url)
        for name in ("ca.pem", "server.pem", "server-key.pem"):
            (home / "tls" / name).write_bytes((made / "tls" / name).read_bytes())
        with open_strongroom(home) as sr:
            now = sr.ctx.clock.now()
            development = check_certificate(SimpleNamespace(settings=sr.settings, now=now))  # type: ignore[arg-type]
            production = replace(sr.settings, environment="production")
            refused = check_certificate(SimpleNamespace(settings=production, now=now))  # type: ignore[arg-type]
    assert development.holds and "development CA" in development.evidence
    assert not refused.holds and "does not verify" in refused.evidence

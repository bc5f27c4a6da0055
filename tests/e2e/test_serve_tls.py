"""`strongroom serve` itself, as a real process, on a home configured with its own
`tls_cert` and `tls_key` (an operator's files, not the home's local CA): replacing the
files gets the new certificate served without a restart, and SIGHUP reloads them at once.

The tests look only at what a client sees (the certificate a new TLS connection is shown)
and at the process's exit, never at the server's internals."""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from cryptography import x509

from strongroom import init_home
from strongroom.tls.certificates import issue_server_certificate, make_local_ca
from tests.ports import free_port

STRONGROOM = str(Path(sys.executable).parent / "strongroom")
PADDED = 4096  # every PEM file here is padded to this size (text after PEM blocks is ignored)


def _padded(pem: bytes) -> bytes:
    assert len(pem) < PADDED
    return pem + b"\n" * (PADDED - len(pem))


def _new_pair(issuer: Path) -> tuple[bytes, bytes, int]:
    """A new certificate and key from the operator's CA: PEM bytes, padded, and the serial."""
    issue_server_certificate(issuer, now=datetime.now(UTC))
    cert = (issuer / "server.pem").read_bytes()
    serial = x509.load_pem_x509_certificate(cert).serial_number
    return _padded(cert), _padded((issuer / "server-key.pem").read_bytes()), serial


def _served_serial(port: int, ca: Path) -> int:
    context = ssl.create_default_context(cafile=str(ca))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der).serial_number


def _wait_for_serial(port: int, ca: Path, serial: int, within: float) -> None:
    """Event-driven with a generous bound: poll new connections until ``serial`` is shown."""
    deadline = time.monotonic() + within
    while (shown := _served_serial(port, ca)) != serial:
        assert time.monotonic() < deadline, f"still serving {shown:x}, not {serial:x}"
        time.sleep(0.1)


@contextmanager
def serving(
    tmp_path: Path, workers: int = 1
) -> Iterator[tuple[subprocess.Popen[bytes], int, Path, Path]]:
    """`strongroom serve` on a home whose tls_cert and tls_key are the operator's own
    files; yields the process, its port, the operator's CA folder and the files' folder."""
    issuer = tmp_path / "operator-ca"
    make_local_ca(issuer, datetime.now(UTC))
    etc = tmp_path / "etc"
    etc.mkdir()
    cert, key, _serial = _new_pair(issuer)
    (etc / "fullchain.pem").write_bytes(cert)
    (etc / "privkey.pem").write_bytes(key)
    (etc / "privkey.pem").chmod(0o600)
    home = tmp_path / "home"
    init_home(home, tls_cert=str(etc / "fullchain.pem"), tls_key=str(etc / "privkey.pem"))
    port = free_port()
    proc = subprocess.Popen(
        [STRONGROOM, "serve", "--home", str(home), "--port", str(port), "--no-worker", "--json"]
        + (["--workers", str(workers)] if workers > 1 else []),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )
    watchdog = threading.Timer(120, proc.kill)  # a hung server fails the test, never CI
    watchdog.start()
    try:
        assert proc.stdout is not None
        started = json.loads(proc.stdout.readline() or b'{"url": "(exited)"}')
        assert started["url"] == f"https://127.0.0.1:{port}", proc.stderr
        yield proc, port, issuer, etc
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        watchdog.cancel()
        watchdog.join()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def test_serve_uses_the_configured_certificate_and_serves_a_replaced_one(
    tmp_path: Path,
) -> None:
    with serving(tmp_path) as (_proc, port, issuer, etc):
        ca = issuer / "ca.pem"
        configured = x509.load_pem_x509_certificate((etc / "fullchain.pem").read_bytes())
        assert _served_serial(port, ca) == configured.serial_number
        with httpx.Client(verify=ssl.create_default_context(cafile=str(ca))) as client:
            assert client.get(f"https://127.0.0.1:{port}/health").status_code == 200

        cert, key, serial = _new_pair(issuer)  # as certbot renews: new files, renamed in
        for name, data in (("privkey.pem", key), ("fullchain.pem", cert)):
            (etc / f".{name}.new").write_bytes(data)
            os.replace(etc / f".{name}.new", etc / name)
        _wait_for_serial(port, ca, serial, within=60)  # checked every few seconds
        with httpx.Client(verify=ssl.create_default_context(cafile=str(ca))) as client:
            assert client.get(f"https://127.0.0.1:{port}/health").status_code == 200


def test_sighup_reloads_the_configured_files_at_once(tmp_path: Path) -> None:
    with serving(tmp_path) as (proc, port, issuer, etc):
        ca = issuer / "ca.pem"
        before = {p: os.stat(p) for p in (etc / "fullchain.pem", etc / "privkey.pem")}
        first = _served_serial(port, ca)
        cert, key, serial = _new_pair(issuer)
        # Rewritten in place with the same size and modification time: nothing a periodic
        # look at the files could notice, so only the SIGHUP can make the new pair served.
        for path, data in ((etc / "privkey.pem", key), (etc / "fullchain.pem", cert)):
            with path.open("r+b") as out:
                out.write(data)
            os.utime(path, ns=(before[path].st_atime_ns, before[path].st_mtime_ns))
        for path, old in before.items():
            now = os.stat(path)
            assert (now.st_ino, now.st_size, now.st_mtime_ns) == (
                old.st_ino,
                old.st_size,
                old.st_mtime_ns,
            )
        assert _served_serial(port, ca) == first
        proc.send_signal(signal.SIGHUP)
        _wait_for_serial(port, ca, serial, within=30)
        assert proc.poll() is None  # reloaded, not restarted or stopped


def test_sighup_to_the_supervisor_reloads_every_api_process(tmp_path: Path) -> None:
    """`serve --workers 2`: the supervisor passes SIGHUP on; every new connection, whichever
    API process the kernel hands it to, is then shown the new certificate."""
    with serving(tmp_path, workers=2) as (proc, port, issuer, etc):
        ca = issuer / "ca.pem"
        before = {p: os.stat(p) for p in (etc / "fullchain.pem", etc / "privkey.pem")}
        cert, key, serial = _new_pair(issuer)
        for path, data in ((etc / "privkey.pem", key), (etc / "fullchain.pem", cert)):
            with path.open("r+b") as out:  # unnoticeable but for the SIGHUP, as above
                out.write(data)
            os.utime(path, ns=(before[path].st_atime_ns, before[path].st_mtime_ns))
        proc.send_signal(signal.SIGHUP)
        _wait_for_serial(port, ca, serial, within=30)
        # 20 new connections from 20 client ports, hashed over the two processes' sockets.
        assert {_served_serial(port, ca) for _ in range(20)} == {serial}
        assert proc.poll() is None


@pytest.mark.parametrize("broken", ["not a certificate", "another key"])
def test_sighup_with_broken_files_keeps_serving_the_old_certificate(
    tmp_path: Path, broken: str
) -> None:
    with serving(tmp_path) as (proc, port, issuer, etc):
        ca = issuer / "ca.pem"
        first = _served_serial(port, ca)
        if broken == "not a certificate":
            (etc / "fullchain.pem").write_bytes(_padded(b"-----BEGIN CERTIFICATE-----\nx\n"))
        else:
            _cert, key, _serial = _new_pair(issuer)
            (etc / "privkey.pem").write_bytes(key)
        proc.send_signal(signal.SIGHUP)
        # The server answers a request after handling the signal (signals are handled
        # in its event loop, between requests); the old certificate is still shown.
        with httpx.Client(verify=ssl.create_default_context(cafile=str(ca))) as client:
            health = client.get(f"https://127.0.0.1:{port}/health")
        assert health.status_code == 200, health.text  # the node is up, on its old pair
        assert str(etc) not in health.text  # an anonymous endpoint: never the path
        if broken == "not a certificate":
            assert health.json()["status"] == "warning"
            assert "fullchain.pem cannot be read" in health.json()["warnings"][0]
        assert _served_serial(port, ca) == first
        assert proc.poll() is None

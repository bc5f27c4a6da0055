"""A TLS client that probes the live server as a browser would meet it: can it be reached
at ``public_url``; does it refuse TLS 1.0 and 1.1 handshakes and accept TLS 1.2; what HSTS
header does a response carry; which certificate does it present, valid until when, and
does it verify (against the system's CAs, and in development also the home's local CA,
HOME/tls/ca.pem). A refusal counts only when this machine could offer the old version at
all (:func:`can_offer`): an OpenSSL built or configured without it fails every such
handshake before a byte is sent, which proves nothing about the server."""

from __future__ import annotations

import re
import socket
import ssl
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509

TIMEOUT = 5.0
MAX_HEADERS = 64 * 1024
_MAX_AGE = re.compile(rb"max-age\s*=\s*\"?(\d{1,12})", re.IGNORECASE)


class Unreachable(Exception):
    """Nothing answered at the address (refused, timed out, no such host)."""


@dataclass(frozen=True)
class Handshake:
    accepted: bool
    detail: str  # the protocol agreed, or why the handshake failed


@dataclass(frozen=True)
class Certificate:
    not_after: datetime
    verified: bool
    problem: str  # why it does not verify ("" when it does)


def _address(public_url: str) -> tuple[str, int]:
    parts = urlsplit(public_url)
    return parts.hostname or "localhost", parts.port or 443


def _connect(host: str, port: int) -> socket.socket:
    try:
        return socket.create_connection((host, port), timeout=TIMEOUT)
    except OSError as e:
        raise Unreachable(f"{host}:{port} did not answer ({type(e).__name__})") from None


def _only(version: ssl.TLSVersion) -> ssl.SSLContext:
    """A client offering nothing but ``version`` and checking no certificate (the protocol
    test; the certificate is checked on its own). Old versions need OpenSSL's security
    level 0 to be offered at all."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():  # TLS 1.1 is deprecated: offering it is the test
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = version
        context.maximum_version = version
    if version < ssl.TLSVersion.TLSv1_2:
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    return context


def can_offer(version: ssl.TLSVersion) -> bool:
    """Whether this machine's OpenSSL writes a ClientHello offering only ``version``: a
    handshake in memory, no network."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    try:
        tls = _only(version).wrap_bio(incoming, outgoing, server_hostname="probe.invalid")
        tls.do_handshake()
    except ssl.SSLWantReadError:
        return outgoing.pending > 0  # the hello is written; it waits for an answer
    except (ssl.SSLError, ValueError):
        return False  # no protocols available: the version is off in this build or policy
    return False


def handshake(public_url: str, version: ssl.TLSVersion) -> Handshake:
    host, port = _address(public_url)
    raw = _connect(host, port)
    try:
        with _only(version).wrap_socket(raw, server_hostname=host) as tls:
            return Handshake(True, str(tls.version()))
    except (ssl.SSLError, ConnectionError, TimeoutError, OSError) as e:
        return Handshake(False, type(e).__name__)
    finally:
        raw.close()


def hsts_max_age(public_url: str) -> int | None:
    """The max-age of the Strict-Transport-Security header of the response to ``GET /health``
    over TLS 1.2 (None: no such header)."""
    host, port = _address(public_url)
    with (
        _connect(host, port) as raw,
        _only(ssl.TLSVersion.TLSv1_2).wrap_socket(raw, server_hostname=host) as tls,
    ):
        tls.sendall(f"GET /health HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head and len(head) < MAX_HEADERS:
            chunk = tls.recv(4096)
            if not chunk:
                break
            head += chunk
    for line in head.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"strict-transport-security":
            found = _MAX_AGE.search(value)
            return int(found.group(1)) if found else 0
    return None


def certificate(public_url: str, local_ca: Path | None) -> Certificate:
    """The certificate presented, and whether it verifies for the host now: against the
    system's CAs, and ``local_ca`` too if given (development homes only)."""
    host, port = _address(public_url)
    context = ssl.create_default_context()
    if local_ca is not None and local_ca.is_file():
        context.load_verify_locations(cafile=str(local_ca))
    problem = ""
    try:
        with _connect(host, port) as raw, context.wrap_socket(raw, server_hostname=host) as tls:
            der = tls.getpeercert(binary_form=True)
    except ssl.SSLCertVerificationError as e:
        problem = str(e.verify_message or e.reason or "does not verify")
        with (
            _connect(host, port) as raw,
            _only(ssl.TLSVersion.TLSv1_2).wrap_socket(raw, server_hostname=host) as tls,
        ):
            der = tls.getpeercert(binary_form=True)
    if der is None:
        raise Unreachable(f"{host}:{port} presented no certificate")
    cert = x509.load_der_x509_certificate(der)
    return Certificate(cert.not_valid_after_utc, not problem, problem)

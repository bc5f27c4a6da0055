"""A local certificate authority and the server certificates it issues (promise P4).

``make_local_ca`` writes ``ca.pem`` (give it to clients to trust) and ``ca-key.pem``;
``issue_server_certificate`` writes ``server.pem`` and ``server-key.pem`` for the HTTPS
server. Keys are EC P-256 in PKCS#8 PEM, mode 0600, in a folder of mode 0700. Every file
is written to a temporary file in the same folder, fsynced, then renamed over the old one,
so a reader (the running server's reloader) never sees half a file.

The leaf carries what strict verifiers (browsers, cryptography's x509 verification,
sslyze) require: SANs, SKI, an AKI naming the CA's key, KeyUsage and EKU serverAuth. Its
lifespan is capped at 366 days, the most Mozilla's "intermediate" profile accepts.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from strongroom.errors import ConfigurationError, Conflict, InvalidInput

CA_CERT = "ca.pem"
CA_KEY = "ca-key.pem"
SERVER_CERT = "server.pem"
SERVER_KEY = "server-key.pem"

DEFAULT_HOSTS: tuple[str, ...] = ("localhost", "127.0.0.1")
CA_DAYS = 3650
#: Default lifespan of a server certificate.
SERVER_DAYS = 365
#: Mozilla's "intermediate" profile (sslyze's check) rejects a leaf living longer.
MAX_SERVER_DAYS = 366
#: Certificates start this long before ``now``, for clients whose clocks are a little behind.
BACKDATE = timedelta(minutes=5)

_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def make_local_ca(folder: Path, now: datetime) -> None:
    """Create a local CA in ``folder``: ``ca.pem`` and ``ca-key.pem`` (0600).

    Refuses a folder that already holds a CA key: replacing it would silently invalidate
    every certificate and every client's trust in the old CA.
    """
    now = _utc(now)
    _private_folder(folder)
    if (folder / CA_KEY).exists():
        raise Conflict(f"{folder} already holds a CA key ({CA_KEY}); it is kept as it is")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Strongroom"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"Strongroom local CA {now:%Y-%m-%d}"),
        ]
    )
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    _write_atomically(folder / CA_KEY, _key_pem(key), 0o600)
    _write_atomically(folder / CA_CERT, certificate.public_bytes(serialization.Encoding.PEM), 0o644)


def issue_server_certificate(
    folder: Path,
    hosts: Sequence[str] = DEFAULT_HOSTS,
    *,
    now: datetime,
    days: int = SERVER_DAYS,
) -> None:
    """Issue a server certificate for ``hosts`` (DNS names and IP addresses) from the CA in
    ``folder``, with a fresh key: writes ``server.pem`` and ``server-key.pem`` (0600),
    replacing earlier ones (a running server picks them up through its reloader)."""
    now = _utc(now)
    if not 1 <= days <= MAX_SERVER_DAYS:
        raise InvalidInput(
            f"a server certificate lives 1 to {MAX_SERVER_DAYS} days, not {days}: "
            "Mozilla's intermediate TLS profile rejects longer ones"
        )
    names = [_subject_alternative_name(host) for host in hosts]
    if not names:
        raise InvalidInput("a server certificate needs at least one host name or IP address")
    ca_certificate, ca_key = _load_ca(folder)
    ca_ski = ca_certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    key = ec.generate_private_key(ec.SECP256R1())
    not_after = min(now + timedelta(days=days), ca_certificate.not_valid_after_utc)
    if not_after <= now:
        raise ConfigurationError(f"the CA in {folder} has expired; make a new one")
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
        .issuer_name(ca_certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    # Key first, then certificate: each rename is atomic; a reloader that looks in between
    # sees a mismatched pair, refuses it and keeps serving the old one until the next look.
    _write_atomically(folder / SERVER_KEY, _key_pem(key), 0o600)
    _write_atomically(
        folder / SERVER_CERT, certificate.public_bytes(serialization.Encoding.PEM), 0o644
    )


def load_certificate(path: Path) -> x509.Certificate:
    """The first certificate of a PEM file (the leaf of a chain file)."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise ConfigurationError(f"the certificate {path} cannot be read: {e.strerror}") from None
    return parse_certificate(data, path)


def parse_certificate(pem: bytes, path: Path | str) -> x509.Certificate:
    """The first certificate of PEM bytes read from ``path`` (named in the error)."""
    try:
        return x509.load_pem_x509_certificates(pem)[0]
    except ValueError:
        raise ConfigurationError(f"{path} is not a PEM certificate") from None


def certificate_expiry(path: Path) -> datetime:
    """When the (first) certificate in ``path`` expires, timezone-aware UTC."""
    return load_certificate(path).not_valid_after_utc


def expiry_warning(path: Path, now: datetime, days: int = 30) -> str | None:
    """A one-line warning if the certificate in ``path`` expires within ``days`` days of
    ``now`` (or has expired), else None."""
    return expiry_message(path, certificate_expiry(path), _utc(now), days)


def expiry_message(
    path: Path | str, expires: datetime, now: datetime, days: int = 30
) -> str | None:
    """The warning of :func:`expiry_warning` for an expiry date already known."""
    left = expires - now
    if left > timedelta(days=days):
        return None
    when = expires.strftime("%Y-%m-%d %H:%M UTC")
    if left <= timedelta(0):
        return f"the TLS certificate {path} expired on {when}; clients refuse it: renew it now"
    return (
        f"the TLS certificate {path} expires on {when} (in {_days_left(left)}); renew it "
        "(strongroom reloads a replaced certificate without a restart)"
    )


def _days_left(left: timedelta) -> str:
    if left >= timedelta(days=1):
        n = left.days
        return f"{n} day" if n == 1 else f"{n} days"
    hours = max(1, int(left.total_seconds() // 3600))
    return f"{hours} hour" if hours == 1 else f"{hours} hours"


def _subject_alternative_name(host: str) -> x509.GeneralName:
    candidate = host.strip()
    if candidate.startswith("[") and candidate.endswith("]"):
        candidate = candidate[1:-1]
    try:
        return x509.IPAddress(ipaddress.ip_address(candidate))
    except ValueError:
        pass
    name = candidate.rstrip(".").lower()
    labels = name.split(".")
    if labels and labels[0] == "*" and len(labels) > 2:  # a wildcard for one level
        labels = labels[1:]
    if not name or len(name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise InvalidInput(f"{host!r} is neither a DNS host name nor an IP address")
    return x509.DNSName(name)


def _load_ca(folder: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    if not (folder / CA_CERT).is_file() or not (folder / CA_KEY).is_file():
        raise ConfigurationError(
            f"no local CA in {folder} ({CA_CERT} and {CA_KEY}); make one first (strongroom init)"
        )
    certificate = load_certificate(folder / CA_CERT)
    try:
        key = serialization.load_pem_private_key((folder / CA_KEY).read_bytes(), password=None)
    except (ValueError, TypeError):
        raise ConfigurationError(f"{folder / CA_KEY} is not an unencrypted PEM key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.public_key() != (
        certificate.public_key()
    ):
        raise ConfigurationError(f"{folder / CA_KEY} is not the key of {folder / CA_CERT}")
    return certificate, key


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _private_folder(folder: Path) -> None:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)


def _write_atomically(path: Path, data: bytes, mode: int) -> None:
    _private_folder(path.parent)
    temp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    temp.unlink(missing_ok=True)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, mode)  # O_CREAT's mode is filtered by the umask
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _utc(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise InvalidInput("now must be timezone-aware")
    return now.astimezone(UTC)

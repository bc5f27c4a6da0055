"""The local CA and its server certificates (P4): extensions strict verifiers require,
a chain that verifies, private key files, expiry warnings."""

from __future__ import annotations

import ipaddress
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from strongroom.errors import ConfigurationError, Conflict, InvalidInput
from strongroom.tls.certificates import (
    certificate_expiry,
    expiry_warning,
    issue_server_certificate,
    load_certificate,
    make_local_ca,
)

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


@pytest.fixture
def tls(tmp_path: Path) -> Path:
    folder = tmp_path / "tls"
    make_local_ca(folder, NOW)
    issue_server_certificate(folder, now=NOW)
    return folder


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_ca_is_a_p256_ca_for_ten_years(tls: Path) -> None:
    ca = load_certificate(tls / "ca.pem")
    constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical
    assert constraints.value.ca is True
    assert constraints.value.path_length == 0
    usage = ca.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical
    assert usage.value.key_cert_sign and usage.value.crl_sign
    assert not usage.value.digital_signature
    ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(ca.public_key())
    key = ca.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    assert key.curve.name == "secp256r1"
    assert ca.subject == ca.issuer
    ca.verify_directly_issued_by(ca)
    assert ca.not_valid_before_utc <= NOW
    assert ca.not_valid_after_utc - NOW == timedelta(days=3650)


def test_the_leaf_has_every_extension_strict_clients_require(tls: Path) -> None:
    ca = load_certificate(tls / "ca.pem")
    leaf = load_certificate(tls / "server.pem")
    ext = leaf.extensions

    san = ext.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]

    ski = ext.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(leaf.public_key())
    aki = ext.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ca_ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ca_ski.digest

    usage = ext.get_extension_for_class(x509.KeyUsage)
    assert usage.critical
    assert usage.value.digital_signature
    assert not usage.value.key_cert_sign
    eku = ext.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    constraints = ext.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical
    assert constraints.value.ca is False

    assert leaf.issuer == ca.subject
    leaf.verify_directly_issued_by(ca)
    lifespan = leaf.not_valid_after_utc - leaf.not_valid_before_utc
    assert lifespan.days <= 366  # Mozilla intermediate's maximum


@pytest.mark.parametrize(
    "subject", [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
)
def test_the_leaf_verifies_against_the_ca_for_its_names(
    tls: Path, subject: x509.DNSName | x509.IPAddress
) -> None:
    ca = load_certificate(tls / "ca.pem")
    leaf = load_certificate(tls / "server.pem")
    verifier = (
        PolicyBuilder()
        .store(Store([ca]))
        .time(NOW + timedelta(days=1))
        .build_server_verifier(subject)
    )
    chain = verifier.verify(leaf, [])
    assert chain == [leaf, ca]


def test_the_leaf_does_not_verify_for_another_name_or_after_expiry(tls: Path) -> None:
    ca = load_certificate(tls / "ca.pem")
    leaf = load_certificate(tls / "server.pem")
    builder = PolicyBuilder().store(Store([ca]))
    with pytest.raises(VerificationError):
        builder.time(NOW).build_server_verifier(x509.DNSName("example.com")).verify(leaf, [])
    with pytest.raises(VerificationError):
        builder.time(leaf.not_valid_after_utc + timedelta(seconds=1)).build_server_verifier(
            x509.DNSName("localhost")
        ).verify(leaf, [])


def test_keys_are_private_pkcs8_files_in_a_private_folder(tls: Path) -> None:
    assert mode(tls) == 0o700
    for name in ("ca-key.pem", "server-key.pem"):
        assert mode(tls / name) == 0o600
        text = (tls / name).read_text()
        assert text.startswith("-----BEGIN PRIVATE KEY-----")  # PKCS#8, unencrypted
    assert sorted(p.name for p in tls.iterdir()) == [
        "ca-key.pem",
        "ca.pem",
        "server-key.pem",
        "server.pem",
    ]


def test_a_world_readable_folder_is_made_private(tmp_path: Path) -> None:
    folder = tmp_path / "tls"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    make_local_ca(folder, NOW)
    assert mode(folder) == 0o700


def test_reissuing_replaces_the_pair_with_a_new_key_and_serial(tls: Path) -> None:
    before = load_certificate(tls / "server.pem")
    key_before = (tls / "server-key.pem").read_bytes()
    issue_server_certificate(tls, ["strongroom.example", "::1"], now=NOW + timedelta(days=300))
    after = load_certificate(tls / "server.pem")
    assert after.serial_number != before.serial_number
    assert (tls / "server-key.pem").read_bytes() != key_before
    san = after.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["strongroom.example"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("::1")]
    assert not [p for p in tls.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_the_leaf_never_outlives_its_ca(tls: Path) -> None:
    ca = load_certificate(tls / "ca.pem")
    issue_server_certificate(tls, now=ca.not_valid_after_utc - timedelta(days=10))
    assert load_certificate(tls / "server.pem").not_valid_after_utc == ca.not_valid_after_utc


def test_an_existing_ca_is_never_replaced(tls: Path) -> None:
    before = (tls / "ca-key.pem").read_bytes()
    with pytest.raises(Conflict):
        make_local_ca(tls, NOW)
    assert (tls / "ca-key.pem").read_bytes() == before


@pytest.mark.parametrize(
    "hosts",
    [[], ["bad host"], ["-leading.example"], ["a" * 64 + ".example"], ["evil.example/x"]],
)
def test_bad_hosts_are_refused(tls: Path, hosts: list[str]) -> None:
    with pytest.raises(InvalidInput):
        issue_server_certificate(tls, hosts, now=NOW)


@pytest.mark.parametrize("days", [0, 367, 397])
def test_lifespans_mozilla_rejects_are_refused(tls: Path, days: int) -> None:
    with pytest.raises(InvalidInput, match="366"):
        issue_server_certificate(tls, now=NOW, days=days)


def test_issuing_needs_a_ca_and_an_aware_time(tmp_path: Path, tls: Path) -> None:
    with pytest.raises(ConfigurationError, match="no local CA"):
        issue_server_certificate(tmp_path / "empty", now=NOW)
    with pytest.raises(InvalidInput, match="timezone"):
        issue_server_certificate(tls, now=datetime(2026, 1, 1))  # naive


def test_expiry_and_its_warning(tls: Path) -> None:
    expires = certificate_expiry(tls / "server.pem")
    assert expires == NOW + timedelta(days=365)
    assert expires.tzinfo is not None
    assert expiry_warning(tls / "server.pem", expires - timedelta(days=31)) is None
    warning = expiry_warning(tls / "server.pem", expires - timedelta(days=29))
    assert warning is not None
    assert "\n" not in warning
    assert "server.pem" in warning and "29 days" in warning
    assert expiry_warning(tls / "server.pem", expires - timedelta(days=29), days=14) is None
    expired = expiry_warning(tls / "server.pem", expires + timedelta(hours=1))
    assert expired is not None and "expired" in expired


def test_expiry_of_a_missing_or_broken_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot be read"):
        certificate_expiry(tmp_path / "nothing.pem")
    (tmp_path / "junk.pem").write_text("not a certificate")
    with pytest.raises(ConfigurationError, match="not a PEM certificate"):
        certificate_expiry(tmp_path / "junk.pem")

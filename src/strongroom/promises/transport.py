"""Promises about the connection: TLS 1.2 or newer with HSTS, and a valid certificate.
Both are checked against the live server at ``public_url``, as a browser meets it: an
address nothing answers at fails them."""

from __future__ import annotations

import ssl
from datetime import timedelta
from pathlib import Path

from strongroom.config import Settings
from strongroom.crypto import policy
from strongroom.domain.promises import Verdict
from strongroom.promises import tls_probe
from strongroom.promises.registry import Deployment, Promise, days

#: HSTS must ask browsers to remember HTTPS for at least a year.
HSTS_MIN_SECONDS = 365 * 24 * 3600
_VERSIONS = {"TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3}


def _tls_claim(settings: Settings) -> str:
    minimum = policy.MIN_TLS_VERSION.removeprefix("TLSv")
    return (
        f"Browsers and clients reach {settings.public_url} over TLS {minimum} or newer only, "
        "and every response asks them (HSTS) to use nothing but HTTPS for at least a year."
    )


#: The versions a server must refuse, named as the evidence names them.
_REFUSED = (("TLS 1.0", ssl.TLSVersion.TLSv1), ("TLS 1.1", ssl.TLSVersion.TLSv1_1))


def check_tls(d: Deployment) -> Verdict:
    url = d.settings.public_url
    minimum = _VERSIONS[policy.MIN_TLS_VERSION]
    for name, version in _REFUSED:
        if not tls_probe.can_offer(version):
            return Verdict.failed(
                f"{url} could not be probed: this machine's OpenSSL cannot offer {name}, so a "
                "refused handshake would prove nothing"
            )
    try:
        old = [(name, tls_probe.handshake(url, version)) for name, version in _REFUSED]
        current = tls_probe.handshake(url, minimum)
        max_age = tls_probe.hsts_max_age(url) if current.accepted else None
    except (tls_probe.Unreachable, OSError) as e:
        return Verdict.failed(f"{url} could not be probed: {e}")
    for name, shake in old:
        if shake.accepted:
            return Verdict.failed(f"{url} accepted a {name} handshake ({shake.detail})")
    if not current.accepted:
        return Verdict.failed(f"{url} refused a {policy.MIN_TLS_VERSION} handshake")
    if max_age is None:
        return Verdict.failed(f"{url} answers without a Strict-Transport-Security header")
    if max_age < HSTS_MIN_SECONDS:
        return Verdict.failed(f"{url} sends HSTS max-age={max_age}, under one year")
    refused = ", ".join(f"{name} ({shake.detail})" for name, shake in old)
    return Verdict.passed(
        f"{url} refused {refused}, accepted {current.detail}, and sent HSTS max-age={max_age}"
    )


TLS = Promise("tls", "TLS 1.2 or newer, with HSTS", _tls_claim, check_tls)


def _certificate_claim(settings: Settings) -> str:
    return (
        f"The certificate of {settings.public_url} is valid and is renewed at least "
        f"{days(settings.certificate_min_days)} before it expires."
    )


def check_certificate(d: Deployment) -> Verdict:
    """Verified against the system's CAs, as browsers do; a development home also trusts
    the local CA that `init` made (HOME/tls/ca.pem, which no browser trusts), and says so."""
    url = d.settings.public_url
    development = d.settings.environment != "production"
    local_ca = Path(d.settings.tls_cert).parent / "ca.pem" if development else None
    try:
        cert = tls_probe.certificate(url, local_ca)
    except (tls_probe.Unreachable, OSError) as e:
        return Verdict.failed(f"{url} could not be probed: {e}")
    left = cert.not_after - d.now
    until = cert.not_after.date().isoformat()
    if not cert.verified:
        return Verdict.failed(f"the certificate of {url} does not verify: {cert.problem}")
    if left < timedelta(days=d.settings.certificate_min_days):
        return Verdict.failed(
            f"the certificate of {url} expires {until}, in less than "
            f"{days(d.settings.certificate_min_days)}"
        )
    trusted = "" if local_ca is None else " (the system's CAs or this home's development CA)"
    return Verdict.passed(
        f"the certificate of {url} verifies{trusted} and is valid until {until} ({left.days} days)"
    )


CERTIFICATE = Promise("certificate", "A valid certificate", _certificate_claim, check_certificate)

"""TLS for the built-in HTTPS server: a local CA and server certificates (P4), the
server's Mozilla-"intermediate" TLS context and its reloader (P3)."""

from strongroom.tls.certificates import (
    certificate_expiry,
    expiry_warning,
    issue_server_certificate,
    make_local_ca,
)
from strongroom.tls.context import CertificateReloader, server_context

__all__ = [
    "CertificateReloader",
    "certificate_expiry",
    "expiry_warning",
    "issue_server_certificate",
    "make_local_ca",
    "server_context",
]

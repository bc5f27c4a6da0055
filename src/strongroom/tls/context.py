"""The server's TLS settings (promise P3) and certificate reloading without a restart (P4).

:func:`server_context` follows Mozilla's "intermediate" profile, as sslyze checks it:
TLS 1.2 and 1.3 only, AEAD suites with forward secrecy only, the client's suite
preference, no compression, no client-initiated renegotiation, and only the P-256 group
(Python's ``ssl`` can set a single group; without it OpenSSL also offers X448 and
secp521r1, which the profile rejects).

:class:`CertificateReloader` watches the certificate and key files and loads a replaced
pair into the *same* ``SSLContext``: OpenSSL copies the certificate into each connection
when it is created, so new handshakes use the new certificate while open connections
keep the old one. A pair that does not load (half written, key and certificate not
matching, expired) is logged and the old pair kept.
"""

from __future__ import annotations

import contextlib
import logging
import os
import ssl
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from strongroom.clock import Clock, SystemClock
from strongroom.crypto.policy import MIN_TLS_VERSION
from strongroom.errors import ConfigurationError
from strongroom.tls.certificates import expiry_message, parse_certificate

logger = logging.getLogger("strongroom.tls")

#: OpenSSL cipher string for TLS 1.2 (TLS 1.3's three suites are all in the profile).
CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20"
#: The only key-exchange group offered.
ECDH_CURVE = "prime256v1"
#: Warn when the certificate expires within this many days.
EXPIRY_WARNING_DAYS = 30
#: How often (seconds) the expiry warning is repeated while it applies.
EXPIRY_WARNING_EVERY = 24 * 3600.0

_Signature = tuple[int, int, int, int]


def server_context(cert_path: Path, key_path: Path) -> ssl.SSLContext:
    """A server ``SSLContext`` with the certificate chain and key loaded.

    Raises :class:`ConfigurationError` if the files are missing or do not form a pair.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion[MIN_TLS_VERSION.replace(".", "_")]  # TLSv1_2
    context.maximum_version = ssl.TLSVersion.MAXIMUM_SUPPORTED
    context.set_ciphers(CIPHERS)
    context.set_ecdh_curve(ECDH_CURVE)
    # No session tickets: a ticket key living as long as the process would weaken TLS 1.2
    # forward secrecy.
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION | ssl.OP_NO_TICKET
    # Mozilla intermediate: every suite offered is strong, so the client chooses (a client
    # without AES hardware prefers ChaCha20).
    context.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE
    context.set_alpn_protocols(["http/1.1"])
    _load_pair(context, Path(cert_path), Path(key_path))
    _warn_if_readable(Path(key_path))
    return context


class CertificateReloader:
    """Reloads the certificate and key into ``context`` when their files change.

    ``check()`` is cheap when nothing changed (two ``stat`` calls); call it periodically
    and on SIGHUP, always from the thread that runs the server's event loop (an
    ``SSLContext`` must not change while another thread creates connections from it).
    """

    def __init__(
        self,
        context: ssl.SSLContext,
        cert_path: Path,
        key_path: Path,
        *,
        clock: Clock | None = None,
        warning_days: int = EXPIRY_WARNING_DAYS,
    ) -> None:
        self.context = context
        self.cert_path = Path(cert_path)
        self.key_path = Path(key_path)
        self._clock = clock or SystemClock()
        self._warning_days = warning_days
        try:
            # None while the files cannot be read.
            self._seen: tuple[_Signature, _Signature] | None = self._signature()
            leaf = parse_certificate(self.cert_path.read_bytes(), self.cert_path)
        except OSError as e:
            raise _unreadable(e, self.cert_path) from None
        self.expires = leaf.not_valid_after_utc
        self._next_warning = self._clock.monotonic()
        self.warn_if_expiring()

    @classmethod
    def open(
        cls, cert_path: Path, key_path: Path, *, clock: Clock | None = None
    ) -> CertificateReloader:
        """A new :func:`server_context` for the files, with its reloader. The files'
        state is noted before loading, so a change during the load is seen later."""
        try:
            seen = cls._signature_of(Path(cert_path), Path(key_path))
        except OSError as e:
            raise _unreadable(e, cert_path) from None
        reloader = cls(server_context(cert_path, key_path), cert_path, key_path, clock=clock)
        reloader._seen = seen
        return reloader

    def check(self, *, force: bool = False) -> bool:
        """Reload if the files changed since the last look (or always, with ``force``).
        True if a new pair was loaded; False if nothing changed or the new pair was
        refused (the old one stays in use; the reason is logged)."""
        reloaded = False
        try:
            seen = self._signature()
        except OSError as e:
            seen = None
            if force or self._seen is not None:
                logger.error(
                    "TLS certificate files cannot be read (%s); still serving the old certificate",
                    e.strerror or e,
                )
        if seen is not None and (force or seen != self._seen):
            reloaded = self._reload()
        self._seen = seen
        self.warn_if_expiring()
        return reloaded

    def warn_if_expiring(self, *, always: bool = False) -> str | None:
        """Log the expiry warning if it applies (at most once a day unless ``always``)."""
        if not always and self._clock.monotonic() < self._next_warning:
            return None
        message = expiry_message(
            self.cert_path, self.expires, self._clock.now(), self._warning_days
        )
        if message is not None:
            logger.warning("%s", message)
            self._next_warning = self._clock.monotonic() + EXPIRY_WARNING_EVERY
        return message

    def _reload(self) -> bool:
        try:
            cert_pem = self.cert_path.read_bytes()
            key_pem = self.key_path.read_bytes()
            leaf = parse_certificate(cert_pem, self.cert_path)
            if leaf.not_valid_after_utc <= self._clock.now():
                raise ConfigurationError(
                    f"the new certificate {self.cert_path} expired on "
                    f"{leaf.not_valid_after_utc:%Y-%m-%d}"
                )
            with _as_files(cert_pem, key_pem) as (cert_file, key_file):
                # A trial context first: a pair that fails half-way (the certificate loaded,
                # the key refused) would leave the live context without a usable key.
                _load_pair(ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER), cert_file, key_file)
                _load_pair(self.context, cert_file, key_file)
        except (OSError, ConfigurationError) as e:
            logger.error("TLS certificate not reloaded, still serving the old one: %s", e)
            return False
        self.expires = leaf.not_valid_after_utc
        self._next_warning = self._clock.monotonic()
        logger.info(
            "TLS certificate reloaded from %s (serial %x, expires %s)",
            self.cert_path,
            leaf.serial_number,
            f"{self.expires:%Y-%m-%d}",
        )
        _warn_if_readable(self.key_path)
        return True

    def _signature(self) -> tuple[_Signature, _Signature]:
        return self._signature_of(self.cert_path, self.key_path)

    @staticmethod
    def _signature_of(cert_path: Path, key_path: Path) -> tuple[_Signature, _Signature]:
        def one(path: Path) -> _Signature:
            info = os.stat(path)  # follows symbolic links (certbot's live/ folder)
            return (info.st_dev, info.st_ino, info.st_mtime_ns, info.st_size)

        return one(cert_path), one(key_path)


def _load_pair(context: ssl.SSLContext, cert_path: Path | str, key_path: Path | str) -> None:
    try:
        context.load_cert_chain(cert_path, key_path)
    except FileNotFoundError as e:
        raise ConfigurationError(f"the TLS file {e.filename or cert_path} does not exist") from None
    except ssl.SSLError as e:
        raise ConfigurationError(
            f"the TLS certificate {cert_path} and key {key_path} cannot be used together "
            f"({e.reason or e})"
        ) from None
    except OSError as e:
        raise ConfigurationError(
            f"the TLS certificate {cert_path} or key {key_path} cannot be read: {e.strerror or e}"
        ) from None


def _unreadable(e: OSError, default: Path) -> ConfigurationError:
    return ConfigurationError(f"the TLS file {e.filename or default} cannot be read: {e.strerror}")


def _warn_if_readable(key_path: Path) -> None:
    try:
        mode = stat.S_IMODE(os.stat(key_path).st_mode)
    except OSError:
        return
    if mode & 0o077:
        logger.warning(
            "the TLS key %s is accessible to group or others (mode %o); run: chmod go-rwx %s",
            key_path,
            mode,
            key_path,
        )


@contextlib.contextmanager
def _as_files(cert_pem: bytes, key_pem: bytes) -> Iterator[tuple[str, str]]:
    """The bytes read once, as paths OpenSSL can open: both loads see the same pair even
    if the files on disk change meanwhile. In memory (memfd) on Linux."""
    with contextlib.ExitStack() as stack:
        if hasattr(os, "memfd_create"):
            paths = []
            for name, data in (("strongroom-cert", cert_pem), ("strongroom-key", key_pem)):
                fd = os.memfd_create(name, os.MFD_CLOEXEC)
                stack.callback(os.close, fd)
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                paths.append(f"/proc/self/fd/{fd}")
            yield paths[0], paths[1]
            return
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="strongroom-tls-")))
        for name, data in (("cert.pem", cert_pem), ("key.pem", key_pem)):
            fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(data)
        yield str(folder / "cert.pem"), str(folder / "key.pem")


__all__ = [
    "CIPHERS",
    "ECDH_CURVE",
    "CertificateReloader",
    "server_context",
]

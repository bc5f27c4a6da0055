"""The root key in Vault or OpenBao, through the Transit secrets engine (``hvac``).

One Transit key (``transit_key`` on the mount ``transit_mount``) holds every root
version: Transit key version N *is* root version N. The key bytes never leave Vault;
Strongroom sends a workspace key to ``encrypt`` and gets it back from ``decrypt``.

**Binding the context.** The key is a *derived* key (``derived=true``, type
``aes256-gcm96``): for every call Transit derives the AES key from the root version
and the ``context`` we pass (HKDF-SHA256), and the context is required. The context
Strongroom passes names the wrapped key (kind, id, version: keyring._root_context),
so a wrapped key copied into another row is decrypted under another derived key and
fails GCM authentication: ``IntegrityFailure``, never another tenant's key. Derived
keys work on every Vault and OpenBao with Transit (``associated_data`` is newer and
not in every release), and a key made without derivation is refused at start,
because it would silently ignore the context.

**Stored form.** Transit answers ``vault:v<N>:<base64>``. We store the decoded bytes
(nonce 12 + ciphertext 32 + tag 16, the software backends' layout) and keep N as the
root version in the row, and rebuild the string to decrypt. A row claiming another
version than its blob was made under fails authentication or is unavailable.

**Versions.** ``rotate`` is Transit ``rotate``. ``destroy_version(v)`` raises
``min_decryption_version`` (and ``min_encryption_version``) to v+1 and then ``trim``s
the key to v+1: Transit deletes versions 1..v from its storage, so nothing older
than v+1 can be decrypted by anyone any more, even by an operator lowering the
minimum again. Transit can only cut versions off from the oldest up, so destroying v
destroys every older version too (a shred epoch does that anyway). The current
version cannot be destroyed. ``trim`` does not need ``deletion_allowed``.

**Rewrap.** ``rewrap`` is Transit ``rewrap``: a blob made under an old version comes
back under the newest one without the workspace key leaving Vault; the keyring's
root rotation uses it.

**Failures.** Every call has a connect and a read timeout and no retries, so an
unreachable, hung or sealed server fails within the timeouts with ``KmsFailure`` (the
API's 503 ``kms-unavailable``); ``permission denied`` is ``KmsAuthenticationFailed``.
With AppRole, a refused token (expired) logs in again once. No message, log or repr
holds the token or the secret id: our messages are our own, never hvac's text.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import hvac
import requests
from hvac import exceptions as vault

from strongroom.crypto.kms.base import RootKeyVersion
from strongroom.crypto.policy import KEY_BYTES, NONCE_BYTES, TAG_BYTES
from strongroom.crypto.secret import SecretKey
from strongroom.errors import (
    ConfigurationError,
    IntegrityFailure,
    KeyUnavailable,
    KmsAuthenticationFailed,
    KmsFailure,
)

#: The only key type Strongroom wraps with: AES-256-GCM with a 96-bit nonce.
KEY_TYPE = "aes256-gcm96"
_WRAPPED_BYTES = NONCE_BYTES + KEY_BYTES + TAG_BYTES
_CIPHERTEXT = re.compile(r"vault:v([1-9][0-9]{0,9}):([A-Za-z0-9+/=]+)")

T = TypeVar("T")
#: What a refused decrypt turns out to be.
StrongroomKeyError = KeyUnavailable | IntegrityFailure


@dataclass(frozen=True)
class TransitConnection:
    """Where the Transit key is and how to sign in; names of variables, never secrets."""

    url: str
    key: str
    mount: str = "transit"
    token_env: str = "VAULT_TOKEN"  # noqa: S105 - a variable name, not a secret
    approle_role_id_env: str = ""
    approle_secret_id_env: str = ""
    approle_mount: str = "approle"
    ca_file: str = ""
    connect_timeout_seconds: float = 2
    timeout_seconds: float = 5

    @property
    def uses_approle(self) -> bool:
        return bool(self.approle_role_id_env)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _answer(answer: object, name: str) -> Any:
    """``answer["data"][name]``, or KmsFailure if Vault (or a proxy) answered otherwise."""
    try:
        return answer["data"][name]  # type: ignore[index]
    except (KeyError, TypeError, IndexError):
        raise KmsFailure(f"Transit answered without {name!r}") from None


def _env(name: str, what: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise ConfigurationError(
            f"the {what} is read from the environment variable {name}, which is not set"
        )
    return value


class TransitKms:
    """Root key versions held by one Vault/OpenBao Transit key. See the module docstring."""

    backend = "transit"
    for_development = False

    def __init__(self, connection: TransitConnection) -> None:
        """Sign in; prefer :meth:`create` or :meth:`open`, which also check the key."""
        self._connection = connection
        self._lock = threading.Lock()  # guards sign-in (AppRole) and close
        self._closed = False
        verify: bool | str = connection.ca_file or True
        self._client = hvac.Client(
            url=connection.url,
            verify=verify,
            # never follow a redirect: requests would resend X-Vault-Token to wherever it
            # points, another host or plain http included
            allow_redirects=False,
            # requests takes (connect, read); hvac passes it through but types it as int.
            timeout=(connection.connect_timeout_seconds, connection.timeout_seconds),  # type: ignore[arg-type]
        )
        try:
            self._sign_in()
        except BaseException:
            self._client.adapter.close()
            raise

    @classmethod
    def create(cls, connection: TransitConnection) -> TransitKms:
        """Create the Transit key if it is missing; accept an existing one only if it is
        configured as Strongroom needs and was never rotated (so an administrator may
        create it beforehand and give Strongroom a token that cannot create keys)."""
        kms = cls(connection)
        try:
            if kms._metadata(missing_ok=True) is None:
                kms._call(
                    "create the key",
                    lambda t: t.create_key(
                        connection.key,
                        key_type=KEY_TYPE,
                        derived=True,
                        exportable=False,
                        allow_plaintext_backup=False,
                        mount_point=connection.mount,
                    ),
                )
            meta = kms._meta()
            kms._check_key(meta)
            if int(meta["latest_version"]) != 1 or int(meta["min_decryption_version"]) != 1:
                raise ConfigurationError(
                    f"Transit key {connection.key!r} has been rotated (version "
                    f"{meta['latest_version']}): it may be another home's root key, and one "
                    "home's shred would destroy the other's keys. Give this home a key of its own"
                )
        except BaseException:
            kms.close()
            raise
        return kms

    @classmethod
    def open(cls, connection: TransitConnection) -> TransitKms:
        """Use the Transit key that ``init`` created (or an administrator did)."""
        kms = cls(connection)
        try:
            meta = kms._metadata(missing_ok=True)
            if meta is None:
                raise KeyUnavailable(
                    f"Transit key {connection.key!r} does not exist on mount "
                    f"{connection.mount!r} at {connection.url}; run strongroom init --kms transit"
                )
            kms._check_key(meta)
        except BaseException:
            kms.close()
            raise
        return kms

    def __repr__(self) -> str:
        c = self._connection
        return (
            f"TransitKms(url={c.url!r}, mount={c.mount!r}, key={c.key!r}"
            f"{', closed' if self._closed else ''})"
        )

    __str__ = __repr__

    # -- talking to Vault ---------------------------------------------------------------

    def _sign_in(self) -> None:
        c = self._connection
        if not c.uses_approle:
            self._client.token = _env(c.token_env, "Vault token")
            return
        role_id = _env(c.approle_role_id_env, "AppRole role id")
        secret_id = _env(c.approle_secret_id_env, "AppRole secret id")
        try:
            self._client.auth.approle.login(role_id, secret_id, mount_point=c.approle_mount)
        except (vault.InvalidRequest, vault.Unauthorized, vault.Forbidden):
            raise KmsAuthenticationFailed(
                f"Vault at {c.url} refused the AppRole login (mount {c.approle_mount!r}): "
                "wrong role id or secret id"
            ) from None
        except (requests.RequestException, vault.VaultError) as exc:
            raise self._unavailable("sign in with AppRole", exc) from None

    def _unavailable(self, what: str, exc: BaseException) -> KmsFailure:
        c = self._connection
        if isinstance(exc, requests.exceptions.SSLError):
            why = "presented a TLS certificate that is not trusted (see transit_ca_file)"
        elif isinstance(exc, requests.Timeout):
            why = "did not answer in time"
        elif isinstance(exc, requests.ConnectionError):
            why = "cannot be reached"
        elif isinstance(exc, vault.VaultDown):
            why = "is sealed or in standby"
        elif isinstance(exc, vault.RateLimitExceeded):
            why = "is rate limiting"
        else:  # 5xx, an unexpected answer, a proxy's error page
            why = f"failed ({type(exc).__name__})"
        return KmsFailure(f"Transit at {c.url} {why}; could not {what} (key {c.key!r})")

    def _call(self, what: str, fn: Callable[[Any], T]) -> T:
        """Call Transit; map every failure to the error tree. InvalidRequest and
        InvalidPath are the caller's to interpret."""
        if self._closed:
            raise KmsFailure(f"the Transit root key {self._connection.key!r} is closed")
        for attempt in (1, 2):
            try:
                return fn(self._client.secrets.transit)
            except (vault.InvalidRequest, vault.InvalidPath):
                raise
            except (vault.Unauthorized, vault.Forbidden):
                if attempt == 1 and self._connection.uses_approle:
                    with self._lock:
                        self._sign_in()  # the AppRole token may have expired
                    continue
                raise KmsAuthenticationFailed(
                    f"Transit at {self._connection.url} denied permission to {what} "
                    f"(key {self._connection.key!r}); check the token and its policy"
                ) from None
            except (requests.RequestException, vault.VaultError) as exc:
                raise self._unavailable(what, exc) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _metadata(self, missing_ok: bool = False) -> dict[str, Any] | None:
        c = self._connection
        try:
            answer = self._call("read the key", lambda t: t.read_key(c.key, mount_point=c.mount))
        except vault.InvalidPath:
            if missing_ok:
                return None
            raise KeyUnavailable(
                f"Transit key {c.key!r} does not exist on mount {c.mount!r}"
            ) from None
        except vault.InvalidRequest:
            raise KmsFailure(f"Transit refused to read key {c.key!r}") from None
        data = answer.get("data") if isinstance(answer, dict) else None
        needed = ("latest_version", "min_decryption_version", "min_encryption_version")
        if not isinstance(data, dict) or not all(isinstance(data.get(n), int) for n in needed):
            raise KmsFailure(
                f"Transit answered with key metadata Strongroom cannot read ({c.key!r})"
            )
        return data

    def _meta(self) -> dict[str, Any]:
        meta = self._metadata()
        assert meta is not None  # _metadata raises instead of returning None here
        return meta

    def _check_key(self, meta: dict[str, Any]) -> None:
        """Refuse a key that would not bind the context or could leave Vault."""
        key = self._connection.key
        wrong = []
        if meta.get("type") != KEY_TYPE:
            wrong.append(f"type is {meta.get('type')!r}, not {KEY_TYPE!r}")
        if meta.get("derived") is not True:
            wrong.append("it is not a derived key (derived=true binds the context)")
        if meta.get("convergent_encryption"):
            wrong.append("convergent encryption is on")
        if meta.get("exportable"):
            wrong.append("it is exportable")
        if meta.get("allow_plaintext_backup"):
            wrong.append("plaintext backup is allowed")
        if wrong:
            raise ConfigurationError(
                f"Transit key {key!r} cannot hold the root key: {'; '.join(wrong)}. "
                "Use a new key name; Strongroom creates it as needed"
            )

    # -- RootKms --------------------------------------------------------------------------

    def current_version(self) -> int:
        return int(self._meta()["latest_version"])

    def _parse(self, ciphertext: object) -> tuple[int, bytes]:
        match = _CIPHERTEXT.fullmatch(ciphertext) if isinstance(ciphertext, str) else None
        if match is None:
            raise KmsFailure("Transit answered with a ciphertext Strongroom cannot read")
        try:
            raw = base64.b64decode(match.group(2), validate=True)
        except binascii.Error:
            raise KmsFailure("Transit answered with a ciphertext Strongroom cannot read") from None
        if len(raw) != _WRAPPED_BYTES:
            raise KmsFailure(f"Transit answered with a {len(raw)}-byte wrap, not {_WRAPPED_BYTES}")
        return int(match.group(1)), raw

    def wrap(self, key: SecretKey, context: bytes) -> tuple[int, bytes]:
        c = self._connection
        try:
            answer = self._call(
                "wrap a key",
                lambda t: t.encrypt_data(
                    c.key, plaintext=_b64(key.reveal()), context=_b64(context), mount_point=c.mount
                ),
            )
        except (vault.InvalidRequest, vault.InvalidPath):
            raise KmsFailure(f"Transit refused to wrap with key {c.key!r}") from None
        return self._parse(_answer(answer, "ciphertext"))

    def _gone_or_tampered(self, version: int, label: str) -> StrongroomKeyError:
        """After a refused decrypt: is the version gone, or the blob not authentic?"""
        meta = self._meta()
        if not int(meta["min_decryption_version"]) <= version <= int(meta["latest_version"]):
            return KeyUnavailable(f"root key version {version} is destroyed or unknown")
        return IntegrityFailure(f"wrapped key {label} failed authentication")

    def unwrap(self, version: int, wrapped: bytes, context: bytes, label: str) -> SecretKey:
        if version < 1:
            raise KeyUnavailable(f"root key version {version} is destroyed or unknown")
        if len(wrapped) != _WRAPPED_BYTES:
            raise IntegrityFailure(f"wrapped key {label} failed authentication")
        c = self._connection
        ciphertext = f"vault:v{version}:{_b64(wrapped)}"
        try:
            answer = self._call(
                "unwrap a key",
                lambda t: t.decrypt_data(
                    c.key, ciphertext=ciphertext, context=_b64(context), mount_point=c.mount
                ),
            )
        except vault.InvalidRequest:
            raise self._gone_or_tampered(version, label) from None
        except vault.InvalidPath:
            raise KeyUnavailable(f"Transit key {c.key!r} does not exist") from None
        try:
            material = base64.b64decode(_answer(answer, "plaintext"), validate=True)
        except (binascii.Error, TypeError):
            raise KmsFailure("Transit answered with a plaintext Strongroom cannot read") from None
        if len(material) != KEY_BYTES:
            raise IntegrityFailure(f"wrapped key {label} is not a {KEY_BYTES * 8}-bit key")
        return SecretKey(material, label)

    def rewrap(self, version: int, wrapped: bytes, context: bytes, label: str) -> tuple[int, bytes]:
        """The same key wrapped under the current version; it never leaves Vault."""
        if version < 1:
            raise KeyUnavailable(f"root key version {version} is destroyed or unknown")
        if len(wrapped) != _WRAPPED_BYTES:
            raise IntegrityFailure(f"wrapped key {label} failed authentication")
        c = self._connection
        ciphertext = f"vault:v{version}:{_b64(wrapped)}"
        try:
            answer = self._call(
                "rewrap a key",
                lambda t: t.rewrap_data(
                    c.key, ciphertext=ciphertext, context=_b64(context), mount_point=c.mount
                ),
            )
        except vault.InvalidRequest:
            raise self._gone_or_tampered(version, label) from None
        except vault.InvalidPath:
            raise KeyUnavailable(f"Transit key {c.key!r} does not exist") from None
        return self._parse(_answer(answer, "ciphertext"))

    def rotate(self) -> int:
        c = self._connection
        try:
            self._call("rotate the key", lambda t: t.rotate_key(c.key, mount_point=c.mount))
        except (vault.InvalidRequest, vault.InvalidPath):
            raise KmsFailure(f"Transit refused to rotate key {c.key!r}") from None
        return self.current_version()

    def destroy_version(self, version: int) -> None:
        """Make ``version`` and every older version undecryptable and delete them."""
        c = self._connection
        meta = self._meta()
        latest = int(meta["latest_version"])
        if version >= latest:
            raise KeyUnavailable(
                "the current root key version cannot be destroyed; rotate first"
                if version == latest
                else f"root key version {version} does not exist (the current one is {latest})"
            )
        floor = max(version + 1, int(meta["min_decryption_version"]))
        if int(meta.get("min_available_version") or 0) >= floor:
            return  # already destroyed: shredding twice is not an error
        try:
            # One setting per call: hvac refuses both at once unless encryption > decryption,
            # and Transit trims only down to min_encryption_version (encryption still uses
            # the newest version; this is a floor). Encryption first: Vault refuses a
            # decryption floor above a non-zero encryption floor (a second shred would fail).
            self._call(
                "raise the minimum encryption version",
                lambda t: t.update_key_configuration(
                    c.key,
                    min_encryption_version=max(floor, int(meta["min_encryption_version"])),
                    mount_point=c.mount,
                ),
            )
            self._call(
                "raise the minimum decryption version",
                lambda t: t.update_key_configuration(
                    c.key, min_decryption_version=floor, mount_point=c.mount
                ),
            )
            self._call(
                "trim old versions",
                lambda t: t.trim_key(c.key, min_version=floor, mount_point=c.mount),
            )
        except (vault.InvalidRequest, vault.InvalidPath):
            raise KmsFailure(
                f"Transit refused to destroy root key version {version} of key {c.key!r}"
            ) from None

    def versions(self) -> list[RootKeyVersion]:
        meta = self._meta()
        latest = int(meta["latest_version"])
        first = max(int(meta["min_decryption_version"]), 1)
        return [
            RootKeyVersion(v, "active" if v == latest else "enabled")
            for v in range(first, latest + 1)
        ]

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._client.token = ""
            adapter = getattr(self._client, "adapter", None)
            if adapter is not None:
                adapter.close()

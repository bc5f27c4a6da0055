"""The root key in a PKCS#11 HSM (SoftHSM2 in tests).

Each root key version is an AES-256 secret key generated *inside* the token: a token
object, private, sensitive and non-extractable, so its bytes never exist outside the
HSM. Versions are found by ``CKA_ID`` (``strongroom-root-v000001``, ...), never by
label: PKCS#11 labels are not unique.

Wrapping is AES-256-GCM computed by the HSM: we draw a random 96-bit IV, pass the
caller's ``context`` as associated data and store ``iv + ciphertext + tag``. GCM with
AAD binds a wrapped workspace key to the identity it was wrapped for, so a blob moved
to another row fails authentication instead of unwrapping; it is the same format as
the software backends, so the contract tests hold every backend to one behaviour.
Note: FIPS-mode HSMs often refuse caller-chosen GCM IVs. On those,
``Mechanism.AES_KEY_WRAP_PAD`` (RFC 5649) is the portable alternative; it has no AAD,
so the context would have to be bound another way (e.g. a derived wrapping key).

PKCS#11 state is per process, not per object: ``pkcs11.lib(path)`` is a singleton,
and login belongs to the application, so a second ``C_Login`` fails with
``UserAlreadyLoggedIn`` and closing any logged-in session logs out every session on
the token. Instances for the same token therefore share one refcounted session; the
PIN of a later instance is checked against a salted digest of the one that logged in.
SoftHSM2 is not thread-safe as python-pkcs11 drives it, so one process-wide lock
guards every call into the module.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pkcs11
from pkcs11 import Attribute, KeyType, Mechanism, MechanismFlag, ObjectClass
from pkcs11.exceptions import (
    DataLenRange,
    EncryptedDataInvalid,
    EncryptedDataLenRange,
    FunctionFailed,
    GeneralError,
    KeyHandleInvalid,
    MultipleTokensReturned,
    NoSuchToken,
    ObjectHandleInvalid,
    PinIncorrect,
    PinInvalid,
    PinLenRange,
    PinLocked,
    PKCS11Error,
    UserAlreadyLoggedIn,
)
from pkcs11.mechanisms import GCMParams

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

#: CKA_ID (and label) of root key version N. STORED in the HSM: changing it loses the keys.
_ID_FORMAT = "strongroom-root-v%06d"
_ID_PATTERN = re.compile(rb"^strongroom-root-v(\d{6})$")

#: How a GCM tag mismatch surfaces (SoftHSM2: GeneralError; other HSMs vary).
_AUTH_FAILED = (
    GeneralError,
    EncryptedDataInvalid,
    EncryptedDataLenRange,
    DataLenRange,
    FunctionFailed,
)
_GONE = (ObjectHandleInvalid, KeyHandleInvalid)

#: Guards every call into any PKCS#11 module, and the table of shared sessions.
_LOCK = threading.Lock()


@dataclass(eq=False)
class _TokenSession:
    """One logged-in session per (module, token), shared by the instances using it."""

    session: Any
    pin_digest: bytes = field(repr=False)
    salt: bytes = field(repr=False)
    users: int = 0
    keys: dict[int, Any] = field(default_factory=dict)


_TokenKey = tuple[str, bytes]  # (real module path, token serial)
_SHARED: dict[_TokenKey, _TokenSession] = {}


def _digest(salt: bytes, pin: str) -> bytes:
    return hashlib.sha256(salt + pin.encode()).digest()


def _load_token(module_path: str, token_label: str) -> Any:
    if not Path(module_path).is_file():
        raise ConfigurationError(f"PKCS#11 module {module_path} does not exist")
    try:
        # python-pkcs11 keeps one library per path *string*; a second spelling of the
        # same file (a symlink) would initialise the module twice and fail.
        lib = pkcs11.lib(os.path.realpath(module_path))
    except PKCS11Error as exc:
        raise ConfigurationError(f"cannot load PKCS#11 module {module_path}: {exc}") from None
    try:
        return lib.get_token(token_label=token_label)
    except NoSuchToken:
        raise ConfigurationError(
            f"no PKCS#11 token labelled {token_label!r} in {module_path} "
            "(a token initialised after this process started is seen only after a restart)"
        ) from None
    except MultipleTokensReturned:
        raise ConfigurationError(
            f"more than one PKCS#11 token is labelled {token_label!r} in {module_path}"
        ) from None


def _attach(module_path: str, token_label: str, pin: str) -> tuple[_TokenKey, _TokenSession]:
    """Log in (or join the existing login) and count one more user. Call under _LOCK."""
    token = _load_token(module_path, token_label)
    key = (os.path.realpath(module_path), bytes(token.serial))
    shared = _SHARED.get(key)
    if shared is not None:
        if not hmac.compare_digest(shared.pin_digest, _digest(shared.salt, pin)):
            raise KmsAuthenticationFailed(
                f"PKCS#11 login to token {token_label!r} failed: wrong PIN"
            )
    else:
        try:
            session = token.open(rw=True, user_pin=pin)
        except (PinIncorrect, PinInvalid, PinLenRange):
            raise KmsAuthenticationFailed(
                f"PKCS#11 login to token {token_label!r} failed: wrong PIN"
            ) from None
        except PinLocked:
            raise KmsAuthenticationFailed(
                f"PKCS#11 login to token {token_label!r} failed: the PIN is locked"
            ) from None
        except UserAlreadyLoggedIn:
            raise KmsFailure(
                f"PKCS#11 token {token_label!r} is already logged in by other code in this "
                "process; Strongroom cannot check the PIN"
            ) from None
        except PKCS11Error as exc:
            raise KmsFailure(
                f"PKCS#11 login to token {token_label!r} failed: {type(exc).__name__}"
            ) from None
        salt = os.urandom(16)
        shared = _TokenSession(session, _digest(salt, pin), salt)
        _SHARED[key] = shared
    shared.users += 1
    return key, shared


def _detach(key: _TokenKey, shared: _TokenSession) -> None:
    """Count one user less; the last one logs out and closes. Call under _LOCK."""
    shared.users -= 1
    if shared.users > 0:
        return
    _SHARED.pop(key, None)
    shared.keys.clear()
    # The session is gone either way (token removed, library finalised).
    with contextlib.suppress(PKCS11Error):
        shared.session.close()


#: Attributes every root key object must have: generated in the token (LOCAL), never
#: extractable, sensitive, private, 256 bits. A key imported under a root key's CKA_ID
#: (whose bytes someone may know) is refused instead of being used to wrap.
_REQUIRED = {
    Attribute.LOCAL: True,
    Attribute.NEVER_EXTRACTABLE: True,
    Attribute.EXTRACTABLE: False,
    Attribute.SENSITIVE: True,
    Attribute.PRIVATE: True,
    Attribute.TOKEN: True,
    Attribute.VALUE_LEN: KEY_BYTES,
}
_MAX_VERSION = 999_999  # the CKA_ID holds six digits


def _require_hsm_born(obj: Any, version: int, token_label: str) -> None:
    for attribute, wanted in _REQUIRED.items():
        if obj[attribute] != wanted:
            raise KmsFailure(
                f"token {token_label!r}: the object for root key version {version} has "
                f"{attribute.name}={obj[attribute]!r}, not {wanted!r}; it was not generated "
                "inside the token as a non-extractable key, so Strongroom refuses to use it"
            )


class Pkcs11Kms:
    """Root key versions held by a PKCS#11 token. See the module docstring."""

    backend = "pkcs11"
    for_development = False

    def __init__(self, module_path: str, token_label: str, pin: str) -> None:
        """Log in to the token; prefer :meth:`create` or :meth:`open`."""
        self._closed = True  # until logged in
        self._module_path = module_path
        self._token_label = token_label
        with _LOCK:
            self._key, self._shared = _attach(module_path, token_label, pin)
            try:
                self._refresh()
            except BaseException:
                _detach(self._key, self._shared)
                raise
            self._closed = False

    @classmethod
    def create(cls, module_path: str, token_label: str, pin: str) -> Pkcs11Kms:
        """Generate root key version 1 in a token that holds none."""
        kms = cls(module_path, token_label, pin)
        with _LOCK:
            existing = sorted(kms._shared.keys)
            if not existing:
                kms._generate(1)
        if existing:
            kms.close()
            raise ConfigurationError(
                f"PKCS#11 token {token_label!r} already holds a Strongroom root key "
                f"(versions {existing})"
            )
        return kms

    @classmethod
    def open(cls, module_path: str, token_label: str, pin: str) -> Pkcs11Kms:
        """Use the root key already in the token."""
        kms = cls(module_path, token_label, pin)
        if not kms._shared.keys:
            kms.close()
            raise KeyUnavailable(
                f"PKCS#11 token {token_label!r} holds no Strongroom root key; run strongroom init"
            )
        return kms

    def __repr__(self) -> str:
        return (
            f"Pkcs11Kms(module={self._module_path!r}, token={self._token_label!r}"
            f"{', closed' if self._closed else ''})"
        )

    __str__ = __repr__

    # -- internals, all called under _LOCK --------------------------------------------

    def _session(self) -> Any:
        if self._closed:
            raise KmsFailure(f"the PKCS#11 root key on token {self._token_label!r} is closed")
        return self._shared.session

    def _refresh(self) -> None:
        """Reread which versions exist in the token (another process may have changed it)."""
        found: dict[int, Any] = {}
        try:
            for obj in self._shared.session.get_objects(
                {Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.KEY_TYPE: KeyType.AES}
            ):
                match = _ID_PATTERN.match(bytes(obj[Attribute.ID]))
                if match is None:
                    continue
                version = int(match.group(1))
                _require_hsm_born(obj, version, self._token_label)
                if version in found:
                    raise KmsFailure(
                        f"token {self._token_label!r} holds two objects for root key "
                        f"version {version}"
                    )
                found[version] = obj
        except PKCS11Error as exc:
            raise KmsFailure(f"PKCS#11 object search failed: {type(exc).__name__}") from None
        self._shared.keys = found

    def _generate(self, version: int) -> None:
        if version > _MAX_VERSION:
            raise KmsFailure(f"root key versions are exhausted (at most {_MAX_VERSION})")
        ident = _ID_FORMAT % version
        try:
            self._shared.keys[version] = self._session().generate_key(
                KeyType.AES,
                KEY_BYTES * 8,
                id=ident.encode(),
                label=ident,
                store=True,
                capabilities=MechanismFlag.ENCRYPT | MechanismFlag.DECRYPT,
                template={
                    Attribute.PRIVATE: True,
                    Attribute.SENSITIVE: True,
                    Attribute.EXTRACTABLE: False,
                    Attribute.MODIFIABLE: False,
                },
            )
        except PKCS11Error as exc:
            raise KmsFailure(f"PKCS#11 key generation failed: {type(exc).__name__}") from None

    def _current(self) -> int:
        self._session()
        if not self._shared.keys:
            raise KeyUnavailable("the root key has no usable version")
        return max(self._shared.keys)

    # -- RootKms ----------------------------------------------------------------------

    def current_version(self) -> int:
        with _LOCK:
            return self._current()

    def wrap(self, key: SecretKey, context: bytes) -> tuple[int, bytes]:
        iv = os.urandom(NONCE_BYTES)
        with _LOCK:
            # Wraps are rare (a workspace, a backup): reread the token first, so a version
            # made by another process is used and one a shred epoch destroyed is not.
            self._session()
            self._refresh()
            version = self._current()
            try:
                sealed = self._shared.keys[version].encrypt(
                    key.reveal(),
                    mechanism=Mechanism.AES_GCM,
                    mechanism_param=GCMParams(iv, context, TAG_BYTES * 8),
                )
            except _GONE:
                self._refresh()
                raise KeyUnavailable(f"root key version {version} was destroyed") from None
            except PKCS11Error as exc:
                raise KmsFailure(f"PKCS#11 wrap failed: {type(exc).__name__}") from None
        return version, iv + bytes(sealed)

    def unwrap(self, version: int, wrapped: bytes, context: bytes, label: str) -> SecretKey:
        if len(wrapped) != NONCE_BYTES + KEY_BYTES + TAG_BYTES:
            raise IntegrityFailure(f"wrapped key {label} failed authentication")
        gone = KeyUnavailable(f"root key version {version} is destroyed or unknown")
        with _LOCK:
            self._session()
            if version not in self._shared.keys:
                self._refresh()
            root = self._shared.keys.get(version)
            if root is None:
                raise gone
            try:
                material = root.decrypt(
                    wrapped[NONCE_BYTES:],
                    mechanism=Mechanism.AES_GCM,
                    mechanism_param=GCMParams(wrapped[:NONCE_BYTES], context, TAG_BYTES * 8),
                )
            except _AUTH_FAILED:
                raise IntegrityFailure(f"wrapped key {label} failed authentication") from None
            except _GONE:
                self._refresh()
                raise gone from None
            except PKCS11Error as exc:
                raise KmsFailure(f"PKCS#11 unwrap failed: {type(exc).__name__}") from None
        if len(material) != KEY_BYTES:
            raise IntegrityFailure(f"wrapped key {label} is not a {KEY_BYTES * 8}-bit key")
        return SecretKey(bytes(material), label)

    def rotate(self) -> int:
        with _LOCK:
            self._session()
            self._refresh()
            version = max(self._shared.keys, default=0) + 1
            self._generate(version)
            return version

    def destroy_version(self, version: int) -> None:
        with _LOCK:
            self._session()
            self._refresh()
            if version == self._current():
                raise KeyUnavailable(
                    "the current root key version cannot be destroyed; rotate first"
                )
            root = self._shared.keys.pop(version, None)
            if root is None:
                return  # already destroyed: shredding twice is not an error
            try:
                root.destroy()
            except _GONE:
                pass
            except PKCS11Error as exc:
                self._refresh()
                raise KmsFailure(
                    f"PKCS#11 could not destroy root key version {version}: {type(exc).__name__}"
                ) from None

    def versions(self) -> list[RootKeyVersion]:
        with _LOCK:
            self._session()
            self._refresh()
            current = max(self._shared.keys, default=0)
            return [
                RootKeyVersion(v, "active" if v == current else "enabled")
                for v in sorted(self._shared.keys)
            ]

    def close(self) -> None:
        with _LOCK:
            if self._closed:
                return
            self._closed = True
            _detach(self._key, self._shared)

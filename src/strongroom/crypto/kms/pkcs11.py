"""The root key in a PKCS#11 HSM (SoftHSM2 in tests).

Each root key version is an AES-256 secret key generated *inside* the token: a token
object, private, sensitive and non-extractable, so its bytes never exist outside the
HSM. Versions are found by ``CKA_ID`` (``strongroom-root-v000001``, ...), never by
label: PKCS#11 labels are not unique.

How a version wraps depends on what the token offers: pkcs11_schemes.py has the three
schemes (AES-GCM in the token; AES key wrap with padding, RFC 5649; HMAC-SHA256 in the
token deriving a key per wrap for AES-GCM in software), their order and how each binds
the caller's ``context``, so a blob moved to another row fails authentication instead of
unwrapping. Before it makes a root version (create, rotate) it probes which schemes work
(the mechanism list read at login, then a trial with a throwaway session key, once per
login); the new version uses the first that does (or the one the settings force). The
scheme of an existing version is read from its own token object (key type and
capabilities), so old wraps never depend on the probe.

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
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
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
    WrappedKeyInvalid,
    WrappedKeyLenRange,
)

from strongroom.crypto.kms import pkcs11_schemes as wrapping
from strongroom.crypto.kms.base import RootKeyVersion
from strongroom.crypto.policy import KEY_BYTES
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
    WrappedKeyInvalid,
    WrappedKeyLenRange,
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
    #: The scheme of each version in ``keys``, read from its token object.
    schemes: dict[int, str] = field(default_factory=dict)
    #: Mechanisms the token's slot offers.
    offered: set[Mechanism] = field(default_factory=set)
    #: Probe results per scheme: None if it works, else why not.
    probed: dict[str, str | None] = field(default_factory=dict)


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
        try:
            offered = set(token.slot.get_mechanisms())
        except PKCS11Error:
            offered = set()  # the probe then names every mechanism as missing
        shared = _TokenSession(session, _digest(salt, pin), salt, offered=offered)
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
    shared.schemes.clear()
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


def _require_hsm_born(obj: Any, version: int, token_label: str) -> str:
    """The scheme of a root key object that has every required attribute; else refuse."""
    for attribute, wanted in _REQUIRED.items():
        if obj[attribute] != wanted:
            raise KmsFailure(
                f"token {token_label!r}: the object for root key version {version} has "
                f"{attribute.name}={obj[attribute]!r}, not {wanted!r}; it was not generated "
                "inside the token as a non-extractable key, so Strongroom refuses to use it"
            )
    scheme = wrapping.scheme_of(obj)
    if scheme is None:
        raise KmsFailure(
            f"token {token_label!r}: the object for root key version {version} "
            f"({KeyType(obj[Attribute.KEY_TYPE]).name}) serves no one wrapping scheme "
            "(an AES key must either encrypt or wrap, a generic secret must sign)"
        )
    return scheme


class Pkcs11Kms:
    """Root key versions held by a PKCS#11 token. See the module docstring."""

    backend = "pkcs11"
    for_development = False

    def __init__(self, module_path: str, token_label: str, pin: str, scheme: str = "auto") -> None:
        """Log in to the token; prefer :meth:`create` or :meth:`open`. ``scheme``: the
        wrapping scheme of new root versions, or "auto" for the first that works."""
        if scheme not in wrapping.CHOICES:
            raise ConfigurationError(
                f"unknown PKCS#11 wrapping scheme {scheme!r}; "
                f"use one of {', '.join(wrapping.CHOICES)}"
            )
        self._closed = True  # until logged in
        self._module_path = module_path
        self._token_label = token_label
        self._wanted = scheme
        with _LOCK:
            self._key, self._shared = _attach(module_path, token_label, pin)
            try:
                self._refresh()
            except BaseException:
                _detach(self._key, self._shared)
                raise
            self._closed = False

    @classmethod
    def create(
        cls, module_path: str, token_label: str, pin: str, scheme: str = "auto"
    ) -> Pkcs11Kms:
        """Generate root key version 1 in a token that holds none, with the first wrapping
        scheme the token supports (or ``scheme``); refuse at once if it supports none."""
        kms = cls(module_path, token_label, pin, scheme)
        try:
            with _LOCK:
                existing = sorted(kms._shared.keys)
                if existing:
                    raise ConfigurationError(
                        f"PKCS#11 token {token_label!r} already holds a Strongroom root key "
                        f"(versions {existing})"
                    )
                kms._generate(1)
        except BaseException:
            kms.close()
            raise
        return kms

    @classmethod
    def open(cls, module_path: str, token_label: str, pin: str, scheme: str = "auto") -> Pkcs11Kms:
        """Use the root key already in the token."""
        kms = cls(module_path, token_label, pin, scheme)
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
        found_schemes: dict[int, str] = {}
        try:
            for obj in self._shared.session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY}):
                match = _ID_PATTERN.match(bytes(obj[Attribute.ID]))
                if match is None:
                    continue
                version = int(match.group(1))
                found_schemes[version] = _require_hsm_born(obj, version, self._token_label)
                if version in found:
                    raise KmsFailure(
                        f"token {self._token_label!r} holds two objects for root key "
                        f"version {version}"
                    )
                found[version] = obj
        except PKCS11Error as exc:
            raise KmsFailure(f"PKCS#11 object search failed: {type(exc).__name__}") from None
        self._shared.keys = found
        self._shared.schemes = found_schemes

    def _probed(self, scheme: str) -> str | None:
        """None if ``scheme`` works on this token, else why not (probed once per login)."""
        shared = self._shared
        if scheme not in shared.probed:
            try:
                wrapping.probe(shared.session, shared.offered, scheme)
                shared.probed[scheme] = None
            except wrapping.Refused as refused:
                shared.probed[scheme] = str(refused)
        return shared.probed[scheme]

    def _new_scheme(self) -> str:
        """The scheme for a new root version; refuse, naming what is missing, if none works."""
        candidates = wrapping.SCHEMES if self._wanted == "auto" else (self._wanted,)
        reasons = []
        for scheme in candidates:
            reason = self._probed(scheme)
            if reason is None:
                return scheme
            reasons.append(reason)
        what = (
            "offers no wrapping scheme Strongroom can use"
            if self._wanted == "auto"
            else f"cannot serve the wrapping scheme {self._wanted}"
        )
        raise ConfigurationError(
            f"PKCS#11 token {self._token_label!r} {what}: " + "; ".join(reasons)
        )

    def _generate(self, version: int) -> None:
        if version > _MAX_VERSION:
            raise KmsFailure(f"root key versions are exhausted (at most {_MAX_VERSION})")
        scheme = self._new_scheme()
        ident = _ID_FORMAT % version
        try:
            obj = wrapping.generate(self._session(), scheme, store=True, ident=ident)
        except PKCS11Error as exc:
            raise KmsFailure(
                f"PKCS#11 key generation for the {scheme} scheme failed: {type(exc).__name__}"
            ) from None
        try:
            made = _require_hsm_born(obj, version, self._token_label)
            if made != scheme:
                raise KmsFailure(
                    f"token {self._token_label!r} made root key version {version} for {made}, "
                    f"not {scheme}"
                )
        except KmsFailure as refused:
            with contextlib.suppress(PKCS11Error):
                obj.destroy()
            raise ConfigurationError(str(refused)) from None
        self._shared.keys[version] = obj
        self._shared.schemes[version] = scheme

    def _current(self) -> int:
        self._session()
        if not self._shared.keys:
            raise KeyUnavailable("the root key has no usable version")
        return max(self._shared.keys)

    # -- RootKms ----------------------------------------------------------------------

    def current_version(self) -> int:
        with _LOCK:
            return self._current()

    @property
    def scheme(self) -> str:
        """The wrapping scheme of the current root version."""
        with _LOCK:
            return self._shared.schemes[self._current()]

    def schemes(self) -> dict[int, str]:
        """The wrapping scheme of each root version."""
        with _LOCK:
            self._session()
            self._refresh()
            return dict(sorted(self._shared.schemes.items()))

    def wrap(self, key: SecretKey, context: bytes) -> tuple[int, bytes]:
        with _LOCK:
            # Wraps are rare (a workspace, a backup): reread the token first, so a version
            # made by another process is used and one a shred epoch destroyed is not.
            self._session()
            self._refresh()
            version = self._current()
            scheme = self._shared.schemes[version]
            try:
                sealed = wrapping.wrap(
                    self._shared.session, scheme, self._shared.keys[version], key.reveal(), context
                )
            except _GONE:
                self._refresh()
                raise KeyUnavailable(f"root key version {version} was destroyed") from None
            except PKCS11Error as exc:
                raise KmsFailure(f"PKCS#11 wrap failed: {type(exc).__name__}") from None
        return version, sealed

    def unwrap(self, version: int, wrapped: bytes, context: bytes, label: str) -> SecretKey:
        gone = KeyUnavailable(f"root key version {version} is destroyed or unknown")
        with _LOCK:
            self._session()
            if version not in self._shared.keys:
                self._refresh()
            root = self._shared.keys.get(version)
            if root is None:
                raise gone
            scheme = self._shared.schemes[version]
            try:
                material = wrapping.unwrap(self._shared.session, scheme, root, wrapped, context)
            except (wrapping.Unauthentic, *_AUTH_FAILED):
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

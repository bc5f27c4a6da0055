"""The interface every root-key backend implements, and the software AES-GCM wrap
shared by the ``local`` and ``memory`` backends."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from strongroom.crypto.policy import NONCE_BYTES
from strongroom.crypto.secret import SecretKey
from strongroom.errors import IntegrityFailure, KeyUnavailable


@dataclass(frozen=True, slots=True)
class RootKeyVersion:
    version: int
    state: str  # "active" (wraps new keys), "enabled" (unwraps only), "destroyed"


class RootKms(Protocol):
    """A root key with versions, held by a KMS or HSM."""

    backend: str
    for_development: bool

    def current_version(self) -> int: ...

    def wrap(self, key: SecretKey, context: bytes) -> tuple[int, bytes]:
        """Wrap ``key`` under the current version; ``context`` is authenticated."""
        ...

    def unwrap(self, version: int, wrapped: bytes, context: bytes, label: str) -> SecretKey: ...

    def rotate(self) -> int:
        """Create a new version, make it current, return its number."""
        ...

    def destroy_version(self, version: int) -> None:
        """Destroy a non-current version inside the backend. Irreversible."""
        ...

    def versions(self) -> list[RootKeyVersion]: ...

    def close(self) -> None: ...


@runtime_checkable
class Rewrapping(Protocol):
    """A backend that moves a wrapped key to its current version without the key
    leaving it (Transit ``rewrap``, AWS KMS ``ReEncrypt``)."""

    def rewrap(
        self, version: int, wrapped: bytes, context: bytes, label: str
    ) -> tuple[int, bytes]: ...


@runtime_checkable
class WrapSchemes(Protocol):
    """A backend whose root versions may wrap by different schemes (pkcs11), named per
    version for ``keys status``."""

    def schemes(self) -> dict[int, str]: ...


def rewrap(
    kms: RootKms, version: int, wrapped: bytes, context: bytes, label: str
) -> tuple[int, bytes]:
    """``wrapped`` under the current root version: inside the backend where it can, else
    unwrapped and wrapped again here."""
    if isinstance(kms, Rewrapping):
        return kms.rewrap(version, wrapped, context, label)
    return kms.wrap(kms.unwrap(version, wrapped, context, label), context)


class SoftwareRoot:
    """Root key versions held as bytes by this process (``local`` and ``memory``)."""

    backend = "software"
    for_development = True

    def __init__(self, keys: dict[int, SecretKey]) -> None:
        self._keys = dict(keys)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(versions={sorted(self._keys)})"

    def current_version(self) -> int:
        if not self._keys:
            raise KeyUnavailable("the root key has no usable version")
        return max(self._keys)

    def wrap(self, key: SecretKey, context: bytes) -> tuple[int, bytes]:
        version = self.current_version()
        nonce = os.urandom(NONCE_BYTES)
        return version, nonce + AESGCM(self._keys[version].reveal()).encrypt(
            nonce, key.reveal(), context
        )

    def unwrap(self, version: int, wrapped: bytes, context: bytes, label: str) -> SecretKey:
        root = self._keys.get(version)
        if root is None:
            raise KeyUnavailable(f"root key version {version} is destroyed or unknown")
        try:
            material = AESGCM(root.reveal()).decrypt(
                wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], context
            )
        except InvalidTag:
            raise IntegrityFailure(f"wrapped key {label} failed authentication") from None
        return SecretKey(material, label)

    def _add_version(self, version: int, key: SecretKey) -> None:
        self._keys[version] = key

    def rotate(self) -> int:
        version = max(self._keys, default=0) + 1
        self._add_version(version, SecretKey.generate(f"root-v{version}"))
        return version

    def destroy_version(self, version: int) -> None:
        if version == self.current_version():
            raise KeyUnavailable("the current root key version cannot be destroyed; rotate first")
        self._keys.pop(version, None)

    def versions(self) -> list[RootKeyVersion]:
        current = self.current_version() if self._keys else 0
        return [
            RootKeyVersion(v, "active" if v == current else "enabled") for v in sorted(self._keys)
        ]

    def close(self) -> None:
        self._keys.clear()

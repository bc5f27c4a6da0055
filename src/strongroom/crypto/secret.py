"""A holder of key material that never shows it."""

from __future__ import annotations

import hmac
import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from strongroom.crypto.policy import KEY_BYTES


class SecretKey:
    """256 bits of key material with a label.

    ``repr``, ``str`` and pickling never reveal the bytes; :meth:`reveal` is the one
    explicit way to reach them, for the crypto code that must.
    """

    __slots__ = ("_material", "label")

    def __init__(self, material: bytes, label: str) -> None:
        if len(material) != KEY_BYTES:
            raise ValueError(f"a key is {KEY_BYTES} bytes")
        self._material = bytes(material)
        self.label = label

    @classmethod
    def generate(cls, label: str) -> SecretKey:
        return cls(secrets.token_bytes(KEY_BYTES), label)

    def derive(self, purpose: str) -> bytes:
        """A 32-byte key for one ``purpose`` (HKDF-SHA256): independent of this key and of
        every other purpose's."""
        info = b"strongroom/v1/derived/" + purpose.encode("utf-8")
        return HKDF(hashes.SHA256(), 32, salt=None, info=info).derive(self._material)

    def reveal(self) -> bytes:
        return self._material

    def __repr__(self) -> str:
        return f"SecretKey(label={self.label!r}, material=<redacted>)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SecretKey):
            return NotImplemented
        return hmac.compare_digest(self._material, other._material)

    def __hash__(self) -> int:
        return hash(self.label)

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("SecretKey cannot be pickled")

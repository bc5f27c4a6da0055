"""Blind indexes: equality search on personal-data fields without decryption.

The digest of a value is HMAC-SHA256 of its canonical form under a key derived
(HKDF-SHA256) from the workspace's data key, truncated to BLIND_INDEX_BYTES. Records'
personal fields are keyed per kind (``kind_digest``: the canonical forms are
domain/personal.py's), so the same email in any email field of any collection of one
workspace has one digest and a privacy request finds it everywhere; across workspaces
digests differ. The user directory and the sign-in counters key theirs per field name
(``digest``, with ``normalise`` below).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from strongroom.crypto.policy import BLIND_INDEX_BYTES
from strongroom.crypto.secret import SecretKey

_SPACE = re.compile(r"\s+")
_PHONE_KEEP = re.compile(r"[^0-9+]")


def normalise(field: str, value: str) -> str:
    """Canonical form of a personal-data value. STORED: a change breaks existing indexes."""
    text = _SPACE.sub(" ", unicodedata.normalize("NFKC", value)).strip()
    if field == "phone" or field.endswith("_phone"):
        # Any script's decimal digits count as those digits; then keep digits and "+".
        digits = "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)
        return _PHONE_KEEP.sub("", digits)
    if field == "email" or field.endswith("_email"):
        return text.lower()  # lower, not casefold: "straße@" and "strasse@" differ
    return text.casefold()


class BlindIndexer:
    def __init__(self, workspace_data_key: SecretKey) -> None:
        self._root = workspace_data_key
        self._field_keys: dict[str, bytes] = {}

    def __repr__(self) -> str:
        return "BlindIndexer(<redacted>)"

    def _key(self, field: str) -> bytes:
        key = self._field_keys.get(field)
        if key is None:
            info = b"strongroom/v1/blind-index/" + field.encode("utf-8")
            key = HKDF(hashes.SHA256(), 32, salt=None, info=info).derive(self._root.reveal())
            self._field_keys[field] = key
        return key

    def kind_digest(self, kind: str, canonical: str) -> bytes:
        """The digest of a value already in its kind's canonical form (domain/personal.py),
        under the key of that kind: one lookup finds it in every field of the kind. (Field
        names cannot hold ':', so no field's key is a kind's.)"""
        text = canonical.encode("utf-8")
        return hmac.new(self._key("kind:" + kind), text, hashlib.sha256).digest()[
            :BLIND_INDEX_BYTES
        ]

    def digest(self, field: str, value: str) -> bytes:
        text = normalise(field, value).encode("utf-8")
        return hmac.new(self._key(field), text, hashlib.sha256).digest()[:BLIND_INDEX_BYTES]

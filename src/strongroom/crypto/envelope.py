"""Sealed objects: AES-256-GCM under a key derived per write from a data key.

A sealed object is ``header || ciphertext+tag``. The header is versioned and carries
what is needed to find and derive the key; it is authenticated as associated data
together with the object's :class:`Binding` (workspace, project, object id, purpose),
so a header edit or a ciphertext moved to another row fails to open.

Header layout (format version 1; STORED, see policy.FORMAT_VERSION)::

    magic "SR" | version u8 | kind u8 | key-id length u8 | key id (ASCII) | key version u32
    kind OBJECT: salt[16] | nonce[12]
    kind STREAM: salt[16] | nonce prefix[7] | segment size u32     (see segments.py)
"""

from __future__ import annotations

import functools
import os
import struct
from collections.abc import Callable, Hashable
from typing import NamedTuple, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from strongroom.crypto.policy import (
    FORMAT_VERSION,
    MAX_OBJECTS_PER_DERIVED_KEY,
    NONCE_BYTES,
    SALT_BYTES,
    TAG_BYTES,
)
from strongroom.crypto.secret import SecretKey
from strongroom.errors import IntegrityFailure

MAGIC = b"SR"
KIND_OBJECT = 1
KIND_STREAM = 2
STREAM_NONCE_PREFIX_BYTES = 7

#: HKDF info label for per-write keys. STORED.
_DERIVE_INFO = b"strongroom/v1/object-key"

KeyLookup = Callable[[str, int], SecretKey]


class DerivedKeys(Protocol):
    """A cache of per-write derived keys (see Keyring.derived)."""

    def get(self, name: Hashable) -> AESGCM | None: ...

    def put(self, name: Hashable, aead: AESGCM, key_id: str, key_version: int) -> None: ...


class Binding(NamedTuple):
    """Where a ciphertext belongs; authenticated with it, never stored in it. (A named
    tuple: one is made for every object sealed or opened.)"""

    purpose: str
    workspace_id: str
    project_id: str
    object_id: str

    def encode(self) -> bytes:
        raw = self.object_id.encode("utf-8")
        return _binding_prefix(self.purpose, self.workspace_id, self.project_id) + (
            struct.pack(">H", len(raw)) + raw
        )


@functools.lru_cache(maxsize=4096)
def _binding_prefix(purpose: str, workspace_id: str, project_id: str) -> bytes:
    """The part of a binding shared by every object of a project (cached: a batch of
    records encodes it once)."""
    out = bytearray(b"strongroom/binding/v1")
    for part in (purpose, workspace_id, project_id):
        raw = part.encode("utf-8")
        out += struct.pack(">H", len(raw)) + raw
    return bytes(out)


class Header(NamedTuple):
    kind: int
    key_id: str
    key_version: int
    salt: bytes
    nonce: bytes  # OBJECT: the nonce; STREAM: the nonce prefix
    segment_size: int = 0
    length: int = 0  # bytes the header occupies

    def encode(self) -> bytes:
        key_id = self.key_id.encode("ascii")
        out = MAGIC + struct.pack(">BBB", FORMAT_VERSION, self.kind, len(key_id)) + key_id
        out += struct.pack(">I", self.key_version) + self.salt + self.nonce
        if self.kind == KIND_STREAM:
            out += struct.pack(">I", self.segment_size)
        return out


def _fixed_part_length(kind: int) -> int:
    if kind == KIND_OBJECT:
        return 4 + SALT_BYTES + NONCE_BYTES
    if kind == KIND_STREAM:
        return 4 + SALT_BYTES + STREAM_NONCE_PREFIX_BYTES + 4
    raise IntegrityFailure("ciphertext header names an unknown kind")


def parse_header(read: Callable[[int], bytes]) -> Header:
    """Parse a header from a reader of exact byte counts; raise IntegrityFailure if bad."""
    start = read(5)
    return _decode_header(start, read(_rest_length(start)))


def _rest_length(start: bytes) -> int:
    """Check the first five header bytes; return how many header bytes follow."""
    if len(start) != 5 or start[:2] != MAGIC:
        raise IntegrityFailure("not a Strongroom ciphertext (bad magic)")
    if start[2] != FORMAT_VERSION:
        raise IntegrityFailure(f"unsupported ciphertext format version {start[2]}")
    return start[4] + _fixed_part_length(start[3])


def _decode_header(start: bytes, rest: bytes) -> Header:
    kind, id_len = start[3], start[4]
    rest_len = id_len + _fixed_part_length(kind)
    if len(rest) != rest_len:
        raise IntegrityFailure("ciphertext header is truncated")
    try:
        key_id = rest[:id_len].decode("ascii")
    except UnicodeDecodeError:
        raise IntegrityFailure("ciphertext header has a malformed key id") from None
    pos = id_len
    (key_version,) = struct.unpack_from(">I", rest, pos)
    pos += 4
    salt = rest[pos : pos + SALT_BYTES]
    pos += SALT_BYTES
    segment_size = 0
    if kind == KIND_OBJECT:
        nonce = rest[pos : pos + NONCE_BYTES]
    else:
        nonce = rest[pos : pos + STREAM_NONCE_PREFIX_BYTES]
        (segment_size,) = struct.unpack_from(">I", rest, pos + STREAM_NONCE_PREFIX_BYTES)
    return Header(kind, key_id, key_version, salt, nonce, segment_size, 5 + rest_len)


def derive_key(data_key: SecretKey, salt: bytes) -> AESGCM:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=_DERIVE_INFO)
    return AESGCM(hkdf.derive(data_key.reveal()))


class Sealer:
    """Seals the objects of one write operation.

    One key is derived from the data key with a fresh random salt; each object gets
    its own random nonce and binding. After MAX_OBJECTS_PER_DERIVED_KEY objects a new
    salt and key are derived, so no derived key comes near the GCM nonce limit.
    """

    def __init__(self, data_key: SecretKey, key_id: str, key_version: int) -> None:
        self._data_key = data_key
        self._key_id = key_id
        self._key_version = key_version
        self._uses = MAX_OBJECTS_PER_DERIVED_KEY
        self._header_prefix = b""  # the header up to the nonce, fixed per derived key
        self._aead: AESGCM | None = None
        self._random = b""  # nonces are drawn from the OS in blocks, not a syscall each
        self._taken = 0

    def __repr__(self) -> str:
        return f"Sealer(key_id={self._key_id!r}, key_version={self._key_version})"

    def _next_key(self) -> AESGCM:
        if self._aead is None or self._uses >= MAX_OBJECTS_PER_DERIVED_KEY:
            salt = os.urandom(SALT_BYTES)
            self._aead = derive_key(self._data_key, salt)
            header = Header(KIND_OBJECT, self._key_id, self._key_version, salt, bytes(NONCE_BYTES))
            self._header_prefix = header.encode()[:-NONCE_BYTES]
            self._uses = 0
        self._uses += 1
        return self._aead

    def seal(self, binding: Binding, plaintext: bytes) -> bytes:
        aead = self._next_key()
        if self._taken >= len(self._random):
            self._random, self._taken = os.urandom(NONCE_BYTES * 256), 0
        nonce = self._random[self._taken : self._taken + NONCE_BYTES]
        self._taken += NONCE_BYTES
        header = self._header_prefix + nonce
        return header + aead.encrypt(nonce, plaintext, header + binding.encode())


def seal(
    data_key: SecretKey, key_id: str, key_version: int, binding: Binding, data: bytes
) -> bytes:
    """Seal one object."""
    return Sealer(data_key, key_id, key_version).seal(binding, data)


#: Where the nonce starts, past the key id: magic, version, kind, key-id length (5 bytes),
#: then after the key id its version (4) and the salt.
_NONCE_PAST_KEY_ID = 5 + 4 + SALT_BYTES


def open_sealed(
    sealed: bytes,
    binding: Binding,
    key_for: KeyLookup,
    *,
    expected_key_id: str | None = None,
    derived: DerivedKeys | None = None,
) -> bytes:
    """Authenticate and decrypt; IntegrityFailure on any tampering or misplacement.

    ``expected_key_id`` refuses a header naming another key. ``derived`` caches derived
    keys by the header bytes before the nonce (the same for every object of one write):
    a hit skips parsing the header and the HKDF. Either way the whole header is
    authenticated as associated data, so a cached entry cannot vouch for altered bytes.
    """
    if not isinstance(sealed, bytes):
        raise IntegrityFailure(f"ciphertext of {binding.purpose} {binding.object_id} is not binary")
    if derived is not None and len(sealed) > 5:  # the hit first: the read path's case
        nonce_at = sealed[4] + _NONCE_PAST_KEY_ID
        aead = derived.get((expected_key_id, sealed[:nonce_at]))
        if aead is None:
            aead, nonce_at = _derive(sealed, binding, key_for, expected_key_id, derived)
    else:
        aead, nonce_at = _derive(sealed, binding, key_for, expected_key_id, derived)
    body_at = nonce_at + NONCE_BYTES
    if len(sealed) - body_at < TAG_BYTES:
        raise IntegrityFailure("ciphertext is truncated")
    try:
        return aead.decrypt(
            sealed[nonce_at:body_at], sealed[body_at:], sealed[:body_at] + binding.encode()
        )
    except InvalidTag:
        raise IntegrityFailure(
            f"ciphertext of {binding.purpose} {binding.object_id} failed authentication",
            object_id=binding.object_id,
        ) from None


def _derive(
    sealed: bytes,
    binding: Binding,
    key_for: KeyLookup,
    expected_key_id: str | None,
    derived: DerivedKeys | None,
) -> tuple[AESGCM, int]:
    """The derived key of a sealed object from its header (cached in ``derived``), and
    where its nonce starts."""
    header = header_of(sealed)
    if header.kind != KIND_OBJECT:
        raise IntegrityFailure("ciphertext is a stream, not an object")
    if expected_key_id is not None and header.key_id != expected_key_id:
        raise IntegrityFailure(
            f"ciphertext of {binding.purpose} {binding.object_id} names another key",
            object_id=binding.object_id,
        )
    aead = derive_key(key_for(header.key_id, header.key_version), header.salt)
    nonce_at = header.length - NONCE_BYTES
    if derived is not None:
        derived.put((expected_key_id, sealed[:nonce_at]), aead, header.key_id, header.key_version)
    return aead, nonce_at


def header_of(sealed: bytes) -> Header:
    """The header at the start of a sealed object."""
    start = sealed[:5]
    rest = sealed[5 : 5 + _rest_length(start)]
    return _decode_header(start, rest)

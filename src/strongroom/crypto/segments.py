"""Files as authenticated segments, streamed in constant memory.

A stream is ``header || segment_0 || ... || segment_n``. Each segment is the
AES-256-GCM encryption of up to ``segment_size`` plaintext bytes under a key derived
for this file (fresh salt), with the nonce::

    nonce prefix[7] (random, in the header) | segment number u32 | last flag u8

so the segment number and the last-segment flag are authenticated: dropping,
reordering, duplicating or truncating segments fails, as does appending after the
last one. The header and the binding are the associated data of every segment.
An empty file is one empty last segment.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag

from strongroom.crypto.envelope import (
    KIND_STREAM,
    STREAM_NONCE_PREFIX_BYTES,
    Binding,
    Header,
    KeyLookup,
    derive_key,
    parse_header,
)
from strongroom.crypto.policy import (
    FILE_SEGMENT_BYTES,
    MAX_FILE_SEGMENT_BYTES,
    SALT_BYTES,
    TAG_BYTES,
)
from strongroom.crypto.secret import SecretKey
from strongroom.errors import IntegrityFailure

#: Segment numbers are 32-bit: at 64 KiB a file can reach 256 TiB.
MAX_SEGMENTS = 2**32

#: Streams are read this many bytes at a time (rounded down to whole segments): how much
#: is read per system call, not how the stream is cut (that is ``segment_size``).
READ_BLOCK_BYTES = 1024 * 1024


def _nonce(prefix: bytes, number: int, last: bool) -> bytes:
    return prefix + struct.pack(">IB", number, 1 if last else 0)


def _read_full(src: BinaryIO, n: int) -> bytes:
    """Read exactly n bytes unless the stream ends first (raw streams may return less)."""
    data = src.read(n)
    if len(data) == n or not data:
        return data
    parts = [data]
    got = len(data)
    while got < n:
        more = src.read(n - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


def encrypt_stream(
    src: BinaryIO,
    write: Callable[[bytes], object],
    data_key: SecretKey,
    key_id: str,
    key_version: int,
    binding: Binding,
    segment_size: int = FILE_SEGMENT_BYTES,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Encrypt everything ``src`` yields into ``write``; return the plaintext size."""
    if not 0 < segment_size <= MAX_FILE_SEGMENT_BYTES:
        raise ValueError(f"segment size must be 1 to {MAX_FILE_SEGMENT_BYTES} bytes")
    prefix = os.urandom(STREAM_NONCE_PREFIX_BYTES)
    salt = os.urandom(SALT_BYTES)
    header = Header(KIND_STREAM, key_id, key_version, salt, prefix, segment_size).encode()
    aad = header + binding.encode()
    aead = derive_key(data_key, salt)
    write(header)
    total = 0
    for number, (piece, last) in enumerate(_pieces(src, segment_size)):
        if number >= MAX_SEGMENTS:
            raise IntegrityFailure("file too large for one stream")
        write(aead.encrypt(_nonce(prefix, number, last), piece, aad))
        total += len(piece)
        if on_progress is not None:
            on_progress(len(piece))
    return total


def _pieces(src: BinaryIO, size: int) -> Iterator[tuple[memoryview, bool]]:
    """``src`` cut into pieces of ``size`` bytes (the last one may be shorter), each with
    whether it is the last; an empty source is one empty last piece.

    The source is read a block of several pieces at a time (a system call per block, not
    per piece) and the pieces are views into the block, never copies. A block is cut up
    only once the next one has been read, so the last piece is known to be last."""
    block = size * max(1, READ_BLOCK_BYTES // size)
    current = _read_full(src, block)
    while True:
        following = _read_full(src, block) if len(current) == block else b""
        view = memoryview(current)
        starts = range(0, len(current), size) if current else range(1)
        for start in starts:
            yield view[start : start + size], not following and start + size >= len(current)
        if not following:
            return
        current = following


def iter_decrypt(src: BinaryIO, binding: Binding, key_for: KeyLookup) -> Iterator[bytes]:
    """Yield the plaintext of a stream segment by segment, each only once it has
    authenticated; IntegrityFailure on any tampering. What was yielded before a failure
    must be discarded by the consumer (a file is renamed into place only at the end; an
    HTTP download is cut off, never completed)."""
    header = parse_header(lambda n: _read_full(src, n))
    if header.kind != KIND_STREAM:
        raise IntegrityFailure("ciphertext is an object, not a stream")
    if not 0 < header.segment_size <= MAX_FILE_SEGMENT_BYTES:
        raise IntegrityFailure("stream header claims an impossible segment size")
    aad = header.encode() + binding.encode()
    aead = derive_key(key_for(header.key_id, header.key_version), header.salt)
    for number, (sealed, last) in enumerate(_pieces(src, header.segment_size + TAG_BYTES)):
        try:
            plain = aead.decrypt(_nonce(header.nonce, number, last), sealed, aad)
        except InvalidTag:
            raise IntegrityFailure(
                f"segment {number} of {binding.purpose} {binding.object_id} failed authentication",
                object_id=binding.object_id,
            ) from None
        yield plain


def decrypt_stream(
    src: BinaryIO,
    write: Callable[[bytes], object],
    binding: Binding,
    key_for: KeyLookup,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Decrypt a stream into ``write``; return the plaintext size (see iter_decrypt)."""
    total = 0
    for plain in iter_decrypt(src, binding, key_for):
        write(plain)
        total += len(plain)
        if on_progress is not None:
            on_progress(len(plain))
    return total


def ciphertext_size(
    plaintext_size: int, key_id: str, segment_size: int = FILE_SEGMENT_BYTES
) -> int:
    """Bytes a stream of this plaintext size occupies."""
    segments = max(1, -(-plaintext_size // segment_size))
    header = 5 + len(key_id) + 4 + SALT_BYTES + STREAM_NONCE_PREFIX_BYTES + 4
    return header + plaintext_size + segments * TAG_BYTES

"""Segmented stream encryption for a producer that pushes bytes (a ZIP writer) rather
than a source to pull from. The output is exactly what :func:`segments.encrypt_stream`
makes, so :func:`segments.iter_decrypt` reads it.

Holds at most one segment (plus the last write) of plaintext.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from strongroom.crypto.envelope import (
    KIND_STREAM,
    STREAM_NONCE_PREFIX_BYTES,
    Binding,
    Header,
    derive_key,
)
from strongroom.crypto.policy import FILE_SEGMENT_BYTES, SALT_BYTES
from strongroom.crypto.secret import SecretKey
from strongroom.crypto.segments import MAX_SEGMENTS, _nonce
from strongroom.errors import IntegrityFailure


class SegmentWriter:
    """``write`` plaintext, then ``close`` once: ciphertext goes to ``out`` as segments
    fill. A segment is sealed only once more data follows it, so the last one carries the
    last-segment flag (an empty stream is one empty last segment)."""

    def __init__(
        self,
        out: Callable[[bytes], object],
        data_key: SecretKey,
        key_id: str,
        key_version: int,
        binding: Binding,
        segment_size: int = FILE_SEGMENT_BYTES,
    ) -> None:
        self._out = out
        self._size = segment_size
        self._prefix = os.urandom(STREAM_NONCE_PREFIX_BYTES)
        salt = os.urandom(SALT_BYTES)
        header = Header(KIND_STREAM, key_id, key_version, salt, self._prefix, segment_size)
        encoded = header.encode()
        self._aad = encoded + binding.encode()
        self._aead = derive_key(data_key, salt)
        self._buffer = bytearray()
        self._number = 0
        self._closed = False
        out(encoded)

    def write(self, data: bytes) -> int:
        if self._closed:
            raise ValueError("write after close")
        self._buffer += data
        size = self._size
        ready = (len(self._buffer) - 1) // size  # whole segments that more data follows
        if ready:  # sealed from views of the buffer, then dropped from it in one move
            with memoryview(self._buffer) as view:
                for start in range(0, ready * size, size):
                    self._seal(view[start : start + size], last=False)
            del self._buffer[: ready * size]
        return len(data)

    def close(self) -> None:
        if not self._closed:
            self._seal(self._buffer, last=True)
            self._buffer.clear()
            self._closed = True

    def _seal(self, plain: bytes | bytearray | memoryview, last: bool) -> None:
        if self._number >= MAX_SEGMENTS:
            raise IntegrityFailure("stream too large")
        self._out(self._aead.encrypt(_nonce(self._prefix, self._number, last), plain, self._aad))
        self._number += 1

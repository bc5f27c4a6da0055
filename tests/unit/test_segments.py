"""Files as authenticated segments (crypto/segments.py).

Small segment sizes keep these fast; the guarantees do not depend on the size.
"""

from __future__ import annotations

import io
import os

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from strongroom.crypto import policy
from strongroom.crypto.envelope import Binding, KeyLookup, header_of, open_sealed, seal
from strongroom.crypto.secret import SecretKey
from strongroom.crypto.segments import (
    READ_BLOCK_BYTES,
    ciphertext_size,
    decrypt_stream,
    encrypt_stream,
)
from strongroom.errors import IntegrityFailure

KEY = SecretKey(bytes(range(32)), "dk-test")
OTHER_KEY = SecretKey(bytes(range(50, 82)), "dk-other")
KEY_ID = "prj_files"
BINDING = Binding("file", "ws_aaaa", "prj_bbbb", "fil_cccc")
SEG = 16
TAG = policy.TAG_BYTES


def any_key(_key_id: str, _version: int) -> SecretKey:
    return KEY


def encrypt(
    data: bytes, segment_size: int = SEG, binding: Binding = BINDING, key: SecretKey = KEY
) -> bytes:
    out = io.BytesIO()
    size = encrypt_stream(io.BytesIO(data), out.write, key, KEY_ID, 1, binding, segment_size)
    assert size == len(data)
    return out.getvalue()


def decrypt(blob: bytes, binding: Binding = BINDING, key_for: KeyLookup = any_key) -> bytes:
    out = io.BytesIO()
    size = decrypt_stream(io.BytesIO(blob), out.write, binding, key_for)
    assert size == len(out.getvalue())
    return out.getvalue()


def split(blob: bytes) -> tuple[bytes, list[bytes]]:
    """Header and segments (ciphertext+tag chunks) of a stream."""
    header = header_of(blob)
    chunk = header.segment_size + TAG
    body = blob[header.length :]
    return blob[: header.length], [body[i : i + chunk] for i in range(0, len(body), chunk)]


def join(header: bytes, segments: list[bytes]) -> bytes:
    return header + b"".join(segments)


def data_of(n: int) -> bytes:
    return bytes((i * 7 + 3) % 256 for i in range(n))


# round trip and sizes --------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=5 * 64), segment_size=st.sampled_from([16, 64]))
@example(data=b"", segment_size=16)
@example(data=data_of(16), segment_size=16)
@example(data=data_of(48), segment_size=16)
@example(data=data_of(128), segment_size=64)
@example(data=data_of(17), segment_size=16)
def test_round_trip_and_ciphertext_size(data: bytes, segment_size: int) -> None:
    blob = encrypt(data, segment_size)
    assert len(blob) == ciphertext_size(len(data), KEY_ID, segment_size)
    assert decrypt(blob) == data
    _header, segments = split(blob)
    assert len(segments) == max(1, -(-len(data) // segment_size))


@pytest.mark.parametrize("n", [0, 1, 15, 16, 17, 32, 33, 100])
def test_segment_count_and_size_for_boundary_lengths(n: int) -> None:
    blob = encrypt(data_of(n))
    _header, segments = split(blob)
    expected = max(1, -(-n // SEG))
    assert len(segments) == expected
    assert all(len(s) == SEG + TAG for s in segments[:-1])
    assert len(segments[-1]) == (n - (expected - 1) * SEG) + TAG
    assert decrypt(blob) == data_of(n)


def test_default_segment_size_round_trip_and_size() -> None:
    data = data_of(policy.FILE_SEGMENT_BYTES * 2 + 5)
    out = io.BytesIO()
    encrypt_stream(io.BytesIO(data), out.write, KEY, KEY_ID, 1, BINDING)
    assert len(out.getvalue()) == ciphertext_size(len(data), KEY_ID)
    assert header_of(out.getvalue()).segment_size == policy.FILE_SEGMENT_BYTES
    assert decrypt(out.getvalue()) == data


@pytest.mark.parametrize("segment_size", [policy.FILE_SEGMENT_BYTES, 100_000])
@pytest.mark.parametrize("beyond", [-1, 0, 1])
def test_a_file_of_several_read_blocks_round_trips_whole(segment_size: int, beyond: int) -> None:
    """Streams are read a block of whole segments at a time (about a MiB): a file of two
    blocks and a byte less, exactly two, or a byte more comes back whole, every segment
    where it belongs (the last one marked last at a block's end too)."""
    block = segment_size * (READ_BLOCK_BYTES // segment_size)
    data = os.urandom(2 * block + beyond)
    out = io.BytesIO()
    encrypt_stream(io.BytesIO(data), out.write, KEY, KEY_ID, 1, BINDING, segment_size)
    blob = out.getvalue()
    assert len(blob) == ciphertext_size(len(data), KEY_ID, segment_size)
    assert decrypt(blob) == data


class TrickleReader(io.RawIOBase):
    """A source that hands out a few bytes per read, like a pipe or socket."""

    def __init__(self, data: bytes, sizes: list[int]) -> None:
        self._data = data
        self._sizes = sizes or [1]
        self._pos = 0
        self._n = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        step = self._sizes[self._n % len(self._sizes)]
        self._n += 1
        take = len(self._data) - self._pos if n < 0 else min(n, step)
        chunk = self._data[self._pos : self._pos + take]
        self._pos += len(chunk)
        return chunk


@settings(max_examples=50, deadline=None)
@given(
    data=st.binary(max_size=100),
    sizes=st.lists(st.integers(min_value=1, max_value=20), min_size=1, max_size=5),
)
def test_short_reads_from_the_source_give_the_same_segmentation(
    data: bytes, sizes: list[int]
) -> None:
    out = io.BytesIO()
    encrypt_stream(TrickleReader(data, sizes), out.write, KEY, KEY_ID, 1, BINDING, SEG)  # type: ignore[arg-type]
    blob = out.getvalue()
    assert len(blob) == ciphertext_size(len(data), KEY_ID, SEG)
    plain = io.BytesIO()
    decrypt_stream(TrickleReader(blob, sizes), plain.write, BINDING, any_key)  # type: ignore[arg-type]
    assert plain.getvalue() == data


def test_progress_reports_add_up_to_the_size() -> None:
    data = data_of(50)
    seen: list[int] = []
    out = io.BytesIO()
    encrypt_stream(io.BytesIO(data), out.write, KEY, KEY_ID, 1, BINDING, SEG, seen.append)
    assert sum(seen) == 50 and all(0 < n <= SEG for n in seen)
    back: list[int] = []
    decrypt_stream(io.BytesIO(out.getvalue()), lambda _b: None, BINDING, any_key, back.append)
    assert back == seen


def test_ciphertext_does_not_contain_the_plaintext() -> None:
    data = b"confidential customer export " * 4
    blob = encrypt(data)
    assert b"confidential" not in blob


# constant memory -------------------------------------------------------------------------


class RecordingReader(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.requests: list[int] = []

    def read(self, n: int | None = -1) -> bytes:
        self.requests.append(-1 if n is None else n)
        return super().read(n)


def test_decryption_writes_segment_by_segment_and_reads_bounded_chunks() -> None:
    data = data_of(5 * SEG + 3)
    blob = encrypt(data)
    writes: list[bytes] = []
    src = RecordingReader(blob)
    decrypt_stream(src, writes.append, BINDING, any_key)
    assert len(writes) == 6
    assert all(len(w) <= SEG for w in writes)
    assert b"".join(writes) == data
    # never "read everything": each read is at most the header or one block of segments
    bound = max(READ_BLOCK_BYTES + TAG * (READ_BLOCK_BYTES // SEG), header_of(blob).length)
    assert all(0 <= n <= bound for n in src.requests)


def test_encryption_writes_segment_by_segment_and_reads_bounded_chunks() -> None:
    data = data_of(4 * SEG)
    writes: list[bytes] = []
    src = RecordingReader(data)
    encrypt_stream(src, writes.append, KEY, KEY_ID, 1, BINDING, SEG)
    assert len(writes) == 1 + 4  # the header, then one write per segment
    assert all(len(w) <= SEG + TAG for w in writes[1:])
    assert all(0 <= n <= READ_BLOCK_BYTES for n in src.requests)


def test_segments_before_a_tampered_one_are_written_then_the_failure_is_raised() -> None:
    blob = encrypt(data_of(3 * SEG))
    header, segments = split(blob)
    segments[2] = segments[2][:-1] + bytes([segments[2][-1] ^ 1])
    writes: list[bytes] = []
    with pytest.raises(IntegrityFailure, match="segment 2"):
        decrypt_stream(io.BytesIO(join(header, segments)), writes.append, BINDING, any_key)
    assert len(writes) == 2  # the caller discards these (see services.files)


# tampering -------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 5, 40, 48])
def test_flipping_any_byte_of_a_stream_is_an_integrity_failure(n: int) -> None:
    blob = encrypt(data_of(n))
    assert decrypt(blob) == data_of(n)
    for position in range(len(blob)):
        for mask in (0x01, 0x80):
            with pytest.raises(IntegrityFailure):
                decrypt(blob[:position] + bytes([blob[position] ^ mask]) + blob[position + 1 :])


@settings(max_examples=100, deadline=None)
@given(
    data=st.binary(min_size=1, max_size=200),
    where=st.floats(min_value=0, max_value=1, exclude_max=True),
    mask=st.integers(min_value=1, max_value=255),
)
def test_flipping_a_byte_anywhere_in_a_longer_stream_fails(
    data: bytes, where: float, mask: int
) -> None:
    blob = encrypt(data)
    position = int(where * len(blob))
    with pytest.raises(IntegrityFailure):
        decrypt(blob[:position] + bytes([blob[position] ^ mask]) + blob[position + 1 :])


@pytest.mark.parametrize("n", [48, 40])  # last segment full / partial
def test_dropping_the_last_segment_fails(n: int) -> None:
    header, segments = split(encrypt(data_of(n)))
    assert len(segments) == 3
    with pytest.raises(IntegrityFailure):
        decrypt(join(header, segments[:-1]))
    with pytest.raises(IntegrityFailure):
        decrypt(join(header, segments[:1]))
    with pytest.raises(IntegrityFailure):
        decrypt(header)


def test_every_truncation_fails() -> None:
    blob = encrypt(data_of(40))
    for length in range(len(blob)):
        with pytest.raises(IntegrityFailure):
            decrypt(blob[:length])


def test_dropping_a_middle_segment_fails() -> None:
    header, segments = split(encrypt(data_of(4 * SEG)))
    for i in range(len(segments) - 1):
        with pytest.raises(IntegrityFailure):
            decrypt(join(header, segments[:i] + segments[i + 1 :]))


def test_swapping_or_reordering_segments_fails() -> None:
    header, segments = split(encrypt(data_of(4 * SEG)))
    a, b, c, d = segments
    for order in ([b, a, c, d], [a, c, b, d], [a, b, d, c], [d, c, b, a], [b, c, d, a]):
        with pytest.raises(IntegrityFailure):
            decrypt(join(header, order))


def test_duplicating_a_segment_fails() -> None:
    header, segments = split(encrypt(data_of(3 * SEG)))
    a, b, c = segments
    for order in ([a, a, b, c], [a, b, b, c], [a, b, c, c], [a, a, a]):
        with pytest.raises(IntegrityFailure):
            decrypt(join(header, order))


@pytest.mark.parametrize("n", [0, 40, 48])
def test_appending_after_the_last_segment_fails(n: int) -> None:
    blob = encrypt(data_of(n))
    _header, segments = split(blob)
    for garbage in (b"\x00", b"x" * TAG, b"y" * (SEG + TAG), segments[0], segments[-1]):
        with pytest.raises(IntegrityFailure):
            decrypt(blob + garbage)


def test_a_segment_spliced_from_another_file_fails() -> None:
    # same key, same binding, same size: only the stream differs
    first = encrypt(data_of(4 * SEG))
    second = encrypt(bytes(4 * SEG))
    header_1, segments_1 = split(first)
    header_2, segments_2 = split(second)
    for i in range(4):
        spliced = list(segments_1)
        spliced[i] = segments_2[i]
        with pytest.raises(IntegrityFailure):
            decrypt(join(header_1, spliced))
    # nor does the header of one open the body of the other
    with pytest.raises(IntegrityFailure):
        decrypt(join(header_2, segments_1))


@pytest.mark.parametrize(
    "change",
    [
        {"object_id": "fil_other"},
        {"workspace_id": "ws_other"},
        {"project_id": "prj_other"},
        {"purpose": "record"},
    ],
)
def test_a_stream_moved_to_another_binding_fails(change: dict[str, str]) -> None:
    blob = encrypt(data_of(40))
    with pytest.raises(IntegrityFailure):
        decrypt(blob, BINDING._replace(**change))


def test_the_wrong_key_fails() -> None:
    blob = encrypt(data_of(40))
    with pytest.raises(IntegrityFailure):
        decrypt(blob, key_for=lambda _id, _v: OTHER_KEY)


def test_the_lookup_gets_the_key_id_and_version_of_the_header() -> None:
    out = io.BytesIO()
    encrypt_stream(io.BytesIO(b"abc"), out.write, KEY, "prj_k", 12, BINDING, SEG)
    asked: list[tuple[str, int]] = []

    def lookup(key_id: str, version: int) -> SecretKey:
        asked.append((key_id, version))
        return KEY

    assert decrypt(out.getvalue(), key_for=lookup) == b"abc"
    assert asked == [("prj_k", 12)]


def test_objects_and_streams_are_not_interchangeable() -> None:
    sealed = seal(KEY, KEY_ID, 1, BINDING, b"an object")
    with pytest.raises(IntegrityFailure):
        decrypt(sealed)
    with pytest.raises(IntegrityFailure):
        open_sealed(encrypt(b"a stream"), BINDING, any_key)


def test_a_header_claiming_a_huge_segment_size_is_refused_before_reading() -> None:
    blob = encrypt(b"abc")
    head = header_of(blob).length
    huge = (policy.MAX_FILE_SEGMENT_BYTES + 1).to_bytes(4, "big")
    forged = blob[: head - 4] + huge + blob[head:]
    src = RecordingReader(forged)
    with pytest.raises(IntegrityFailure, match="segment size"):
        decrypt_stream(src, lambda _b: None, BINDING, any_key)
    assert max(src.requests) < 1024


# what encrypt_stream writes, decrypt_stream must read ------------------------------------


@pytest.mark.parametrize("segment_size", [0, policy.MAX_FILE_SEGMENT_BYTES + 1])
def test_encrypt_stream_never_writes_a_stream_it_cannot_read_back(segment_size: int) -> None:
    """segment_size 0 silently encrypts nothing; a size above MAX_FILE_SEGMENT_BYTES writes a
    file that decrypt_stream refuses. Either must be refused up front, not lose the data."""
    data = b"customer file contents"
    out = io.BytesIO()
    try:
        size = encrypt_stream(io.BytesIO(data), out.write, KEY, KEY_ID, 1, BINDING, segment_size)
    except (ValueError, IntegrityFailure):
        return  # refused up front: fine
    assert size == len(data), f"encrypt_stream reported {size} bytes for {len(data)}"
    assert decrypt(out.getvalue()) == data


def test_a_read_brings_in_several_segments_not_one() -> None:
    """Files move through the kernel in large reads: 32 segments of 64 KiB are encrypted
    and decrypted in a few reads each, not one (or more) per segment."""
    segments = 32
    data = os.urandom(segments * policy.FILE_SEGMENT_BYTES)
    src = RecordingReader(data)
    out = io.BytesIO()
    encrypt_stream(src, out.write, KEY, KEY_ID, 1, BINDING)
    assert len(src.requests) <= segments // 4
    sealed = RecordingReader(out.getvalue())
    assert decrypt_stream(sealed, io.BytesIO().write, BINDING, any_key) == len(data)
    assert len(sealed.requests) <= segments // 4

"""File streams are stored: the nonce layout the module docstring documents (prefix,
segment number, last flag) is what a reader of stored files relies on, and the size a
stream will take is what the disk really gets, whatever the key id's length."""

from __future__ import annotations

import io
import struct

import pytest

from strongroom.crypto import policy
from strongroom.crypto.envelope import Binding, Header, derive_key, parse_header, seal
from strongroom.crypto.secret import SecretKey
from strongroom.crypto.segments import ciphertext_size, decrypt_stream, encrypt_stream
from strongroom.errors import IntegrityFailure

KEY = SecretKey(bytes(range(32)), "dk-format")
BINDING = Binding("file", "ws_aaaa", "prj_bbbb", "fil_cccc")


def _encrypt(data: bytes, key_id: str = "prj_files", segment_size: int = 16) -> bytes:
    out = io.BytesIO()
    encrypt_stream(io.BytesIO(data), out.write, KEY, key_id, 1, BINDING, segment_size)
    return out.getvalue()


def test_each_segment_opens_with_the_documented_nonce() -> None:
    """nonce = prefix (7 bytes, from the header) | segment number (u32, big-endian) |
    last flag (1 on the last segment, else 0); associated data = header || binding."""
    data = bytes(range(40))  # segments of 16, 16 and 8 bytes
    blob = io.BytesIO(_encrypt(data))
    header = parse_header(blob.read)
    assert len(header.nonce) == 7
    aead = derive_key(KEY, header.salt)
    aad = header.encode() + BINDING.encode()
    chunk = header.segment_size + policy.TAG_BYTES
    plain = []
    for number, last in ((0, 0), (1, 0), (2, 1)):
        nonce = header.nonce + struct.pack(">IB", number, last)
        plain.append(aead.decrypt(nonce, blob.read(chunk), aad))
    assert b"".join(plain) == data and blob.read() == b""


@pytest.mark.parametrize("key_id", ["k", "ab", "abc", "prj_x", "prj_files", "w" * 26, "z" * 40])
@pytest.mark.parametrize("size", [0, 1, 16, 17, 100])
def test_the_size_announced_is_the_size_written(key_id: str, size: int) -> None:
    blob = _encrypt(b"s" * size, key_id)
    assert len(blob) == ciphertext_size(size, key_id, 16)


@pytest.mark.parametrize("segment_size", [1, 2, policy.MAX_FILE_SEGMENT_BYTES])
def test_any_segment_size_from_1_byte_to_the_maximum_round_trips(segment_size: int) -> None:
    data = b"abcde"
    out = io.BytesIO()
    size = decrypt_stream(
        io.BytesIO(_encrypt(data, segment_size=segment_size)), out.write, BINDING, lambda *_: KEY
    )
    assert (size, out.getvalue()) == (5, data)


@pytest.mark.parametrize("segment_size", [0, -1, -16, policy.MAX_FILE_SEGMENT_BYTES + 1])
def test_an_impossible_segment_size_is_refused_before_writing(segment_size: int) -> None:
    written: list[bytes] = []
    with pytest.raises(ValueError, match="segment size"):
        encrypt_stream(io.BytesIO(b"x"), written.append, KEY, "k", 1, BINDING, segment_size)
    assert written == []


def test_a_sealed_object_is_not_read_as_a_file_stream() -> None:
    sealed = seal(KEY, "prj_files", 1, BINDING, b"a record, not a file")
    with pytest.raises(IntegrityFailure, match="an object, not a stream"):
        decrypt_stream(io.BytesIO(sealed), lambda _b: None, BINDING, lambda *_: KEY)


@pytest.mark.parametrize("claimed", [0, policy.MAX_FILE_SEGMENT_BYTES + 1])
def test_a_stream_claiming_an_impossible_segment_size_is_refused(claimed: int) -> None:
    blob = io.BytesIO(_encrypt(b"abc"))
    header = parse_header(blob.read)
    forged = Header(
        header.kind, header.key_id, header.key_version, header.salt, header.nonce, claimed
    )
    stream = io.BytesIO(forged.encode() + blob.read())
    with pytest.raises(IntegrityFailure, match="impossible segment size"):
        decrypt_stream(stream, lambda _b: None, BINDING, lambda *_: KEY)


def test_the_kind_byte_of_a_stream_is_2() -> None:
    assert _encrypt(b"abc")[3] == 2


def test_a_file_of_many_segments_round_trips() -> None:
    data = bytes(range(256)) * 2  # 512 one-byte segments
    out = io.BytesIO()
    blob = _encrypt(data, segment_size=1)
    assert decrypt_stream(io.BytesIO(blob), out.write, BINDING, lambda *_: KEY) == len(data)
    assert out.getvalue() == data

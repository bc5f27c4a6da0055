"""Opening a sealed object checks which key it names: a ciphertext naming another key is
refused before any key is fetched, with or without the derived-key cache; and objects
sealed under key ids of every length open (the nonce is found after the header)."""

from __future__ import annotations

import io
from collections.abc import Hashable

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from strongroom.crypto.envelope import Binding, Sealer, header_of, open_sealed, seal
from strongroom.crypto.secret import SecretKey
from strongroom.crypto.segments import encrypt_stream
from strongroom.errors import IntegrityFailure

KEY = SecretKey(bytes(range(32)), "dk-keys")
BINDING = Binding("record", "ws_aaaa", "prj_bbbb", "rec_cccc")


class Cache:
    """A plain dict behind the DerivedKeys protocol."""

    def __init__(self) -> None:
        self.entries: dict[Hashable, AESGCM] = {}

    def get(self, name: Hashable) -> AESGCM | None:
        return self.entries.get(name)

    def put(self, name: Hashable, aead: AESGCM, key_id: str, key_version: int) -> None:
        self.entries[name] = aead


@pytest.mark.parametrize("cached", [False, True])
def test_an_object_opens_only_as_the_key_it_names(cached: bool) -> None:
    sealed = seal(KEY, "prj_mine", 1, BINDING, b"payload")
    asked: list[str] = []

    def key_for(key_id: str, _version: int) -> SecretKey:
        asked.append(key_id)
        return KEY

    cache = Cache() if cached else None
    for _ in range(2):  # the second time from the cache, when there is one
        opened = open_sealed(sealed, BINDING, key_for, expected_key_id="prj_mine", derived=cache)
        assert opened == b"payload"
    asked.clear()
    with pytest.raises(IntegrityFailure, match="names another key"):
        open_sealed(sealed, BINDING, key_for, expected_key_id="prj_other", derived=cache)
    assert asked == []


@pytest.mark.parametrize("length", range(1, 24))
def test_objects_under_key_ids_of_any_length_open(length: int) -> None:
    key_id = "k" * length
    sealed = seal(KEY, key_id, 3, BINDING, b"x" * length)
    assert open_sealed(sealed, BINDING, lambda *_: KEY, expected_key_id=key_id) == b"x" * length
    fetched: list[str] = []

    def key_for(key_id: str, _version: int) -> SecretKey:
        fetched.append(key_id)
        return KEY

    cache = Cache()
    for _ in range(3):
        assert open_sealed(sealed, BINDING, key_for, derived=cache) == b"x" * length
    assert fetched == [key_id]  # after the first, the cached derived key is used


def test_a_truncated_object_is_named_truncated() -> None:
    sealed = seal(KEY, "prj_mine", 1, BINDING, b"payload")
    for cut in (len(sealed) - len(b"payload") - 1, len(sealed) - len(b"payload") - 15):
        with pytest.raises(IntegrityFailure, match="truncated"):
            open_sealed(sealed[:cut], BINDING, lambda *_: KEY)


def test_the_kind_byte_tells_objects_from_streams() -> None:
    """Stored: byte 3 of every header is 1 for an object (2 for a file stream)."""
    sealed = seal(KEY, "prj_mine", 1, BINDING, b"payload")
    assert sealed[3] == 1


def test_an_unknown_format_version_is_named() -> None:
    sealed = bytearray(seal(KEY, "prj_mine", 1, BINDING, b"payload"))
    sealed[2] = 9  # byte 2: the format version
    with pytest.raises(IntegrityFailure, match=r"unsupported ciphertext format version 9$"):
        open_sealed(bytes(sealed), BINDING, lambda *_: KEY)


@pytest.mark.parametrize("expected", ["prj_a", "prj_mine2", "prj_zzz", "prj_min"])
def test_any_other_key_id_is_refused_whichever_way_it_sorts(expected: str) -> None:
    sealed = seal(KEY, "prj_mine", 1, BINDING, b"payload")
    with pytest.raises(IntegrityFailure, match="names another key"):
        open_sealed(sealed, BINDING, lambda *_: KEY, expected_key_id=expected)


def test_a_file_stream_is_not_opened_as_an_object() -> None:
    stream = io.BytesIO()
    encrypt_stream(io.BytesIO(b"file"), stream.write, KEY, "prj_mine", 1, BINDING, 16)
    with pytest.raises(IntegrityFailure, match="a stream, not an object"):
        open_sealed(stream.getvalue(), BINDING, lambda *_: KEY)


@pytest.mark.parametrize("garbage", [b"", b"S", b"SR", b"SR\x01", b"SR\x01\x01"])
def test_a_few_bytes_of_garbage_are_an_integrity_failure_with_the_cache_too(
    garbage: bytes,
) -> None:
    with pytest.raises(IntegrityFailure):
        open_sealed(garbage, BINDING, lambda *_: KEY, derived=Cache())


def test_a_derived_key_seals_at_most_4096_objects() -> None:
    """Random 96-bit nonces stay safe only for a bounded number of messages per key."""
    sealer = Sealer(KEY, "prj_mine", 1)
    salts = [header_of(sealer.seal(BINDING, b"r")).salt for _ in range(4096 * 2 + 1)]
    assert len(set(salts[:4096])) == 1
    assert len(set(salts)) == 3 and salts[4095] != salts[4096]

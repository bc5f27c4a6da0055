"""Sealed objects (crypto/envelope.py): what a caller relies on.

A sealed object opens only with the right key, under the binding it was sealed for,
byte for byte as written; anything else is an IntegrityFailure.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from strongroom.crypto import envelope, policy
from strongroom.crypto.envelope import Binding, Sealer, header_of, open_sealed, seal
from strongroom.crypto.secret import SecretKey
from strongroom.errors import IntegrityFailure

KEY = SecretKey(bytes(range(32)), "dk-test")
OTHER_KEY = SecretKey(bytes(range(100, 132)), "dk-other")
KEY_ID = "prj_test"
BINDING = Binding("record", "ws_aaaa", "prj_bbbb", "rec_cccc")
LARGE = bytes(range(256)) * 400  # 100 KiB


def any_key(_key_id: str, _version: int) -> SecretKey:
    """A lookup that always hands out the key: so only the cryptography can refuse."""
    return KEY


def flip(data: bytes, position: int, mask: int = 0x01) -> bytes:
    out = bytearray(data)
    out[position] ^= mask
    return bytes(out)


# round trip ------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(plaintext=st.binary(max_size=4096))
@example(plaintext=b"")
@example(plaintext=LARGE)
def test_seal_then_open_returns_the_plaintext(plaintext: bytes) -> None:
    sealed = seal(KEY, KEY_ID, 3, BINDING, plaintext)
    assert open_sealed(sealed, BINDING, any_key) == plaintext


def test_sealed_object_does_not_contain_the_plaintext_and_differs_each_time() -> None:
    plaintext = b"alice@example.com alice@example.com alice@example.com"
    first = seal(KEY, KEY_ID, 1, BINDING, plaintext)
    second = seal(KEY, KEY_ID, 1, BINDING, plaintext)
    assert plaintext not in first
    assert b"alice@example.com" not in first
    assert first != second
    assert len(first) == header_of(first).length + len(plaintext) + policy.TAG_BYTES


# tampering -------------------------------------------------------------------------------


@pytest.mark.parametrize("mask", [0x01, 0x80, 0xFF])
def test_flipping_any_byte_of_a_short_object_is_an_integrity_failure(mask: int) -> None:
    sealed = seal(KEY, KEY_ID, 1, BINDING, b"hi")
    assert open_sealed(sealed, BINDING, any_key) == b"hi"
    for position in range(len(sealed)):
        with pytest.raises(IntegrityFailure):
            open_sealed(flip(sealed, position, mask), BINDING, any_key)


@settings(max_examples=100, deadline=None)
@given(
    plaintext=st.binary(min_size=1, max_size=3000),
    where=st.floats(min_value=0, max_value=1, exclude_max=True),
    mask=st.integers(min_value=1, max_value=255),
)
def test_flipping_any_byte_of_a_longer_object_is_an_integrity_failure(
    plaintext: bytes, where: float, mask: int
) -> None:
    sealed = seal(KEY, KEY_ID, 7, BINDING, plaintext)
    position = int(where * len(sealed))
    with pytest.raises(IntegrityFailure):
        open_sealed(flip(sealed, position, mask), BINDING, any_key)


def test_every_truncation_and_any_extension_is_an_integrity_failure() -> None:
    sealed = seal(KEY, KEY_ID, 1, BINDING, b"some record")
    for length in range(len(sealed)):
        with pytest.raises(IntegrityFailure):
            open_sealed(sealed[:length], BINDING, any_key)
    for suffix in (b"\x00", b"garbage", sealed[-16:]):
        with pytest.raises(IntegrityFailure):
            open_sealed(sealed + suffix, BINDING, any_key)


def test_empty_input_and_foreign_bytes_are_integrity_failures() -> None:
    for junk in (b"", b"SR", b"not a ciphertext at all, but long enough to parse" * 2):
        with pytest.raises(IntegrityFailure):
            open_sealed(junk, BINDING, any_key)


# misplacement ----------------------------------------------------------------------------


def test_swapping_ciphertexts_between_two_records_fails() -> None:
    binding_a = BINDING
    binding_b = BINDING._replace(object_id="rec_dddd")
    sealed_a = seal(KEY, KEY_ID, 1, binding_a, b"record a")
    sealed_b = seal(KEY, KEY_ID, 1, binding_b, b"record b")
    assert open_sealed(sealed_a, binding_a, any_key) == b"record a"
    assert open_sealed(sealed_b, binding_b, any_key) == b"record b"
    with pytest.raises(IntegrityFailure) as failure:
        open_sealed(sealed_a, binding_b, any_key)
    assert failure.value.ids.get("object_id") == "rec_dddd"
    with pytest.raises(IntegrityFailure):
        open_sealed(sealed_b, binding_a, any_key)
    # nor can the header of one be combined with the body of the other
    head_a, head_b = header_of(sealed_a).length, header_of(sealed_b).length
    with pytest.raises(IntegrityFailure):
        open_sealed(sealed_a[:head_a] + sealed_b[head_b:], binding_a, any_key)


@pytest.mark.parametrize(
    "change",
    [
        {"workspace_id": "ws_other"},
        {"project_id": "prj_other"},
        {"purpose": "file-name"},
        {"object_id": "rec_other"},
        # the same characters, split differently between the parts
        {"workspace_id": "ws_aaaaprj_bbbb", "project_id": ""},
        {"project_id": "prj_bbbbrec_cccc", "object_id": ""},
    ],
)
def test_a_different_binding_fails(change: dict[str, str]) -> None:
    sealed = seal(KEY, KEY_ID, 1, BINDING, b"payload")
    with pytest.raises(IntegrityFailure):
        open_sealed(sealed, BINDING._replace(**change), any_key)


@settings(max_examples=50, deadline=None)
@given(
    parts=st.tuples(
        st.text(max_size=8), st.text(max_size=8), st.text(max_size=8), st.text(max_size=8)
    ),
    other=st.tuples(
        st.text(max_size=8), st.text(max_size=8), st.text(max_size=8), st.text(max_size=8)
    ),
)
def test_any_two_distinct_bindings_do_not_open_each_others_objects(
    parts: tuple[str, str, str, str], other: tuple[str, str, str, str]
) -> None:
    first, second = Binding(*parts), Binding(*other)
    sealed = seal(KEY, KEY_ID, 1, first, b"x")
    if first == second:
        assert open_sealed(sealed, second, any_key) == b"x"
    else:
        with pytest.raises(IntegrityFailure):
            open_sealed(sealed, second, any_key)


def test_the_wrong_key_fails() -> None:
    sealed = seal(KEY, KEY_ID, 1, BINDING, b"payload")
    with pytest.raises(IntegrityFailure):
        open_sealed(sealed, BINDING, lambda _id, _version: OTHER_KEY)


# the header ------------------------------------------------------------------------------


def test_the_key_lookup_receives_the_key_id_and_version_of_the_header() -> None:
    asked: list[tuple[str, int]] = []

    def lookup(key_id: str, version: int) -> SecretKey:
        asked.append((key_id, version))
        return KEY

    sealed = seal(KEY, "prj_lookup", 4_000_000_001, BINDING, b"payload")
    header = header_of(sealed)
    assert (header.key_id, header.key_version) == ("prj_lookup", 4_000_000_001)
    assert open_sealed(sealed, BINDING, lookup) == b"payload"
    assert asked == [("prj_lookup", 4_000_000_001)]


def test_a_key_lookup_refusal_propagates_and_nothing_is_decrypted() -> None:
    sealed = seal(KEY, KEY_ID, 2, BINDING, b"payload")

    def refuse(key_id: str, version: int) -> SecretKey:
        raise IntegrityFailure(f"unexpected key {key_id} v{version}")

    with pytest.raises(IntegrityFailure, match="unexpected key prj_test v2"):
        open_sealed(sealed, BINDING, refuse)


@pytest.mark.parametrize("version", [0, policy.FORMAT_VERSION + 1, 255])
def test_an_unknown_format_version_is_refused(version: int) -> None:
    sealed = seal(KEY, KEY_ID, 1, BINDING, b"payload")
    assert sealed[:2] == b"SR" and sealed[2] == policy.FORMAT_VERSION
    changed = sealed[:2] + bytes([version]) + sealed[3:]
    with pytest.raises(IntegrityFailure, match="version"):
        open_sealed(changed, BINDING, any_key)
    with pytest.raises(IntegrityFailure):
        header_of(changed)


def test_header_of_reports_what_was_sealed() -> None:
    sealed = seal(KEY, "prj_hdr", 9, BINDING, b"payload")
    header = header_of(sealed)
    assert header.kind == envelope.KIND_OBJECT
    assert header.key_id == "prj_hdr"
    assert header.key_version == 9
    assert len(header.salt) == policy.SALT_BYTES
    assert len(header.nonce) == policy.NONCE_BYTES
    assert header.length == 5 + len("prj_hdr") + 4 + policy.SALT_BYTES + policy.NONCE_BYTES


# the Sealer: salts and nonces ------------------------------------------------------------


def test_every_object_of_a_batch_has_its_own_nonce_and_opens() -> None:
    sealer = Sealer(KEY, KEY_ID, 1)
    bindings = [BINDING._replace(object_id=f"rec_{i}") for i in range(600)]
    sealed = [sealer.seal(b, f"doc {i}".encode()) for i, b in enumerate(bindings)]
    nonces = {header_of(s).nonce for s in sealed}
    assert len(nonces) == len(sealed)
    for i, (b, s) in enumerate(zip(bindings, sealed, strict=True)):
        assert open_sealed(s, b, any_key) == f"doc {i}".encode()


@pytest.mark.parametrize("limit,count", [(3, 10), (4, 8), (1, 5)])
def test_the_sealer_derives_a_new_salt_after_the_policy_limit(
    monkeypatch: pytest.MonkeyPatch, limit: int, count: int
) -> None:
    monkeypatch.setattr(envelope, "MAX_OBJECTS_PER_DERIVED_KEY", limit)
    sealer = Sealer(KEY, KEY_ID, 1)
    sealed = [sealer.seal(BINDING, bytes([i])) for i in range(count)]
    salts = [header_of(s).salt for s in sealed]
    # consecutive runs of one salt, each at most `limit` long, a new salt for every run
    runs = [salts[i : i + limit] for i in range(0, count, limit)]
    for run in runs:
        assert len(set(run)) == 1
    assert len({run[0] for run in runs}) == math.ceil(count / limit)
    for i, s in enumerate(sealed):
        assert open_sealed(s, BINDING, any_key) == bytes([i])


def test_the_default_limit_keeps_one_salt_for_a_normal_batch() -> None:
    sealer = Sealer(KEY, KEY_ID, 1)
    salts = {header_of(sealer.seal(BINDING, b"x")).salt for _ in range(50)}
    assert len(salts) == 1
    # far below the 2^32 random-nonce bound of AES-GCM
    assert 1 < policy.MAX_OBJECTS_PER_DERIVED_KEY <= 2**32 // 1024


def test_two_write_operations_use_different_salts() -> None:
    first = Sealer(KEY, KEY_ID, 1).seal(BINDING, b"x")
    second = Sealer(KEY, KEY_ID, 1).seal(BINDING, b"x")
    assert header_of(first).salt != header_of(second).salt


def test_sealer_repr_has_no_key_material() -> None:
    text = repr(Sealer(KEY, KEY_ID, 1))
    assert KEY.reveal().hex() not in text
    assert KEY_ID in text

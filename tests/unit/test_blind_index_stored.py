"""Blind-index digests are stored: the same value must give the same digest in every
release, and each field name picks the normal form its values are compared in.

The digest is recomputed here from the documented construction (HKDF-SHA256 of the
workspace data key per field, HMAC-SHA256 of the normal form, first 16 bytes), and pinned
as bytes, so a change that would orphan existing indexes fails."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from strongroom.crypto.blind_index import BlindIndexer
from strongroom.crypto.secret import SecretKey

KEY = bytes(range(32))
INDEXER = BlindIndexer(SecretKey(KEY, "ws-pinned"))


def _documented(field: str, normal_form: str) -> bytes:
    info = b"strongroom/v1/blind-index/" + field.encode()
    field_key = HKDF(hashes.SHA256(), 32, salt=None, info=info).derive(KEY)
    return hmac.new(field_key, normal_form.encode(), hashlib.sha256).digest()[:16]


def test_a_digest_is_the_documented_construction() -> None:
    assert INDEXER.digest("email", " Ada@Example.com ") == _documented("email", "ada@example.com")
    assert INDEXER.digest("phone", "+44 20 7946 0321") == _documented("phone", "+442079460321")
    assert INDEXER.digest("name", "STRASSE") == _documented("name", "strasse")


def test_a_digest_is_pinned() -> None:
    """Recorded once from this construction; it may never change."""
    assert INDEXER.digest("email", "ada@example.com").hex() == "9869eed36f5e398eeb600fdb0fe0dcd1"


@pytest.mark.parametrize("field", ["email", "work_email"])
def test_email_fields_keep_sharp_s_apart_from_ss(field: str) -> None:
    assert INDEXER.digest(field, "stra\u00dfe@example.com") != INDEXER.digest(
        field, "strasse@example.com"
    )
    assert INDEXER.digest(field, "Stra\u00dfe@Example.com") == INDEXER.digest(
        field, "stra\u00dfe@example.com"
    )


@pytest.mark.parametrize("field", ["city", "address", "employer", "name", "street"])
def test_other_text_fields_fold_case_fully(field: str) -> None:
    """Fields whose names sort before "email" or after "phone" are neither."""
    assert INDEXER.digest(field, "STRASSE") == INDEXER.digest(field, "stra\u00dfe")


@pytest.mark.parametrize("field", ["street", "zip", "postcode", "website"])
def test_fields_that_are_not_phones_keep_their_letters(field: str) -> None:
    assert INDEXER.digest(field, "Baker Street 221") != INDEXER.digest(field, "221")


def test_a_kind_digest_is_the_documented_construction_and_pinned() -> None:
    """Records' personal fields: one key per kind, over the kind's canonical form."""
    info = b"strongroom/v1/blind-index/kind:email"
    kind_key = HKDF(hashes.SHA256(), 32, salt=None, info=info).derive(KEY)
    expected = hmac.new(kind_key, b"ada@example.com", hashlib.sha256).digest()[:16]
    assert INDEXER.kind_digest("email", "ada@example.com") == expected
    assert expected.hex() == "2c632cb242fec5e065c6931dedd40e6d"  # recorded once; never changes
    # one kind's key is not another's, nor a field's of the same name
    assert INDEXER.kind_digest("name", "ada@example.com") != expected
    assert INDEXER.digest("email", "ada@example.com") != expected

"""Blind indexes (crypto/blind_index.py): equality search without decryption.

Equal values (up to case, spacing and Unicode form) must meet; different values,
fields or workspaces must not.
"""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.crypto import policy
from strongroom.crypto.blind_index import BlindIndexer, normalise
from strongroom.crypto.secret import SecretKey

KEY_A = SecretKey(bytes(range(32)), "ws-a")
KEY_B = SecretKey(bytes(range(1, 33)), "ws-b")
INDEXER = BlindIndexer(KEY_A)


@pytest.mark.parametrize(
    "field,first,second",
    [
        ("email", "Alice@Example.COM", "alice@example.com"),
        ("email", "  alice@example.com\t\n", "alice@example.com"),
        ("name", "Jean   Dupont", "jean dupont"),
        ("name", "Jean\u00a0Dupont", "jean dupont"),  # no-break space
        ("name", "Jean\u2003Dupont", "JEAN DUPONT"),  # em space
        ("name", "\uff2a\uff45\uff41\uff4e", "jean"),  # fullwidth forms (NFKC)
        ("name", "\ufb01ona", "fiona"),  # the "fi" ligature (NFKC)
        ("name", "Ame\u0301lie", "Am\u00e9lie"),  # combining accent vs precomposed
        ("name", "\u212bngstr\u00f6m", "\u00e5ngstr\u00f6m"),  # Angstrom sign vs a-ring
        ("name", "STRASSE", "stra\u00dfe"),  # casefold, not lower
        ("phone", "+44 20 7946 0321", "+442079460321"),
        ("phone", "+44 (20) 7946-0321", "+442079460321"),
        ("phone", "+44.20.7946.0321", "+442079460321"),
        ("mobile_phone", "+44 20 7946 0321", "+442079460321"),
        (  # fullwidth plus and digits (NFKC)
            "phone",
            "\uff0b\uff14\uff14 \uff12\uff10 \uff17\uff19\uff14\uff16 \uff10\uff13\uff12\uff11",
            "+442079460321",
        ),
    ],
)
def test_equal_values_in_other_forms_have_the_same_digest(
    field: str, first: str, second: str
) -> None:
    assert INDEXER.digest(field, first) == INDEXER.digest(field, second)


@pytest.mark.parametrize(
    "field,first,second",
    [
        ("email", "alice@example.com", "alice@example.org"),
        ("email", "alice@example.com", "alice.b@example.com"),
        ("name", "jean dupont", "jeandupont"),  # spacing inside a value matters
        ("name", "amelie", "am\u00e9lie"),  # accents are not stripped
        ("phone", "+442079460321", "+442079460322"),
        ("phone", "+442079460321", "442079460321"),
        # two phone numbers written with Arabic-Indic digits: today both normalise to "+"
        pytest.param(
            "phone",
            "+\u0664\u0664 \u0662\u0660 \u0667\u0669\u0664\u0666 \u0660\u0663\u0662\u0661",
            "+\u0664\u0664 \u0662\u0660 \u0667\u0669\u0664\u0666 \u0660\u0663\u0662\u0662",
            id="phone-arabic-indic-digits",
        ),
    ],
)
def test_different_values_have_different_digests(field: str, first: str, second: str) -> None:
    assert INDEXER.digest(field, first) != INDEXER.digest(field, second), (
        f"{first!r} and {second!r} normalise to {normalise(field, first)!r} and "
        f"{normalise(field, second)!r}"
    )


@settings(max_examples=100, deadline=None)
@given(value=st.text(max_size=30), form=st.sampled_from(["NFC", "NFD", "NFKC", "NFKD"]))
def test_unicode_normal_forms_of_a_value_share_a_digest(value: str, form: str) -> None:
    other = unicodedata.normalize(form, value)
    assert INDEXER.digest("name", value) == INDEXER.digest("name", other)


@settings(max_examples=100, deadline=None)
@given(
    words=st.lists(
        st.text(
            alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@.-",
            min_size=1,
            max_size=8,
        ),
        min_size=1,
        max_size=4,
    ),
    gaps=st.lists(st.sampled_from([" ", "  ", "\t", "\n", " \t "]), min_size=5, max_size=5),
)
def test_case_and_whitespace_do_not_matter_for_ascii_text(
    words: list[str], gaps: list[str]
) -> None:
    canonical = " ".join(w.lower() for w in words)
    # words upper-cased, separated (and surrounded) by runs of assorted whitespace
    messy = gaps[0] + "".join(w.upper() + gaps[1 + i % 4] for i, w in enumerate(words))
    assert INDEXER.digest("email", messy) == INDEXER.digest("email", canonical)


def test_different_fields_give_different_digests_for_the_same_value() -> None:
    value = "alice@example.com"
    digests = {INDEXER.digest(f, value) for f in ("email", "contact", "backup_email", "name")}
    assert len(digests) == 4


def test_different_workspace_keys_give_different_digests() -> None:
    other = BlindIndexer(KEY_B)
    for field, value in (("email", "alice@example.com"), ("phone", "+442079460321")):
        assert INDEXER.digest(field, value) != other.digest(field, value)
    # and one key always gives the same digest (it is an index, not a random tag)
    again = BlindIndexer(SecretKey(KEY_A.reveal(), "ws-a again"))
    assert again.digest("email", "alice@example.com") == INDEXER.digest(
        "email", "alice@example.com"
    )


def test_digest_is_policy_length_and_hides_the_value() -> None:
    digest = INDEXER.digest("email", "alice@example.com")
    assert isinstance(digest, bytes)
    assert len(digest) == policy.BLIND_INDEX_BYTES
    assert len(INDEXER.digest("email", "")) == policy.BLIND_INDEX_BYTES
    assert len(INDEXER.digest("email", "x" * 10_000)) == policy.BLIND_INDEX_BYTES
    assert b"alice" not in digest


def test_indexer_repr_has_no_key_material() -> None:
    text = repr(INDEXER) + str(INDEXER)
    assert KEY_A.reveal().hex() not in text
    assert "redacted" in text

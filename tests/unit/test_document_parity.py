"""Stored record documents are parsed back with orjson (rules.decode_document), not the
standard library: both must agree on every document the write path lets through, and the
write path must refuse what they would read differently."""

from __future__ import annotations

import json
import math
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.domain import rules
from strongroom.errors import InvalidInput, MalformedDocument

LIMIT = 1024 * 1024

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-rules.MAX_DOCUMENT_INT, rules.MAX_DOCUMENT_INT)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)
_documents = st.dictionaries(st.text(), _values, max_size=6)


def _both(data: bytes) -> tuple[Any, Any]:
    return rules.decode_document(data), json.loads(data)


def _same(a: Any, b: Any) -> bool:
    """Equal, with the same types all the way down (1 and 1.0 are ==, and -0.0 == 0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return bool(a == b)


@settings(max_examples=400, deadline=None)
@given(_documents)
def test_every_storable_document_reads_back_the_same_with_both_parsers(doc: Any) -> None:
    try:
        data = rules.encode_document(doc, LIMIT)
    except MalformedDocument:  # lone surrogates: refused, never stored
        return
    ours, theirs = _both(data)
    assert _same(ours, theirs)
    assert _same(ours, json.loads(json.dumps(doc, sort_keys=True)))  # what was put, keys sorted


@pytest.mark.parametrize(
    "value",
    [
        rules.MAX_DOCUMENT_INT,
        -rules.MAX_DOCUMENT_INT,
        2**53 - 1,
        0,
        -0.0,
        0.1,
        1e-320,  # subnormal
        5e-324,
        1.7976931348623157e308,
        2.0**63,
        123456789.12345679,
        'é ü 中文 😀 \u2028 \x00 \\ " /',
        "\U0010ffff",
        [],
        {},
        [[[[{"deep": [1, 2.5, None, True, False]}]]]],
    ],
)
def test_edge_values_read_back_the_same(value: Any) -> None:
    ours, theirs = _both(rules.encode_document({"v": value, "k": [value]}, LIMIT))
    assert _same(ours, theirs)
    assert _same(ours["v"], value)


@pytest.mark.parametrize(
    "value",
    [
        2**53 + 1,  # orjson would still read this exactly; JavaScript would not
        2**64,  # orjson would read this as a float
        -(2**63) - 1,
        10**30,
        math.nan,
        math.inf,
        -math.inf,
        "\ud800",  # orjson refuses a lone surrogate
    ],
)
def test_what_the_parsers_would_read_differently_is_never_stored(value: Any) -> None:
    with pytest.raises(MalformedDocument):
        rules.encode_document({"v": value}, LIMIT)
    with pytest.raises(MalformedDocument):
        rules.encode_document({"a": [{"v": value}]}, LIMIT)


def test_the_parsers_differ_exactly_where_the_write_path_refuses() -> None:
    """The reason for the refusals above: what each parser makes of such text."""
    assert json.loads(b'{"v":18446744073709551616}')["v"] == 2**64
    assert isinstance(orjson.loads(b'{"v":18446744073709551616}')["v"], float)
    assert math.isnan(json.loads(b'{"v":NaN}')["v"])
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(b'{"v":NaN}')
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(b'{"v":"\\ud800"}')


def test_a_repeated_key_never_reaches_storage() -> None:
    """Callers' JSON naming a key twice is refused before anything is stored (a dict cannot
    hold one key twice, so encode_document never writes one); were such bytes stored, both
    parsers would keep the last value alike."""
    with pytest.raises(InvalidInput, match="more than once"):
        rules.parse_document('{"role": "viewer", "role": "owner"}', LIMIT)
    ours, theirs = _both(b'{"a":1,"a":2}')
    assert ours == theirs == {"a": 2}


def test_keys_stay_sorted_and_text_keys_as_json_makes_them() -> None:
    data = rules.encode_document({"b": 1, "a": {"d": 2, "c": 3}, "é": 0}, LIMIT)
    ours, theirs = _both(data)
    assert list(ours) == list(theirs) == ["a", "b", "é"]
    assert list(ours["a"]) == ["c", "d"]
    numbered = rules.encode_document({1: "one", 2: "two"}, LIMIT)  # stored as JSON does
    assert rules.decode_document(numbered) == json.loads(numbered) == {"1": "one", "2": "two"}
